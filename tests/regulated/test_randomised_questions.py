"""Randomised questions (RANDOMISED_QUESTIONS): each participant's questions
step asks questions drawn from the business's bank, spread across its
categories, in random order; what was drawn is kept and audited, and a
workflow that could not draw is refused before a call is made."""

import pytest
from django.core.exceptions import ValidationError

from kyc import regulations
from operators.integration import api_key_create
from sessions_app.models import AuditEvent
from tests.api.conftest import client_with, session_body
from tests.conftest import create_call
from tests.regulated.conftest import bank_for, with_rules
from workflows.models import BankQuestion
from workflows.question_draw import bank_questions_draw

pytestmark = pytest.mark.django_db


def _questions_step(participant):
    return participant.steps.get(kind="questions")


def test_the_draw_takes_one_question_of_each_category_before_a_second(business_a):
    bank_for(business_a, categories=("Personal", "Contact", "Account"), per_category=4)
    for _ in range(10):
        drawn = bank_questions_draw(business=business_a, count=3)
        assert sorted(question.category for question in drawn) == ["Account", "Contact", "Personal"]


def test_the_draw_takes_no_more_than_the_bank_holds(business_a):
    bank_for(business_a, categories=("Personal",), per_category=2)
    assert len(bank_questions_draw(business=business_a, count=5)) == 2


def test_inactive_questions_are_never_drawn(business_a):
    questions = bank_for(business_a, categories=("Personal",), per_category=3)
    BankQuestion.objects.filter(pk__in=[questions[0].pk, questions[1].pk]).update(active=False)
    for _ in range(5):
        assert [question.pk for question in bank_questions_draw(business=business_a, count=3)] == [questions[2].pk]


def test_order_differs_across_draws(business_a):
    bank_for(business_a, categories=("A", "B", "C", "D"), per_category=1)
    orders = {tuple(question.category for question in bank_questions_draw(business=business_a, count=4)) for _ in range(40)}
    # 24 orders possible: forty draws that all came out alike would not be random.
    assert len(orders) > 1


def test_the_draw_only_ever_takes_the_businesss_own_questions(business_a, business_b):
    own = {question.pk for question in bank_for(business_a)}
    bank_for(business_b)
    for _ in range(5):
        assert {question.pk for question in bank_questions_draw(business=business_a, count=9)} <= own


def test_each_participant_gets_questions_drawn_recorded_in_the_step_and_audited(business_a, workflow_a):
    bank_for(business_a)
    with_rules(workflow_a, regulations.RANDOMISED_QUESTIONS, questions_drawn=3)
    session, links = create_call(business_a, workflow_a, names=("Anna Schmidt", "Ben Schmidt"))

    for participant, _url in links:
        step = _questions_step(participant)
        drawn = step.config["drawn_from_bank"]
        assert len(drawn) == 3 and len({entry["category"] for entry in drawn}) == 3
        bank = {question.pk: question for question in BankQuestion.objects.filter(pk__in=[e["bank_question"] for e in drawn])}
        # The step asks exactly the drawn questions, in the drawn order.
        assert step.config["questions"] == [bank[entry["bank_question"]].as_step_question() for entry in drawn]
        event = AuditEvent.objects.get(participant=participant, action="questions.drawn")
        assert event.data == {"position": step.position, "questions": drawn}


def test_a_later_edit_of_the_bank_does_not_change_what_a_call_asks(business_a, workflow_a):
    bank_for(business_a)
    with_rules(workflow_a, regulations.RANDOMISED_QUESTIONS, questions_drawn=2)
    _session, links = create_call(business_a, workflow_a)
    step = _questions_step(links[0][0])
    before = step.config["questions"]
    BankQuestion.objects.update(ask={"en": "Changed?"})
    step.refresh_from_db()
    assert step.config["questions"] == before


def test_without_the_rule_the_workflows_own_questions_are_asked(business_a, workflow_a):
    bank_for(business_a)
    _session, links = create_call(business_a, workflow_a)
    step = _questions_step(links[0][0])
    assert step.config["questions"] == ["What is your date of birth?"]
    assert "drawn_from_bank" not in step.config
    assert not AuditEvent.objects.filter(action="questions.drawn").exists()


def test_a_workflow_with_the_rule_and_an_empty_bank_is_refused(business_a, workflow_a):
    workflow_a.rules = [regulations.RANDOMISED_QUESTIONS]
    with pytest.raises(ValidationError) as refused:
        workflow_a.full_clean()
    assert "question bank" in refused.value.message_dict["rules"][0]


def test_another_businesss_bank_does_not_count(business_a, business_b, workflow_a):
    bank_for(business_b)
    workflow_a.rules = [regulations.RANDOMISED_QUESTIONS]
    with pytest.raises(ValidationError):
        workflow_a.full_clean()


def test_a_workflow_with_the_rule_and_no_questions_step_is_refused(business_a, workflow_a):
    bank_for(business_a)
    workflow_a.steps = [step for step in workflow_a.steps if step["kind"] != "questions"]
    workflow_a.rules = [regulations.RANDOMISED_QUESTIONS]
    with pytest.raises(ValidationError) as refused:
        workflow_a.full_clean()
    assert "questions step" in refused.value.message_dict["steps"][0]


def test_session_create_through_the_api_refuses_with_400_when_the_bank_is_empty(business_a, workflow_a):
    # Saved without clean (the bank emptied since, or a script): the API still refuses.
    with_rules(workflow_a, regulations.RANDOMISED_QUESTIONS)
    _key, raw = api_key_create(business=business_a, name="CRM")
    response = client_with(raw).post("/api/v1/sessions", session_body(workflow_a), format="json")
    assert response.status_code == 400, response.content
    assert "question bank" in response.json()["detail"]
    assert not workflow_a.sessions.exists()


def test_a_bank_question_is_validated_like_a_step_question(business_a):
    question = BankQuestion(business=business_a, category="Account", ask={"en": "Why?"}, answer="choice", choices=["Only one"])
    with pytest.raises(ValidationError) as refused:
        question.full_clean()
    assert "choices" in refused.value.message_dict
    question.choices = ["Savings", "Business"]
    question.ask = {"xx-not-a-language": "Why?"}
    with pytest.raises(ValidationError) as refused:
        question.full_clean()
    assert "ask" in refused.value.message_dict
    question.ask = {"en": "Why?"}
    question.choices = ["Savings", "Business"]
    question.full_clean()
    spoken = BankQuestion(business=business_a, category="Account", ask={"en": "Why?"}, choices=["Savings", "Business"])
    with pytest.raises(ValidationError):
        spoken.full_clean()


@pytest.fixture
def drawn_workflow(business_a, workflow_a):
    """Business A's workflow with randomised questions, three drawn from its bank (set before the call is made)."""
    bank_for(business_a)
    return with_rules(workflow_a, regulations.RANDOMISED_QUESTIONS, questions_drawn=3)


def test_the_operator_asks_the_drawn_questions_in_the_drawn_order_and_answers_are_recorded(
    drawn_workflow, answered_call, operator_a
):
    from workflows.services import question_answer_record, step_start

    step = step_start(step=_questions_step(answered_call.participant), operator=operator_a)
    drawn = step.config["drawn_from_bank"]
    assert step.data["question_order"] == [0, 1, 2]
    answered_call.participant.refresh_from_db()
    first = BankQuestion.objects.get(pk=drawn[0]["bank_question"])
    assert answered_call.participant.current_prompt["text"] == first.ask["en"]

    step = question_answer_record(step=step, operator=operator_a, question=0, answer="Berlin")
    assert step.data["answers"] == {"0": "Berlin"}
    answered_call.participant.refresh_from_db()
    second = BankQuestion.objects.get(pk=drawn[1]["bank_question"])
    assert answered_call.participant.current_prompt["text"] == second.ask["en"]
