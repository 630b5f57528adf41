"""Nobody reaches the operator console without logging in: every endpoint
sends an anonymous browser to the login page and changes nothing."""

import pytest

from tests.console.helpers import OPERATOR_ENDPOINTS, call_fingerprint, operator_request


@pytest.mark.parametrize("endpoint", OPERATOR_ENDPOINTS)
def test_anonymous_browser_is_sent_to_login_by_every_console_endpoint(
    endpoint, anonymous, answered_call, document_capture, stored_evidence
):
    before = call_fingerprint(answered_call.session)

    response = operator_request(
        anonymous,
        endpoint,
        session=answered_call.session,
        participant=answered_call.participant,
        capture_id=document_capture.public_id.hex,
        evidence_id=stored_evidence.public_id.hex,
    )

    assert response.status_code == 302
    assert response.url.startswith("/console/login/?next=/console/")
    assert call_fingerprint(answered_call.session) == before


def test_login_page_itself_is_open_to_anonymous_browsers(anonymous):
    response = anonymous.get("/console/login/")

    assert response.status_code == 200
