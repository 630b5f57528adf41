"""Revoke a participant's link; e-mail them a fresh one."""

import uuid

import pytest
from django.core import mail

from sessions_app.models import Participant
from sessions_app.selectors import LinkInvalid, participant_resolve_link
from tests.api.test_api_authentication import assert_problem


def revoke_url(call, participant=None):
    participant = participant or call.participant
    return f"/api/v1/sessions/{call.session.public_id}/participants/{participant.public_id}/revoke-link"


def send_url(call, participant=None):
    participant = participant or call.participant
    return f"/api/v1/sessions/{call.session.public_id}/participants/{participant.public_id}/send-link"


def test_revoked_link_stops_working(api_a, live_call):
    response = api_a.post(revoke_url(live_call))
    assert response.status_code == 200
    assert response.json()["link_revoked_at"]
    with pytest.raises(LinkInvalid) as problem:
        participant_resolve_link(raw_token=live_call.link_token)
    assert problem.value.reason == LinkInvalid.REVOKED


def test_send_link_emails_a_fresh_link_and_retires_the_old_one(
    api_a, live_call, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_a.post(send_url(live_call))
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["email_queued"] is True
    new_link = body["link"]
    [message] = mail.outbox
    assert message.to == ["max@example.com"]
    assert new_link in message.body
    with pytest.raises(LinkInvalid):
        participant_resolve_link(raw_token=live_call.link_token)
    assert participant_resolve_link(raw_token=new_link.rsplit("/v/", 1)[1]).pk == live_call.participant.pk


def test_send_link_after_revoking_gives_a_working_link(api_a, live_call, django_capture_on_commit_callbacks):
    api_a.post(revoke_url(live_call))
    with django_capture_on_commit_callbacks(execute=True):
        link = api_a.post(send_url(live_call)).json()["link"]
    assert participant_resolve_link(raw_token=link.rsplit("/v/", 1)[1]).pk == live_call.participant.pk


def test_send_link_without_an_email_address_is_a_conflict(api_a, live_call):
    Participant.objects.filter(pk=live_call.participant.pk).update(email="")
    assert_problem(api_a.post(send_url(live_call)), 409, "participant_has_no_email")


def test_send_link_of_an_ended_session_is_a_conflict(api_a, live_call):
    api_a.post(f"/api/v1/sessions/{live_call.session.public_id}/cancel")
    assert_problem(api_a.post(send_url(live_call)), 409, "session_ended")


def test_another_business_cannot_touch_the_links(api_b, live_call):
    """Beta Bank: 404 for both, and Alpha's customer's link still works."""
    assert_problem(api_b.post(revoke_url(live_call)), 404, "not_found")
    assert_problem(api_b.post(send_url(live_call)), 404, "not_found")
    assert participant_resolve_link(raw_token=live_call.link_token).pk == live_call.participant.pk


def test_participant_of_another_session_is_not_found(api_a, live_call, business_a, workflow_a):
    from tests.conftest import create_call

    _session, links = create_call(business_a, workflow_a, names=("Other Person",))
    stranger = links[0][0]
    assert_problem(api_a.post(revoke_url(live_call, stranger)), 404, "not_found")
    fake = Participant(public_id=uuid.uuid4())
    assert_problem(api_a.post(send_url(live_call, fake)), 404, "not_found")
