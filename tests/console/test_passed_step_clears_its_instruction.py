"""A liveness step the operator passes while a burst is still uploading
keeps the customer's screen clear: the late burst does not prompt the next
action of a finished challenge."""

from tests.console.helpers import step_post
from tests.console.test_liveness_capture_burst import _ask, _prompt, _send_frame
from workflows.steps import LIVENESS_BURST_FRAMES


def test_a_burst_arriving_after_pass_does_not_bring_the_instruction_back(alice, customer, answered_call):
    participant = answered_call.participant
    step_post(alice, answered_call.session, participant, "liveness", "start")
    capture_id = _ask(alice, answered_call)["capture"]
    _send_frame(customer, capture_id, 0)

    step_post(alice, answered_call.session, participant, "liveness", "pass")
    assert _prompt(participant) is None
    for frame in range(1, LIVENESS_BURST_FRAMES):
        _send_frame(customer, capture_id, frame)

    assert _prompt(participant) is None
