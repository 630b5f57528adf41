"""A logged-in user who is not an operator (Oscar the outsider, Carol the
compliance reviewer) gets a 403 page from every console endpoint."""

import pytest

from tests.console.helpers import (
    OPERATOR_ENDPOINTS,
    call_fingerprint,
    operator_browser,
    operator_request,
)


@pytest.mark.parametrize("endpoint", OPERATOR_ENDPOINTS)
def test_outsider_gets_403_from_every_console_endpoint(
    endpoint, oscar, answered_call, document_capture, stored_evidence
):
    before = call_fingerprint(answered_call.session)

    response = operator_request(
        oscar,
        endpoint,
        session=answered_call.session,
        participant=answered_call.participant,
        capture_id=document_capture.public_id.hex,
        evidence_id=stored_evidence.public_id.hex,
    )

    assert response.status_code == 403
    assert b"Max Mustermann" not in response.content
    assert call_fingerprint(answered_call.session) == before


@pytest.mark.parametrize("endpoint", ["console", "call", "evidence"])
def test_compliance_reviewer_is_not_an_operator(
    endpoint, compliance_user, answered_call, document_capture, stored_evidence
):
    response = operator_request(
        operator_browser(compliance_user),
        endpoint,
        session=answered_call.session,
        participant=answered_call.participant,
        capture_id=document_capture.public_id.hex,
        evidence_id=stored_evidence.public_id.hex,
    )

    assert response.status_code == 403


def test_operator_whose_user_was_deactivated_is_refused(operator_a, answered_call):
    client = operator_browser(operator_a.user)
    operator_a.user.is_active = False
    operator_a.user.save()

    response = client.get(f"/console/calls/{answered_call.session.public_id.hex}/")

    assert response.status_code == 302
    assert response.url.startswith("/console/login/")
