"""The intermittent missing liveness instruction: a step's automatic prompt
writes (clearing when a step ends, the next action once a burst is in) used
to replace whatever prompt was current. When the operator's console sent
"pass the document" and "start the challenge" close together and the pass
was processed second, or an earlier step was passed later, the challenge's
first instruction was wiped: the customer's screen stayed empty while the
operator's panel showed the challenge running, until the next capture moved
it on. Each step now moves only its own instruction (and the operator's own
prompts); a new step's start still replaces anything."""

from sessions_app.audit import Actor
from sessions_app.models import Participant
from sessions_app.selectors import call_state_for_customer
from sessions_app.services import participant_set_prompt
from tests.console import images
from tests.console.helpers import customer_capture_url, image_file, step_post
from tests.console.test_liveness_capture_burst import _ask, _send_frame
from workflows.steps import LIVENESS_BURST_FRAMES


def _prompt(participant):
    return call_state_for_customer(participant_id=participant.pk)["me"]["prompt"]


def _challenge(participant):
    return participant.steps.get(kind="liveness").data["challenge"]


def _set_action_count(participant, count: int):
    step = participant.steps.get(kind="liveness")
    step.config = {**step.config, "action_count": count}
    step.save(update_fields=["config"])


def test_the_document_passed_after_the_challenge_started_leaves_the_first_action_on_screen(alice, answered_call):
    participant = answered_call.participant
    step_post(alice, answered_call.session, participant, "document", "start")
    step_post(alice, answered_call.session, participant, "liveness", "start")
    first_action = _challenge(participant)[0]

    # The console's "pass" of the document, processed after the challenge began.
    assert step_post(alice, answered_call.session, participant, "document", "pass").status_code == 200

    assert _prompt(participant)["code"] == first_action


def test_a_skipped_earlier_step_leaves_the_challenge_instruction_on_screen(alice, answered_call):
    participant = answered_call.participant
    step_post(alice, answered_call.session, participant, "liveness", "start")

    step_post(alice, answered_call.session, participant, "document", "skip")

    assert _prompt(participant)["code"] == _challenge(participant)[0]


def test_passing_a_step_still_clears_its_own_instruction_and_the_operators_prompt(alice, answered_call, operator_a):
    participant = answered_call.participant
    step_post(alice, answered_call.session, participant, "liveness", "start")
    step_post(alice, answered_call.session, participant, "liveness", "pass")
    assert _prompt(participant) is None

    participant_set_prompt(participant=participant, prompt={"code": "document_back"}, actor=Actor.operator(operator_a))
    step_post(alice, answered_call.session, participant, "document", "pass")
    assert _prompt(participant) is None


def test_the_last_burst_arriving_after_the_questions_began_leaves_the_question(alice, customer, answered_call):
    participant = answered_call.participant
    _set_action_count(participant, 1)
    step_post(alice, answered_call.session, participant, "liveness", "start")
    capture_id = _ask(alice, answered_call)["capture"]
    for frame in range(LIVENESS_BURST_FRAMES - 1):
        _send_frame(customer, capture_id, frame)

    step_post(alice, answered_call.session, participant, "questions", "start")
    _send_frame(customer, capture_id, LIVENESS_BURST_FRAMES - 1)

    assert _prompt(participant)["code"] == "question"
    assert participant.steps.get(kind="liveness").data["action_index"] == 1


def test_a_restarted_challenge_is_not_moved_on_by_the_old_challenges_burst(alice, customer, answered_call):
    participant = answered_call.participant
    step_post(alice, answered_call.session, participant, "liveness", "start")
    capture_id = _ask(alice, answered_call)["capture"]
    for frame in range(LIVENESS_BURST_FRAMES - 1):
        _send_frame(customer, capture_id, frame)

    step_post(alice, answered_call.session, participant, "liveness", "start")
    fresh = _challenge(participant)
    response = customer.post(
        customer_capture_url(capture_id), {"image": image_file(images.jpeg()), "frame": str(LIVENESS_BURST_FRAMES - 1)}
    )

    assert response.status_code == 409
    assert participant.steps.get(kind="liveness").data["action_index"] == 0
    assert _prompt(participant)["code"] == fresh[0]
    assert Participant.objects.get(pk=participant.pk).current_prompt["step"] == participant.steps.get(kind="liveness").position
