"""GET /api/v1/sessions/{id}: state, timestamps, duration, steps, decision."""

import uuid

import pytest

from operators.services import decision_record
from tests.api.test_api_authentication import assert_problem


def url(session):
    return f"/api/v1/sessions/{session.public_id}"


def test_read_shows_state_steps_and_no_decision_yet(api_a, live_call):
    response = api_a.get(url(live_call.session))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(live_call.session.public_id)
    assert body["state"] == "created"
    assert body["call_duration_seconds"] is None
    [participant] = body["participants"]
    assert "link" not in participant, "a link is shown once, when it is made"
    assert participant["decision"] is None
    assert participant["check_results"] == []
    assert [step["kind"] for step in participant["steps"]][:2] == ["terms", "device_check"]


def test_read_shows_the_decision_and_the_call_duration(api_a, answered_call, operator_a):
    decision_record(
        participant=answered_call.participant,
        operator=operator_a,
        outcome="approve",
        reason_code="verified",
    )
    body = api_a.get(url(answered_call.session)).json()
    assert body["state"] == "in_call"
    assert body["answered_at"] is not None
    assert body["call_duration_seconds"] >= 0
    decision = body["participants"][0]["decision"]
    assert decision["outcome"] == "approve"
    assert decision["reason_code"] == "verified"
    assert decision["decided_at"]
    assert body["participants"][0]["state"] == "decided"
    assert body["participants"][0]["steps"][0]["state"] == "passed"


def test_another_business_session_is_not_found(api_b, live_call):
    """Beta Bank's key must not even learn that Alpha's session exists."""
    assert_problem(api_b.get(url(live_call.session)), 404, "not_found")


@pytest.mark.parametrize("session_id", ["not-a-uuid", str(uuid.uuid4()), "1"])
def test_unknown_session_is_not_found(api_a, session_id, db):
    assert_problem(api_a.get(f"/api/v1/sessions/{session_id}"), 404, "not_found")
