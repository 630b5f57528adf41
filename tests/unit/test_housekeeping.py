"""The sweep that ends what silent browsers left behind."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.selectors import OPERATOR_PRESENCE, operators_available_count
from kyc.presence import presence_beat, presence_store_reset

from sessions_app.housekeeping import sessions_sweep_stale
from sessions_app.models import Participant, VerificationSession
from sessions_app.selectors import PARTICIPANT_PRESENCE
from sessions_app.services import (
    participant_accept_terms,
    participant_join,
    session_assign_operator,
)

pytestmark = pytest.mark.django_db
S = VerificationSession.State


def joined(call):
    participant_accept_terms(participant=call.participant, ip_address=None, user_agent="t")
    participant_join(participant=call.participant)


def test_customer_whose_browser_went_silent_leaves_the_queue(live_call):
    joined(live_call)
    Participant.objects.filter(pk=live_call.participant.pk).update(last_seen_at=timezone.now() - timedelta(minutes=5))

    assert sessions_sweep_stale()["left_queue"] == 1

    live_call.session.refresh_from_db()
    live_call.participant.refresh_from_db()
    assert live_call.session.state == S.CREATED
    assert live_call.participant.state == Participant.State.TERMS_ACCEPTED


def test_customer_still_heard_from_keeps_their_place(live_call):
    joined(live_call)
    assert sessions_sweep_stale()["left_queue"] == 0
    live_call.session.refresh_from_db()
    assert live_call.session.state == S.WAITING


def test_call_nobody_is_in_any_more_ends_as_interrupted(live_call, operator_a):
    joined(live_call)
    session_assign_operator(session_id=live_call.session.pk, operator=operator_a)
    long_ago = timezone.now() - timedelta(minutes=10)
    VerificationSession.objects.filter(pk=live_call.session.pk).update(answered_at=long_ago)
    Participant.objects.filter(pk=live_call.participant.pk).update(last_seen_at=long_ago)
    type(operator_a).objects.filter(pk=operator_a.pk).update(last_seen_at=long_ago)

    assert sessions_sweep_stale()["interrupted"] == 1

    live_call.session.refresh_from_db()
    assert live_call.session.state == S.ABANDONED
    assert live_call.session.audit_events.filter(action="session.transition", data__reason="interrupted").exists()


def test_call_with_the_operator_still_there_goes_on(live_call, operator_a):
    joined(live_call)
    session_assign_operator(session_id=live_call.session.pk, operator=operator_a)
    long_ago = timezone.now() - timedelta(minutes=10)
    VerificationSession.objects.filter(pk=live_call.session.pk).update(answered_at=long_ago)
    Participant.objects.filter(pk=live_call.participant.pk).update(last_seen_at=long_ago)
    type(operator_a).objects.filter(pk=operator_a.pk).update(last_seen_at=timezone.now())

    assert sessions_sweep_stale()["interrupted"] == 0


def test_session_whose_links_all_expired_unused_expires(live_call, other_call):
    Participant.objects.filter(pk=live_call.participant.pk).update(link_expires_at=timezone.now() - timedelta(hours=1))

    assert sessions_sweep_stale()["expired"] == 1

    live_call.session.refresh_from_db()
    other_call.session.refresh_from_db()
    assert live_call.session.state == S.EXPIRED
    assert other_call.session.state == S.CREATED


# --- presence in the cache (kyc/presence.py) -----------------------------------------


def test_customer_whose_lease_is_fresh_keeps_their_place_whatever_the_database_says(live_call):
    """Heartbeats renew the lease only; the database's stamp is the join."""
    joined(live_call)
    Participant.objects.filter(pk=live_call.participant.pk).update(last_seen_at=timezone.now() - timedelta(minutes=5))
    presence_beat(PARTICIPANT_PRESENCE, live_call.participant.pk)

    assert sessions_sweep_stale()["left_queue"] == 0


def test_after_the_presence_store_was_emptied_nobody_is_swept_until_they_could_beat_again(live_call):
    """Redis restarted (or the embedded process): a missing lease proves
    nothing until a whole lease window has passed."""
    joined(live_call)
    Participant.objects.filter(pk=live_call.participant.pk).update(last_seen_at=timezone.now() - timedelta(minutes=5))
    presence_store_reset()

    assert sessions_sweep_stale()["left_queue"] == 0
    later = timezone.now() + timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS + 1)
    assert sessions_sweep_stale(now=later)["left_queue"] == 1


def test_call_whose_people_still_beat_goes_on(live_call, operator_a):
    joined(live_call)
    session_assign_operator(session_id=live_call.session.pk, operator=operator_a)
    long_ago = timezone.now() - timedelta(minutes=10)
    VerificationSession.objects.filter(pk=live_call.session.pk).update(answered_at=long_ago)
    Participant.objects.filter(pk=live_call.participant.pk).update(last_seen_at=long_ago)
    type(operator_a).objects.filter(pk=operator_a.pk).update(last_seen_at=long_ago)
    presence_beat(PARTICIPANT_PRESENCE, live_call.participant.pk)

    assert sessions_sweep_stale()["interrupted"] == 0

    presence_beat(PARTICIPANT_PRESENCE, live_call.participant.pk, now=time.time() - 120)
    assert sessions_sweep_stale()["interrupted"] == 1


def test_operator_counts_as_available_while_their_lease_is_fresh(operator_a):
    long_ago = timezone.now() - timedelta(minutes=10)
    type(operator_a).objects.filter(pk=operator_a.pk).update(presence="available", last_seen_at=long_ago)
    assert operators_available_count(operator_a.business) == 0

    presence_beat(OPERATOR_PRESENCE, operator_a.pk)

    assert operators_available_count(operator_a.business) == 1
