"""A customer's browser holds a session cookie that opens their own call
page. It must open nothing of the operator console: every console endpoint
treats it as not logged in."""

import pytest

from tests.console.helpers import OPERATOR_ENDPOINTS, call_fingerprint, operator_request


def test_customer_browser_does_reach_its_own_call_page(customer):
    """The cookie is live, so the refusals below are about the role, not a dead cookie."""
    assert customer.get("/call/").status_code == 200


@pytest.mark.parametrize("endpoint", OPERATOR_ENDPOINTS)
def test_customer_session_cookie_opens_no_console_endpoint(
    endpoint, customer, answered_call, document_capture, stored_evidence
):
    before = call_fingerprint(answered_call.session)

    response = operator_request(
        customer,
        endpoint,
        session=answered_call.session,
        participant=answered_call.participant,
        capture_id=document_capture.public_id.hex,
        evidence_id=stored_evidence.public_id.hex,
    )

    assert response.status_code == 302
    assert response.url.startswith("/console/login/")
    assert call_fingerprint(answered_call.session) == before
