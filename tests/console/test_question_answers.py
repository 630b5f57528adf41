"""Alice asks the workflow's questions and types each answer: stored per
question, audited without the answer's text, and refused for a question the
step does not have."""

import pytest

from sessions_app.models import AuditEvent
from tests.console.helpers import step_post
from workflows.services import MAX_ANSWER_CHARS

QUESTIONS = ["What is your date of birth?", "Where were you born?", "Why are you opening this account?"]


@pytest.fixture
def questions_step(answered_call):
    # Set-up only: the participant's copy of the step gets three questions.
    step = answered_call.participant.steps.get(kind="questions")
    step.config = {**step.config, "questions": QUESTIONS}
    step.save(update_fields=["config"])
    return step


def _answer(alice, call, question, answer):
    return step_post(alice, call.session, call.participant, "questions", "answer", question=question, answer=answer)


def _data(step):
    step.refresh_from_db()
    return step.data


def test_starting_questions_fixes_their_order_once(alice, answered_call, questions_step):
    step_post(alice, answered_call.session, answered_call.participant, "questions", "start")
    assert _data(questions_step)["question_order"] == [0, 1, 2]
    assert _data(questions_step)["answers"] == {}


def test_randomized_questions_ask_a_subset_in_some_order(alice, answered_call, questions_step):
    questions_step.config = {**questions_step.config, "randomize": True, "ask_count": 2}
    questions_step.save(update_fields=["config"])

    step_post(alice, answered_call.session, answered_call.participant, "questions", "start")
    order = _data(questions_step)["question_order"]
    step_post(alice, answered_call.session, answered_call.participant, "questions", "start")

    assert len(order) == 2 and len(set(order)) == 2 and set(order) <= {0, 1, 2}
    assert _data(questions_step)["question_order"] == order, "a restart must not re-draw the questions"


def test_answers_are_stored_per_question(alice, answered_call, questions_step):
    session = answered_call.session
    session.refresh_from_db()
    version = session.state_version

    assert _answer(alice, answered_call, 0, "1 January 1990").status_code == 200
    assert _answer(alice, answered_call, 2, "Salary").status_code == 200

    assert _data(questions_step)["answers"] == {"0": "1 January 1990", "2": "Salary"}
    session.refresh_from_db()
    assert session.state_version > version


def test_answering_again_replaces_the_answer(alice, answered_call, questions_step):
    _answer(alice, answered_call, 1, "Hamburg")
    _answer(alice, answered_call, 1, "Hamburg, Germany")

    assert _data(questions_step)["answers"] == {"1": "Hamburg, Germany"}


def test_each_answer_is_audited_without_its_text(alice, operator_a, answered_call, questions_step):
    _answer(alice, answered_call, 0, "1 January 1990")

    event = AuditEvent.objects.get(participant=answered_call.participant, action="question.answered")
    assert event.data == {"step": questions_step.position, "question": 0}
    assert (event.actor_kind, event.actor_user_id) == ("operator", operator_a.user_id)
    assert "1990" not in str(event.data)


def test_overlong_answer_is_cut_to_the_limit(alice, answered_call, questions_step):
    _answer(alice, answered_call, 0, "x" * (MAX_ANSWER_CHARS + 50))

    assert len(_data(questions_step)["answers"]["0"]) == MAX_ANSWER_CHARS


@pytest.mark.parametrize("question", ["3", "-1", "99"])
def test_answer_to_a_question_the_step_does_not_have_is_409(question, alice, answered_call, questions_step):
    response = _answer(alice, answered_call, question, "anything")

    assert response.status_code == 409
    assert "answers" not in _data(questions_step) or _data(questions_step)["answers"] == {}


@pytest.mark.parametrize("question", ["first", "", "1.5"])
def test_answer_with_a_question_that_is_not_a_number_is_400(question, alice, answered_call, questions_step):
    response = _answer(alice, answered_call, question, "anything")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_answer_without_a_question_is_refused(alice, answered_call, questions_step):
    response = step_post(alice, answered_call.session, answered_call.participant, "questions", "answer", answer="x")

    assert response.status_code in (400, 409)
    assert _data(questions_step).get("answers", {}) == {}


def test_answer_on_a_step_that_is_not_questions_is_refused(alice, answered_call):
    response = step_post(
        alice, answered_call.session, answered_call.participant, "document", "answer", question="0", answer="x"
    )

    assert response.status_code == 409
    assert "answers" not in answered_call.participant.steps.get(kind="document").data
