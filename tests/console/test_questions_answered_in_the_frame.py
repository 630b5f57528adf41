"""A question the workflow says the customer answers in the frame: the page
gets a field or the choices with the question, the customer's answer is kept
beside the operator's note, and every answer that does not fit the question
shown to this very customer now is refused with a clear error."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from operators.compliance.review_display import step_data_rows
from sessions_app.models import AuditEvent
from sessions_app.selectors import call_state_for_customer
from tests.console.helpers import customer_browser, step_post
from workflows.models import WorkflowTemplate
from workflows.services import MAX_ANSWER_CHARS

BIRTH = {"ask": {"en": "What is your date of birth?", "de": "Wie lautet Ihr Geburtsdatum?"}, "answer": "typed"}
PURPOSE = {
    "ask": "Why are you opening this account?",
    "answer": "choice",
    "choices": [{"en": "Savings", "de": "Sparen"}, "Salary", "Business"],
}
SPOKEN = "Where were you born?"


@pytest.fixture
def frame_questions(answered_call):
    # Set-up only: the participant's copy of the step asks in the frame.
    step = answered_call.participant.steps.get(kind="questions")
    step.config = {**step.config, "questions": [BIRTH, PURPOSE, SPOKEN]}
    step.save(update_fields=["config"])
    return step


@pytest.fixture
def customer(answered_call):
    return customer_browser(answered_call.link_token)


def _prompt(call):
    return call_state_for_customer(participant_id=call.participant.pk)["me"]["prompt"]


def _send(customer, prompt, **fields):
    return customer.post(reverse("workflows:question_answer"), {"prompt": prompt["id"], "question": prompt["question"], **fields})


def _start(alice, call):
    step_post(alice, call.session, call.participant, "questions", "start")
    return _prompt(call)


def test_a_typed_question_reaches_the_page_with_its_texts_and_how_to_answer(alice, answered_call, frame_questions):
    prompt = _start(alice, answered_call)
    assert prompt["code"] == "question"
    assert (prompt["question"], prompt["answer"]) == (0, "typed")
    # The page picks its own language's text: every language rides along.
    assert prompt["texts"] == BIRTH["ask"] and prompt["lang"] == "en"
    assert "choices" not in prompt


def test_the_customers_typed_answer_is_kept_and_shown_to_the_operator_and_the_page(
    alice, answered_call, frame_questions, customer
):
    prompt = _start(alice, answered_call)
    response = _send(customer, prompt, answer="  17 May 1980 ")
    assert response.status_code == 200, response.content
    frame_questions.refresh_from_db()
    assert frame_questions.data["customer_answers"]["0"]["text"] == "17 May 1980"
    # The page says what it sent, after a reload too; the question stays until the operator moves on.
    assert _prompt(answered_call)["answered"] == {"text": "17 May 1980"}
    assert AuditEvent.objects.filter(action="question.answered_by_customer", data={"step": frame_questions.position, "question": 0}).exists()
    # The customer may correct it until then.
    assert _send(customer, _prompt(answered_call), answer="18 May 1980").status_code == 200
    frame_questions.refresh_from_db()
    assert frame_questions.data["customer_answers"]["0"]["text"] == "18 May 1980"


def test_a_choice_question_offers_its_choices_and_keeps_the_chosen_one(alice, answered_call, frame_questions, customer):
    _start(alice, answered_call)
    step_post(alice, answered_call.session, answered_call.participant, "questions", "answer", question=0, answer="")
    prompt = _prompt(answered_call)
    assert (prompt["question"], prompt["answer"]) == (1, "choice")
    assert [choice["text"] for choice in prompt["choices"]] == ["Savings", "Salary", "Business"]
    assert prompt["choices"][0]["texts"] == {"en": "Savings", "de": "Sparen"}

    assert _send(customer, prompt, choice="2").status_code == 200
    frame_questions.refresh_from_db()
    assert frame_questions.data["customer_answers"]["1"]["choice"] == 2


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"choice": "0"}, "wrong_answer_kind"),  # a choice for a typed question
        ({"answer": "   "}, "empty_answer"),
        ({}, "wrong_answer_kind"),
    ],
)
def test_an_answer_that_does_not_fit_a_typed_question_is_refused(alice, answered_call, frame_questions, customer, fields, code):
    prompt = _start(alice, answered_call)
    response = _send(customer, prompt, **fields)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == code
    frame_questions.refresh_from_db()
    assert "customer_answers" not in frame_questions.data


@pytest.mark.parametrize(("fields", "code"), [({"choice": "3"}, "unknown_choice"), ({"choice": "-1"}, "unknown_choice"), ({"answer": "Savings"}, "wrong_answer_kind")])
def test_a_choice_not_offered_is_refused(alice, answered_call, frame_questions, customer, fields, code):
    _start(alice, answered_call)
    step_post(alice, answered_call.session, answered_call.participant, "questions", "answer", question=0, answer="")
    response = _send(customer, _prompt(answered_call), **fields)
    assert (response.status_code, response.json()["error"]["code"]) == (409, code)


def test_a_spoken_question_is_not_answered_in_the_frame(alice, answered_call, frame_questions, customer):
    prompt = _start(alice, answered_call)
    step_post(alice, answered_call.session, answered_call.participant, "questions", "answer", question=0, answer="")
    step_post(alice, answered_call.session, answered_call.participant, "questions", "answer", question=1, answer="")
    spoken = _prompt(answered_call)
    assert spoken["text"] == SPOKEN and "answer" not in spoken and "question" not in spoken
    response = customer.post(reverse("workflows:question_answer"), {"prompt": spoken["id"], "question": 2, "answer": "Bonn"})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "stale_prompt")
    # Nor an earlier question once the operator moved on.
    response = _send(customer, prompt, answer="17 May 1980")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "stale_prompt")


def test_a_forged_prompt_or_question_number_is_refused(alice, answered_call, frame_questions, customer):
    prompt = _start(alice, answered_call)
    for forged in ({**prompt, "id": prompt["id"] + 1}, {**prompt, "question": 1}):
        response = _send(customer, forged, answer="x")
        assert (response.status_code, response.json()["error"]["code"]) == (409, "stale_prompt")
    response = customer.post(reverse("workflows:question_answer"), {"prompt": "one", "question": 0, "answer": "x"})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid")
    assert customer.get(reverse("workflows:question_answer")).status_code == 405


def test_another_customers_browser_cannot_answer_for_this_one(alice, answered_call, frame_questions, other_call):
    prompt = _start(alice, answered_call)
    stranger = customer_browser(other_call.link_token)
    response = _send(stranger, prompt, answer="17 May 1980")
    # The stranger's own participant is not in a call: nothing of this one is reachable.
    assert (response.status_code, response.json()["error"]["code"]) == (409, "stale_prompt")
    frame_questions.refresh_from_db()
    assert "customer_answers" not in frame_questions.data


def test_a_browser_without_a_link_gets_no_answer_in(answered_call, frame_questions, client):
    response = client.post(reverse("workflows:question_answer"), {"prompt": 1, "question": 0, "answer": "x"})
    assert response.status_code == 403
    frame_questions.refresh_from_db()
    assert "customer_answers" not in frame_questions.data


def test_a_long_answer_is_kept_to_the_limit(alice, answered_call, frame_questions, customer):
    prompt = _start(alice, answered_call)
    assert _send(customer, prompt, answer="x" * (MAX_ANSWER_CHARS + 50)).status_code == 200
    frame_questions.refresh_from_db()
    assert len(frame_questions.data["customer_answers"]["0"]["text"]) == MAX_ANSWER_CHARS


def test_the_review_shows_the_customers_answer_beside_the_operators_note(alice, answered_call, frame_questions, customer):
    _start(alice, answered_call)
    _send(customer, _prompt(answered_call), answer="17 May 1980")
    step_post(alice, answered_call.session, answered_call.participant, "questions", "answer", question=0, answer="matches the passport")
    _send(customer, _prompt(answered_call), choice="0")
    step_post(alice, answered_call.session, answered_call.participant, "questions", "answer", question=1, answer="")
    frame_questions.refresh_from_db()
    with translation.override("en"):
        rows = step_data_rows(frame_questions)
    assert ("What is your date of birth?", "The customer answered: 17 May 1980 · Note: matches the passport") in rows
    assert ("Why are you opening this account?", "The customer answered: Savings") in rows
    assert (SPOKEN, "(not answered)") in rows
    with translation.override("de"):
        german = step_data_rows(frame_questions)
    assert ("Wie lautet Ihr Geburtsdatum?", "Antwort der Kundin oder des Kunden: 17 May 1980 · Notiz: matches the passport") in german
    assert any(value.endswith("Sparen") for _question, value in german)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ({"ask": "Purpose?", "answer": "choice", "choices": ["Only one"]}, "a choice question needs a list of 2 to 10 choices"),
        ({"ask": "Purpose?", "answer": "choice"}, "a choice question needs a list of 2 to 10 choices"),
        ({"ask": "Purpose?", "answer": "typed", "choices": ["a", "b"]}, 'only a question answered by "choice" has choices'),
        ({"ask": "Purpose?", "answer": "sung"}, "answer must be one of spoken, typed, choice"),
        ({"ask": "Purpose?", "answer": "typed", "hint": "x"}, "unknown setting hint"),
        ({"ask": {"de": "Zweck?"}, "answer": "typed"}, "needs a text in the workflow's default language (en)"),
        ({"ask": "Purpose?", "answer": "choice", "choices": ["a", {"de": "b"}]}, "choice 2 needs a text in the workflow's default language"),
    ],
)
def test_a_malformed_question_is_refused_with_what_is_wrong(business_a, question, message):
    workflow = WorkflowTemplate(
        business=business_a, name="Q", default_language="en", steps=[{"kind": "questions", "questions": [question]}]
    )
    with pytest.raises(ValidationError) as raised:
        workflow.full_clean()
    assert any(message in text for text in raised.value.messages), raised.value.messages


def test_a_well_formed_choice_question_is_valid(business_a):
    WorkflowTemplate(
        business=business_a, name="Q", default_language="en", steps=[{"kind": "questions", "questions": [BIRTH, PURPOSE]}]
    ).full_clean()
