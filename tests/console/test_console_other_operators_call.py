"""Anton works for the same business as Alice but did not answer her call:
he cannot open it, drive its steps, upload to its captures, end it or
remove its customer."""

import pytest

from operators.models import Decision
from tests.console.helpers import call_fingerprint, operator_request


@pytest.mark.parametrize("endpoint", ["call", "step", "capture", "end", "remove"])
def test_operator_not_assigned_to_the_call_gets_404(endpoint, anton, answered_call, document_capture, stored_evidence):
    before = call_fingerprint(answered_call.session)

    response = operator_request(
        anton,
        endpoint,
        session=answered_call.session,
        participant=answered_call.participant,
        capture_id=document_capture.public_id.hex,
        evidence_id=stored_evidence.public_id.hex,
    )

    assert response.status_code == 404
    assert call_fingerprint(answered_call.session) == before


def test_operator_not_assigned_to_the_call_cannot_decide_on_its_customer(anton, answered_call):
    before = call_fingerprint(answered_call.session)

    response = operator_request(
        anton,
        "decide",
        session=answered_call.session,
        participant=answered_call.participant,
        capture_id="",
        evidence_id="",
    )

    assert response.status_code in (400, 404)
    assert not Decision.objects.filter(participant=answered_call.participant).exists()
    assert call_fingerprint(answered_call.session) == before


def test_operator_cannot_answer_a_call_already_taken_by_a_colleague(anton, answered_call, operator_a):
    response = anton.post(f"/console/sessions/{answered_call.session.public_id.hex}/answer")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_available"
    answered_call.session.refresh_from_db()
    assert answered_call.session.operator_id == operator_a.pk
