"""Each liveness action is captured as a burst of frames from the customer's
camera. The capture is labelled with the current action, and the challenge
moves on (prompting the next action on the customer's screen) only once the
whole burst has arrived."""

import pytest

from sessions_app.models import Evidence
from sessions_app.selectors import call_state_for_customer
from tests.console import images
from tests.console.helpers import (
    customer_capture_url,
    image_file,
    operator_capture_url,
    step_post,
    upload,
)
from workflows.models import CaptureRequest
from workflows.steps import LIVENESS_BURST_FRAMES


@pytest.fixture
def challenge(alice, answered_call) -> list[str]:
    step_post(alice, answered_call.session, answered_call.participant, "liveness", "start")
    return answered_call.participant.steps.get(kind="liveness").data["challenge"]


def _ask(alice, call):
    response = step_post(alice, call.session, call.participant, "liveness", "capture", kind="liveness_frame")
    assert response.status_code == 200, response.content
    return response.json()


def _send_frame(customer, capture_id, frame):
    response = customer.post(
        customer_capture_url(capture_id), {"image": image_file(images.jpeg()), "frame": str(frame)}
    )
    assert response.status_code == 201, response.content
    return response


def _prompt(participant):
    return call_state_for_customer(participant_id=participant.pk)["me"]["prompt"]


def _step_data(participant):
    return participant.steps.get(kind="liveness").data


def test_liveness_capture_is_labelled_with_the_current_action(alice, answered_call, challenge):
    asked = _ask(alice, answered_call)

    assert asked["label"] == challenge[0]
    assert CaptureRequest.objects.get(public_id=asked["capture"]).label == challenge[0]
    pending = call_state_for_customer(participant_id=answered_call.participant.pk)["me"]["capture"]
    assert pending == {
        "id": asked["capture"],
        "kind": "liveness_frame",
        "label": challenge[0],
        "frames": LIVENESS_BURST_FRAMES,
        "missing": list(range(LIVENESS_BURST_FRAMES)),
    }


def test_challenge_waits_until_the_burst_is_complete(alice, customer, answered_call, challenge):
    participant = answered_call.participant
    capture_id = _ask(alice, answered_call)["capture"]

    for frame in range(LIVENESS_BURST_FRAMES - 1):
        _send_frame(customer, capture_id, frame)

    assert _step_data(participant)["action_index"] == 0
    assert _prompt(participant)["code"] == challenge[0]
    assert CaptureRequest.objects.get(public_id=capture_id).state == CaptureRequest.State.REQUESTED
    assert call_state_for_customer(participant_id=participant.pk)["me"]["capture"]["missing"] == [
        LIVENESS_BURST_FRAMES - 1
    ]


def test_the_last_frame_of_the_burst_prompts_the_next_action(alice, customer, answered_call, challenge):
    participant = answered_call.participant
    capture_id = _ask(alice, answered_call)["capture"]

    for frame in range(LIVENESS_BURST_FRAMES):
        _send_frame(customer, capture_id, frame)

    data = _step_data(participant)
    assert data["action_index"] == 1
    assert data["captured"] == [challenge[0]]
    assert _prompt(participant)["code"] == challenge[1]
    assert CaptureRequest.objects.get(public_id=capture_id).state == CaptureRequest.State.FULFILLED
    assert call_state_for_customer(participant_id=participant.pk)["me"]["capture"] is None
    assert Evidence.objects.filter(capture__public_id=capture_id, label=challenge[0]).count() == LIVENESS_BURST_FRAMES
    assert _ask(alice, answered_call)["label"] == challenge[1]


def test_frames_arriving_out_of_order_advance_only_when_all_are_in(alice, customer, answered_call, challenge):
    """The last frame number arriving early (a retried upload) is not the whole burst."""
    participant = answered_call.participant
    capture_id = _ask(alice, answered_call)["capture"]
    late = 1

    for frame in range(LIVENESS_BURST_FRAMES):
        if frame != late:
            _send_frame(customer, capture_id, frame)

    assert _step_data(participant)["action_index"] == 0
    assert _prompt(participant)["code"] == challenge[0]
    assert call_state_for_customer(participant_id=participant.pk)["me"]["capture"]["missing"] == [late]

    _send_frame(customer, capture_id, late)

    assert _step_data(participant)["action_index"] == 1
    assert _prompt(participant)["code"] == challenge[1]


def test_a_repeated_last_frame_does_not_skip_an_action(alice, customer, answered_call, challenge):
    capture_id = _ask(alice, answered_call)["capture"]
    for frame in range(LIVENESS_BURST_FRAMES):
        _send_frame(customer, capture_id, frame)

    _send_frame(customer, capture_id, LIVENESS_BURST_FRAMES - 1)

    assert _step_data(answered_call.participant)["action_index"] == 1


def test_operator_frame_of_a_liveness_capture_does_not_move_the_challenge(alice, answered_call, challenge):
    capture_id = _ask(alice, answered_call)["capture"]

    response = upload(alice, operator_capture_url(answered_call.session, capture_id), images.jpeg())

    assert response.status_code == 201
    assert _step_data(answered_call.participant)["action_index"] == 0
    assert _prompt(answered_call.participant)["code"] == challenge[0]


def test_after_the_last_action_the_prompt_clears_and_no_more_frames_are_asked(
    alice, customer, answered_call, challenge
):
    participant = answered_call.participant
    for action in challenge:
        asked = _ask(alice, answered_call)
        assert asked["label"] == action
        for frame in range(LIVENESS_BURST_FRAMES):
            _send_frame(customer, asked["capture"], frame)

    assert _step_data(participant)["captured"] == challenge
    assert _prompt(participant) is None
    response = step_post(alice, answered_call.session, participant, "liveness", "capture", kind="liveness_frame")
    assert response.status_code == 409
