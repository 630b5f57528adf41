"""The server's own view of capture integrity: the same picture sent again
(a replayed photo) and a movement burst in which nothing moved are kept as
capture signals; two frames of a person sitting still in front of a camera
with ordinary sensor noise are not the same picture."""

import pytest

from sessions_app import integrity
from sessions_app.models import AuditEvent, CaptureSignal, Evidence
from tests.checks import testdata as td
from workflows import check_services
from workflows import steps as step_kinds

from .fakes import evidence_from_bytes

pytestmark = pytest.mark.django_db


def store(participant, kind, image, *, label="", frame_index=0):
    return evidence_from_bytes(participant, kind, td.jpeg_bytes(image, 92), content_type="image/jpeg",
                               width=image.shape[1], height=image.shape[0], label=label, frame_index=frame_index)


def signals(participant):
    return sorted(CaptureSignal.objects.filter(participant=participant).values_list("code", "phase"))


def test_the_same_picture_as_face_and_document_is_a_repeated_picture(live_call):
    frame = td.live_frame(td.astronaut(), seed=1)
    store(live_call.participant, Evidence.Kind.FACE, frame)
    document = store(live_call.participant, Evidence.Kind.DOCUMENT_FRONT, frame)

    assert check_services.capture_integrity_check(evidence=document) == ["repeated_picture"]

    assert signals(live_call.participant) == [("repeated_picture", "server")]
    signal = CaptureSignal.objects.get(participant=live_call.participant)
    assert signal.params == {"similar_pairs": 1, "frames": 2, "kinds": ["face"]}
    event = AuditEvent.objects.filter(action="integrity.reported").latest("sequence")
    assert event.actor_kind == AuditEvent.ActorKind.SYSTEM
    assert event.data == {"phase": "server", "codes": ["repeated_picture"]}
    panel = integrity.integrity_panel_for_participant(live_call.participant)
    assert panel["raised"] is True


def test_two_frames_of_a_person_sitting_still_are_not_the_same_picture(live_call):
    """Sensor noise differs frame to frame: the hash alone would match them."""
    store(live_call.participant, Evidence.Kind.FACE, td.live_frame(td.astronaut(), seed=1))
    second = store(live_call.participant, Evidence.Kind.FACE, td.live_frame(td.astronaut(), seed=2))

    assert check_services.capture_integrity_check(evidence=second) == []
    assert signals(live_call.participant) == []


@pytest.mark.parametrize(
    "kind, label", [(Evidence.Kind.LIVENESS_FRAME, "turn_left"), (Evidence.Kind.CHALLENGE_FRAME, "hand_across_face")]
)
def test_a_movement_burst_that_did_not_move_is_a_still_picture(live_call, kind, label):
    """A liveness action's burst, or a challenge's: a picture held up to the
    camera cannot pass a hand across its face."""
    frame = td.live_frame(td.astronaut(), seed=3)
    burst = [
        store(live_call.participant, kind, frame, label=label, frame_index=n)
        for n in range(step_kinds.LIVENESS_BURST_FRAMES)
    ]
    # Only the frame that completes the burst looks at it.
    assert check_services.capture_integrity_check(evidence=burst[0]) == ["still_picture"]
    assert signals(live_call.participant) == [("still_picture", "server")]


def test_a_burst_in_which_the_face_moves_raises_nothing(live_call):
    burst = [
        store(live_call.participant, Evidence.Kind.LIVENESS_FRAME,
              td.live_frame(td.astronaut(), seed=n, offset=(12 * n, 0)), label="turn_left", frame_index=n)
        for n in range(step_kinds.LIVENESS_BURST_FRAMES)
    ]
    assert check_services.capture_integrity_check(evidence=burst[-1]) == []
    assert signals(live_call.participant) == []


def test_a_burst_not_yet_complete_is_not_judged(live_call):
    frame = td.live_frame(td.astronaut(), seed=3)
    first = store(live_call.participant, Evidence.Kind.LIVENESS_FRAME, frame, label="blink", frame_index=0)
    assert check_services.capture_integrity_check(evidence=first) == []


def test_the_operators_view_is_not_judged(live_call):
    frame = td.live_frame(td.astronaut(), seed=1)
    store(live_call.participant, Evidence.Kind.FACE, frame)
    view = evidence_from_bytes(live_call.participant, Evidence.Kind.FACE, td.jpeg_bytes(frame, 92),
                               content_type="image/jpeg", width=640, height=480,
                               source=Evidence.Source.OPERATOR_VIEW)
    assert check_services.capture_integrity_check(evidence=view) == []
