"""Bob (operator of Beta Bank) cannot see or touch anything of Alpha Bank's
calls: every endpoint about Alpha's session, participant, step, capture or
evidence answers 404, as if it did not exist."""

import pytest

from sessions_app.models import Evidence
from tests.console import images
from tests.console.helpers import (
    call_fingerprint,
    customer_joins,
    operator_capture_url,
    operator_request,
    upload,
)
from workflows import services as workflow_services

SESSION_ENDPOINTS = ("answer", "call", "decide", "end", "remove", "step", "capture", "evidence")


@pytest.mark.parametrize("endpoint", SESSION_ENDPOINTS)
def test_operator_of_business_b_gets_404_for_business_a_call(
    endpoint, bob, answered_call, document_capture, stored_evidence
):
    before = call_fingerprint(answered_call.session)

    response = operator_request(
        bob,
        endpoint,
        session=answered_call.session,
        participant=answered_call.participant,
        capture_id=document_capture.public_id.hex,
        evidence_id=stored_evidence.public_id.hex,
    )

    assert response.status_code == 404
    assert call_fingerprint(answered_call.session) == before


def test_operator_of_business_b_cannot_answer_business_a_waiting_call(bob, waiting_call):
    before = call_fingerprint(waiting_call.session)

    response = bob.post(f"/console/sessions/{waiting_call.session.public_id.hex}/answer")

    assert response.status_code == 404
    assert call_fingerprint(waiting_call.session) == before


def test_operator_of_business_a_gets_404_for_every_endpoint_of_business_b_call(
    alice, operator_b, other_call, answered_call
):
    """The other way round: Alice (who has a call of her own) on Bob's call."""
    from sessions_app.services import session_assign_operator

    customer_joins(other_call.participant)
    session_assign_operator(session_id=other_call.session.pk, operator=operator_b)
    step = other_call.participant.steps.get(kind="document")
    capture = workflow_services.capture_request_create(
        step=step, operator=operator_b, kind=Evidence.Kind.DOCUMENT_FRONT
    )
    evidence = workflow_services.evidence_store_image(
        capture=capture, source=Evidence.Source.CUSTOMER_DEVICE, data=images.jpeg()
    )
    before = call_fingerprint(other_call.session)

    for endpoint in SESSION_ENDPOINTS:
        response = operator_request(
            alice,
            endpoint,
            session=other_call.session,
            participant=other_call.participant,
            capture_id=capture.public_id.hex,
            evidence_id=evidence.public_id.hex,
        )
        assert response.status_code == 404, endpoint
    assert call_fingerprint(other_call.session) == before


def test_capture_of_another_business_cannot_be_answered_through_own_call(alice, operator_b, other_call, answered_call):
    """Alice's own session id in the URL, Beta Bank's capture id after it: 404."""
    from sessions_app.services import session_assign_operator

    customer_joins(other_call.participant)
    session_assign_operator(session_id=other_call.session.pk, operator=operator_b)
    step = other_call.participant.steps.get(kind="document")
    capture = workflow_services.capture_request_create(
        step=step, operator=operator_b, kind=Evidence.Kind.DOCUMENT_FRONT
    )

    response = upload(alice, operator_capture_url(answered_call.session, capture.public_id.hex), images.jpeg())

    assert response.status_code == 404
    assert not Evidence.objects.filter(capture=capture).exists()
