"""A reissued (or revoked, then reissued) link also shuts out a browser that
had opened the old one."""

import pytest
from django.test import Client

from sessions_app.audit import Actor
from sessions_app.selectors import call_identity, customer_session_participant
from sessions_app.services import participant_link_reissue, participant_link_revoke

pytestmark = pytest.mark.django_db


def test_browser_of_the_old_link_is_turned_away_after_a_reissue(live_call):
    browser = Client()
    assert browser.get(f"/v/{live_call.link_token}").status_code == 302
    assert browser.get("/call/").status_code == 200

    participant_link_revoke(participant=live_call.participant, actor=Actor.api())
    new_link = participant_link_reissue(participant=live_call.participant, actor=Actor.api())

    response = browser.get("/call/")
    assert response.status_code == 410
    assert b"no longer valid" in response.content
    fresh = Client()
    assert fresh.get(new_link).status_code == 302
    assert fresh.get("/call/").status_code == 200


def test_socket_identity_needs_the_current_link(live_call):
    browser = Client()
    browser.get(f"/v/{live_call.link_token}")
    participant_id, link_hash = customer_session_participant(browser.session)
    live_call.participant.refresh_from_db()
    assert link_hash == live_call.participant.link_token_hash
    participant_link_reissue(participant=live_call.participant, actor=Actor.api())
    assert (
        call_identity(
            user=None, participant_id=participant_id, session_public_id=live_call.session.public_id, link_hash=link_hash
        )
        is None
    )


def test_declining_after_accepting_is_not_an_error(live_call):
    browser = Client()
    browser.get(f"/v/{live_call.link_token}")
    browser.post("/call/terms/accept", {"accept": "yes"})
    response = browser.post("/call/terms/decline")
    assert response.status_code == 302
    assert browser.get("/call/").status_code == 200
