"""POST /api/v1/sessions/{id}/cancel."""

import pytest

from sessions_app.audit import Actor
from sessions_app.models import VerificationSession
from sessions_app.selectors import LinkInvalid, participant_resolve_link
from sessions_app.services import session_end
from tests.api.test_api_authentication import assert_problem


def url(session):
    return f"/api/v1/sessions/{session.public_id}/cancel"


def test_cancel_ends_the_session_and_its_links(api_a, live_call):
    response = api_a.post(url(live_call.session))
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert response.json()["ended_at"]
    with pytest.raises(LinkInvalid):
        participant_resolve_link(raw_token=live_call.link_token)


def test_cancel_of_a_running_call_takes_everybody_out(api_a, answered_call):
    response = api_a.post(url(answered_call.session))
    assert response.status_code == 200
    assert response.json()["participants"][0]["state"] == "left"


def test_cancelling_twice_answers_the_cancelled_session(api_a, live_call):
    api_a.post(url(live_call.session))
    again = api_a.post(url(live_call.session))
    assert again.status_code == 200
    assert again.json()["state"] == "cancelled"


def test_an_ended_session_cannot_be_cancelled(api_a, answered_call):
    session_end(session=answered_call.session, actor=Actor.system())
    assert_problem(api_a.post(url(answered_call.session)), 409, "session_ended")
    answered_call.session.refresh_from_db()
    assert answered_call.session.state == VerificationSession.State.ABANDONED


def test_another_business_cannot_cancel(api_b, live_call):
    """Beta Bank gets 404 and Alpha's session stays as it was."""
    assert_problem(api_b.post(url(live_call.session)), 404, "not_found")
    live_call.session.refresh_from_db()
    assert live_call.session.state == VerificationSession.State.CREATED


def test_cancel_needs_post(api_a, live_call):
    assert_problem(api_a.get(url(live_call.session)), 405, "method_not_allowed")
