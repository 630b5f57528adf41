"""At the slot, a booked call rings its booked operator first: for the
business's ring time after the customer joins, only that operator sees it in
the console's queue and may answer it; then the whole pool."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Business
from operators.selectors import queue_snapshot
from sessions_app.models import Booking, VerificationSession
from sessions_app.scheduling import booked_operator_only
from sessions_app.services import SessionNotAvailable, participant_accept_terms, participant_join, session_assign_operator
from tests.scheduling.conftest import hours


@pytest.fixture
def booked_with_anton(live_call, operator_a, operator_a2):
    """Max booked a call with Anton (set-up: the booking moved to now, the
    way the browser test moves it; booking itself is tested elsewhere)."""
    hours(operator_a2)
    now = timezone.now()
    Booking.objects.create(
        session=live_call.session, operator=operator_a2, starts_at=now, ends_at=now + timedelta(minutes=30),
        ical_uid="test-uid@verity",
    )
    participant_accept_terms(participant=live_call.participant, ip_address="192.0.2.1", user_agent="pytest")
    participant_join(participant=live_call.participant)
    live_call.session.refresh_from_db()
    return live_call


def _queue_ids(operator):
    return [entry["id"] for entry in queue_snapshot(operator=operator)["entries"]]


def test_only_the_booked_operator_sees_the_call_at_first(booked_with_anton, operator_a, operator_a2):
    sid = booked_with_anton.session.public_id.hex
    assert _queue_ids(operator_a2) == [sid]
    assert _queue_ids(operator_a) == []
    [entry] = queue_snapshot(operator=operator_a2)["entries"]
    assert entry["booked_operator"] == operator_a2.pk
    assert entry["booked_for"]


def test_another_operator_cannot_answer_it_in_the_booked_operator_s_time(booked_with_anton, operator_a, operator_a2):
    with pytest.raises(SessionNotAvailable):
        session_assign_operator(session_id=booked_with_anton.session.pk, operator=operator_a)
    session = session_assign_operator(session_id=booked_with_anton.session.pk, operator=operator_a2)
    assert session.state == VerificationSession.State.IN_CALL and session.operator == operator_a2


def test_after_the_ring_time_the_whole_pool_gets_it(booked_with_anton, operator_a, operator_a2):
    session = booked_with_anton.session
    ring = timedelta(seconds=session.business.booked_operator_ring_seconds)
    assert booked_operator_only(session, session.waiting_at + ring - timedelta(seconds=1)) == operator_a2
    assert booked_operator_only(session, session.waiting_at + ring) is None
    VerificationSession.objects.filter(pk=session.pk).update(waiting_at=timezone.now() - ring)
    assert _queue_ids(operator_a) == [session.public_id.hex]
    assert session_assign_operator(session_id=session.pk, operator=operator_a).operator == operator_a


def test_the_ring_time_is_the_business_s_setting(booked_with_anton, operator_a):
    Business.objects.filter(pk=booked_with_anton.session.business_id).update(booked_operator_ring_seconds=0)
    assert _queue_ids(operator_a) == [booked_with_anton.session.public_id.hex]


def test_a_call_that_was_not_booked_goes_to_everyone(waiting_call, operator_a, operator_a2):
    assert booked_operator_only(waiting_call.session, timezone.now()) is None
    assert _queue_ids(operator_a) == _queue_ids(operator_a2) == [waiting_call.session.public_id.hex]
    assert "booked_for" not in queue_snapshot(operator=operator_a)["entries"][0]


def test_a_cancelled_booking_rings_nobody_first(booked_with_anton, operator_a):
    Booking.objects.filter(session=booked_with_anton.session).update(state=Booking.State.CANCELLED)
    assert _queue_ids(operator_a) == [booked_with_anton.session.public_id.hex]


def test_the_booking_comes_before_routing_and_routing_after_the_ring_time(booked_with_anton, operator_a, operator_a2):
    """With routing on, a German call booked with Anton (who speaks only
    English) still rings Anton first; the German-speaking Alice gets it when
    the ring time ends, and Anton keeps it only until routing's fallback."""
    from operators import routing

    session = booked_with_anton.session
    Business.objects.filter(pk=session.business_id).update(routing_fallback_seconds=600)
    booked_with_anton.participant.__class__.objects.filter(pk=booked_with_anton.participant.pk).update(language="de")
    operator_a.languages, operator_a2.languages = ["de"], ["en"]
    operator_a.save(update_fields=["languages"])
    operator_a2.save(update_fields=["languages"])
    session = VerificationSession.objects.select_related("business").get(pk=session.pk)
    ring_ends = session.waiting_at + timedelta(seconds=session.business.booked_operator_ring_seconds)

    anton_first = routing.session_offered_to(session=session, operator=operator_a2, now=session.waiting_at)
    alice_first = routing.session_offered_to(session=session, operator=operator_a, now=session.waiting_at)
    anton_after = routing.session_offered_to(session=session, operator=operator_a2, now=ring_ends)
    alice_after = routing.session_offered_to(session=session, operator=operator_a, now=ring_ends)

    assert (anton_first.offered, anton_first.reason) == (True, routing.BOOKED)
    assert (alice_first.offered, alice_first.reason, alice_first.fallback_at) == (False, routing.BOOKED_ELSEWHERE, ring_ends)
    assert alice_first.label == f"booked with {operator_a2.display_name}"
    assert (alice_after.offered, alice_after.reason) == (True, routing.FITS)
    assert (anton_after.offered, anton_after.reason) == (False, routing.NOT_LANGUAGE)
