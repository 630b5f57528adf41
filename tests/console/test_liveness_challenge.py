"""Starting liveness draws a challenge: action_count distinct actions, in a
random order, prompted on the customer's screen one at a time."""

from sessions_app.selectors import call_state_for_customer
from tests.console.helpers import step_post
from workflows.steps import LIVENESS_ACTIONS

DRAWS = 30


def _liveness(participant):
    return participant.steps.get(kind="liveness")


def _set_action_count(participant, count: int):
    # Set-up only: the participant's copy of the workflow step asks for more actions.
    step = _liveness(participant)
    step.config = {**step.config, "action_count": count}
    step.save(update_fields=["config"])


def test_liveness_start_draws_distinct_actions_and_prompts_the_first(alice, answered_call):
    participant = answered_call.participant

    response = step_post(alice, answered_call.session, participant, "liveness", "start")

    assert response.status_code == 200
    data = _liveness(participant).data
    challenge = data["challenge"]
    assert len(challenge) == 3
    assert len(set(challenge)) == 3
    assert set(challenge) <= set(LIVENESS_ACTIONS)
    assert data["action_index"] == 0
    participant.refresh_from_db()
    assert (participant.current_prompt["code"], participant.current_prompt["text"]) == (challenge[0], "")
    assert call_state_for_customer(participant_id=participant.pk)["me"]["prompt"]["code"] == challenge[0]


def test_challenge_length_follows_the_step_action_count(alice, answered_call):
    _set_action_count(answered_call.participant, 5)

    step_post(alice, answered_call.session, answered_call.participant, "liveness", "start")

    assert sorted(_liveness(answered_call.participant).data["challenge"]) == sorted(LIVENESS_ACTIONS)


def test_restarting_liveness_draws_challenges_in_different_orders(alice, answered_call):
    """All five actions each time, so any difference is in the order. Thirty
    identical draws of a random order would have odds of 1 in 120^29."""
    _set_action_count(answered_call.participant, 5)
    orders = set()
    for _ in range(DRAWS):
        assert (
            step_post(alice, answered_call.session, answered_call.participant, "liveness", "start").status_code == 200
        )
        orders.add(tuple(_liveness(answered_call.participant).data["challenge"]))

    assert len(orders) > 1


def test_restarting_liveness_draws_different_subsets(alice, answered_call):
    subsets = set()
    for _ in range(DRAWS):
        step_post(alice, answered_call.session, answered_call.participant, "liveness", "start")
        subsets.add(frozenset(_liveness(answered_call.participant).data["challenge"]))

    assert len(subsets) > 1


def test_restart_begins_the_new_challenge_from_its_first_action(alice, answered_call):
    participant = answered_call.participant
    step_post(alice, answered_call.session, participant, "liveness", "start")
    step_post(alice, answered_call.session, participant, "liveness", "start")

    data = _liveness(participant).data
    participant.refresh_from_db()
    assert data["action_index"] == 0
    assert data["captured"] == []
    assert participant.current_prompt["code"] == data["challenge"][0]


def test_finishing_liveness_clears_the_customers_prompt(alice, answered_call):
    participant = answered_call.participant
    step_post(alice, answered_call.session, participant, "liveness", "start")

    step_post(alice, answered_call.session, participant, "liveness", "pass")

    participant.refresh_from_db()
    assert participant.current_prompt is None
    assert call_state_for_customer(participant_id=participant.pk)["me"]["prompt"] is None
