"""Step actions that make no sense are refused with 409 and change nothing:
a customer who left the call, steps the customer does before the call, a
capture kind the step does not take."""

import pytest

from sessions_app.audit import Actor
from sessions_app.models import Participant
from sessions_app.services import participant_leave
from tests.console.helpers import step_post
from workflows.models import CaptureRequest, StepState


def _version(session):
    session.refresh_from_db()
    return session.state_version


@pytest.mark.parametrize("action, data", [("start", {}), ("pass", {}), ("capture", {"kind": "document_front"})])
def test_step_action_on_a_participant_who_left_is_409(action, data, alice, group_call):
    """Erika left the group call; Max is still in it, so the call goes on."""
    max_, erika = group_call.participants
    participant_leave(participant=erika, actor=Actor.customer())
    erika.refresh_from_db()
    assert erika.state == Participant.State.LEFT
    before = _version(group_call.session)

    response = step_post(alice, group_call.session, erika, "document", action, **data)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "rejected"
    assert erika.steps.get(kind="document").state == StepState.State.PENDING
    assert not CaptureRequest.objects.filter(participant=erika).exists()
    assert _version(group_call.session) == before
    assert step_post(alice, group_call.session, max_, "document", action, **data).status_code == 200


def test_step_action_after_the_one_on_one_customer_left_is_refused(alice, answered_call):
    participant_leave(participant=answered_call.participant, actor=Actor.customer())

    response = step_post(alice, answered_call.session, answered_call.participant, "document", "start")

    assert response.status_code == 409
    assert answered_call.participant.steps.get(kind="document").state == StepState.State.PENDING


@pytest.mark.parametrize("kind", ["terms", "device_check"])
@pytest.mark.parametrize("action", ["start", "pass", "fail", "skip"])
def test_operator_cannot_drive_a_pre_call_step(kind, action, alice, answered_call):
    session, participant = answered_call.session, answered_call.participant
    state_before = participant.steps.get(kind=kind).state
    before = _version(session)

    response = step_post(alice, session, participant, kind, action)

    assert response.status_code == 409
    assert participant.steps.get(kind=kind).state == state_before
    assert _version(session) == before


@pytest.mark.parametrize(
    "kind, capture_kind",
    [("document", "liveness_frame"), ("document", "recording"), ("questions", "face"), ("terms", "document_front")],
)
def test_capture_of_a_kind_the_step_does_not_take_is_409(kind, capture_kind, alice, answered_call):
    response = step_post(alice, answered_call.session, answered_call.participant, kind, "capture", kind=capture_kind)

    assert response.status_code == 409
    assert not CaptureRequest.objects.filter(participant=answered_call.participant).exists()


def test_capture_request_names_what_it_asks_for(alice, answered_call):
    response = step_post(
        alice, answered_call.session, answered_call.participant, "document", "capture", kind="document_back"
    )

    assert response.status_code == 200
    capture = CaptureRequest.objects.get(public_id=response.json()["capture"])
    assert response.json() == {"capture": capture.public_id.hex, "kind": "document_back", "label": ""}
    assert capture.participant_id == answered_call.participant.pk
    assert capture.state == CaptureRequest.State.REQUESTED
