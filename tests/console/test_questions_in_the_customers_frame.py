"""The question the operator asks appears in the customer's frame: the
first on "Start questions", the next after each answer, none after the last."""

from sessions_app.selectors import call_state_for_customer
from tests.console.helpers import step_post
from tests.console.test_question_answers import QUESTIONS, questions_step  # noqa: F401  (fixture)


def _prompt(call):
    prompt = call_state_for_customer(participant_id=call.participant.pk)["me"]["prompt"]
    return prompt and {"code": prompt["code"], "text": prompt["text"]}


def test_each_question_in_turn_reaches_the_customers_page(alice, answered_call, questions_step):  # noqa: F811
    call = answered_call
    step_post(alice, call.session, call.participant, "questions", "start")
    assert _prompt(call) == {"code": "question", "text": QUESTIONS[0]}

    step_post(alice, call.session, call.participant, "questions", "answer", question=0, answer="1 May 1990")
    assert _prompt(call) == {"code": "question", "text": QUESTIONS[1]}
    step_post(alice, call.session, call.participant, "questions", "answer", question=1, answer="Berlin")
    step_post(alice, call.session, call.participant, "questions", "answer", question=2, answer="Salary")

    assert _prompt(call) is None
