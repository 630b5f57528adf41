"""A workflow may make the recording mandatory: then the operator cannot
approve a participant whose recording is not arriving. Rejecting or asking
for a retry stays possible."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from operators.services import decision_record
from sessions_app.models import RecordingChunk
from tests.recording.helpers import customer_stream, put_chunk, start


@pytest.fixture
def required(workflow_a):
    workflow_a.recording_required = True
    workflow_a.save(update_fields=["recording_required"])
    return workflow_a


def _approve(call, operator):
    return decision_record(participant=call.participant, operator=operator, outcome="approve", reason_code="verified")


def test_approval_without_a_recording_is_refused_with_a_clear_error(required, answered_call, operator_a):
    with pytest.raises(ValidationError) as refused:
        _approve(answered_call, operator_a)

    assert "requires a recording" in " ".join(refused.value.messages)
    answered_call.participant.refresh_from_db()
    assert answered_call.participant.state == "in_call"


def test_approval_over_http_says_why(required, alice, answered_call):
    response = alice.post(
        f"/console/calls/{answered_call.session.public_id.hex}/decide",
        {"participant": answered_call.participant.public_id.hex, "outcome": "approve", "reason_code": "verified"},
    )

    assert response.status_code == 400
    assert "requires a recording" in response.json()["error"]["message"]


def test_approval_while_the_participants_recording_arrives(required, alice, answered_call, operator_a):
    recording = start(alice, answered_call.session, customer_stream(answered_call.participant)).json()["recording"]
    put_chunk(alice, answered_call.session, recording, 0, b"webm bytes")

    assert _approve(answered_call, operator_a).outcome == "approve"


def test_the_operators_own_stream_is_not_the_participants_recording(required, alice, answered_call, operator_a):
    recording = start(alice, answered_call.session, "operator").json()["recording"]
    put_chunk(alice, answered_call.session, recording, 0, b"webm bytes")

    with pytest.raises(ValidationError):
        _approve(answered_call, operator_a)


def test_approval_refused_when_the_recording_stopped_arriving(required, alice, answered_call, operator_a):
    recording = start(alice, answered_call.session, customer_stream(answered_call.participant)).json()["recording"]
    put_chunk(alice, answered_call.session, recording, 0, b"webm bytes")
    RecordingChunk.objects.update(created_at=RecordingChunk.objects.get().created_at - timedelta(minutes=5))

    with pytest.raises(ValidationError) as refused:
        _approve(answered_call, operator_a)
    assert "stopped arriving" in " ".join(refused.value.messages)


def test_rejecting_needs_no_recording(required, answered_call, operator_a):
    decision = decision_record(
        participant=answered_call.participant, operator=operator_a, outcome="reject", reason_code="document_unreadable"
    )
    assert decision.outcome == "reject"


def test_workflows_without_the_requirement_approve_as_before(answered_call, operator_a):
    assert _approve(answered_call, operator_a).outcome == "approve"
