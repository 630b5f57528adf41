"""Booking, moving and cancelling a call (sessions_app.scheduling_services),
with the audit trail, the webhook and the customer's e-mail and .ics."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.models import Business
from operators.models import WebhookEvent
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Booking
from sessions_app.scheduling import free_slots
from sessions_app.scheduling_services import SlotNotAvailable, session_book, session_booking_cancel
from sessions_app.services import session_cancel
from tests.conftest import create_call

NINE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
TEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def hooked(business_a):
    Business.objects.filter(pk=business_a.pk).update(webhook_url="https://alpha-hooks.example/verity")
    business_a.refresh_from_db()
    return business_a


def calendar_of(message) -> tuple[str, icalendar.Event]:
    [(_name, content, mimetype)] = [a for a in message.attachments if a[0].endswith(".ics")]
    calendar = icalendar.Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event, mimetype


def test_booking_a_free_slot_books_it_with_the_working_operator(hooked, live_call, alice_works, monday_8am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        booking = session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), customer_time_zone="Europe/London", now=monday_8am)
    assert (booking.state, booking.starts_at, booking.ends_at) == ("booked", NINE, NINE + timedelta(minutes=30))
    assert booking.operator == alice_works
    assert booking.customer_time_zone == "Europe/London"
    assert AuditEvent.objects.filter(session=live_call.session, action="booking.scheduled").count() == 1
    [event] = WebhookEvent.objects.filter(session=live_call.session, event_type="session.scheduled")
    assert '"scheduled_for":"2026-01-05T08:00:00+00:00"' in event.body


def test_the_customer_gets_an_invitation_with_a_valid_ics(hooked, live_call, alice_works, monday_8am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        booking = session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), customer_time_zone="Europe/London", now=monday_8am)
    [message] = mail.outbox
    assert message.to == ["max@example.com"]
    assert "booked" in message.subject
    assert "Monday" in message.body and "08:00" in message.body and "Europe/London" in message.body
    method, event, mimetype = calendar_of(message)
    assert method == "REQUEST" and "method=REQUEST" in mimetype
    assert str(event["UID"]) == booking.ical_uid
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == NINE
    assert event.decoded("DTEND") == NINE + timedelta(minutes=30)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "max@example.com" in str(event["ATTENDEE"])
    assert "Alpha Bank" in str(event["SUMMARY"])


def test_moving_a_booking_keeps_its_uid_and_bumps_the_sequence(hooked, live_call, alice_works, monday_8am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), now=monday_8am)
    with django_capture_on_commit_callbacks(execute=True):
        moved = session_book(session=live_call.session, starts_at=TEN, actor=Actor.customer(), now=monday_8am)
    assert moved.pk == first.pk and moved.ical_uid == first.ical_uid
    assert (moved.starts_at, moved.sequence) == (TEN, 1)
    assert Booking.objects.count() == 1
    method, event, _ = calendar_of(mail.outbox[-1])
    assert (method, int(event["SEQUENCE"]), str(event["UID"])) == ("REQUEST", 1, first.ical_uid)
    assert event.decoded("DTSTART") == TEN
    assert "new time" in mail.outbox[-1].subject
    [event] = WebhookEvent.objects.filter(session=live_call.session, event_type="session.rescheduled")
    assert '"previous_scheduled_for":"2026-01-05T08:00:00+00:00"' in event.body


def test_moving_to_its_own_time_is_allowed_when_the_operator_is_the_only_one(live_call, alice_works, monday_8am):
    """A booking does not hold its own slot against itself."""
    session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), now=monday_8am)
    assert session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), now=monday_8am).sequence == 1


def test_cancelling_sends_a_cancel_with_the_same_uid_and_a_higher_sequence(hooked, live_call, alice_works, monday_8am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        booking = session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), now=monday_8am)
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = session_booking_cancel(session=live_call.session, actor=Actor.customer())
    assert (cancelled.state, cancelled.sequence) == ("cancelled", 1)
    method, event, mimetype = calendar_of(mail.outbox[-1])
    assert method == "CANCEL" and "method=CANCEL" in mimetype
    assert (str(event["UID"]), int(event["SEQUENCE"]), str(event["STATUS"])) == (booking.ical_uid, 1, "CANCELLED")
    assert WebhookEvent.objects.filter(session=live_call.session, event_type="session.booking_cancelled").count() == 1
    assert AuditEvent.objects.filter(session=live_call.session, action="booking.cancelled").count() == 1
    # The time is free again.
    other, _ = create_call(hooked, live_call.session.workflow, names=("Erika Muster",))
    assert session_book(session=other, starts_at=NINE, actor=Actor.customer(), now=monday_8am).operator == alice_works


def test_booking_again_after_a_cancellation_is_a_new_calendar_event(live_call, alice_works, monday_8am):
    first = session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), now=monday_8am)
    uid = first.ical_uid
    session_booking_cancel(session=live_call.session, actor=Actor.customer())
    again = session_book(session=live_call.session, starts_at=TEN, actor=Actor.customer(), now=monday_8am)
    assert again.ical_uid != uid and again.sequence == 0 and again.state == "booked"


def test_a_taken_slot_is_refused(business_a, workflow_a, live_call, alice_works, monday_8am):
    session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), now=monday_8am)
    other, _ = create_call(business_a, workflow_a, names=("Erika Muster",))
    with pytest.raises(SlotNotAvailable):
        session_book(session=other, starts_at=NINE, actor=Actor.customer(), now=monday_8am)
    assert not Booking.objects.filter(session=other).exists()


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 1, 5, 8, 10, tzinfo=UTC),  # not on the slot grid
        datetime(2026, 1, 5, 6, 0, tzinfo=UTC),  # in the past
        datetime(2026, 1, 5, 14, 0, tzinfo=UTC),  # outside working hours
        datetime(2026, 3, 2, 8, 0, tzinfo=UTC),  # beyond the horizon
    ],
)
def test_a_time_that_is_no_slot_is_refused(live_call, alice_works, monday_8am, when):
    with pytest.raises(SlotNotAvailable):
        session_book(session=live_call.session, starts_at=when, actor=Actor.customer(), now=monday_8am)


def test_a_session_already_in_the_queue_cannot_be_booked(waiting_call, alice_works, monday_8am):
    with pytest.raises(ValidationError):
        session_book(session=waiting_call.session, starts_at=NINE, actor=Actor.customer(), now=monday_8am)


def test_another_business_s_operator_cannot_be_booked(live_call, alice_works, operator_b, monday_8am):
    with pytest.raises(ValidationError):
        session_book(session=live_call.session, starts_at=NINE, operator=operator_b, actor=Actor.api(), now=monday_8am)


def test_a_bad_browser_zone_is_not_stored(live_call, alice_works, monday_8am):
    booking = session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), customer_time_zone="<script>", now=monday_8am)
    assert booking.customer_time_zone == ""


def test_a_link_that_would_expire_before_the_booked_call_lasts_until_it(live_call, alice_works, monday_8am):
    """Links last 72 hours by default; a call booked a week ahead must still be joinable with it."""
    a_week_on = NINE + timedelta(days=7)
    # The link as made on the test's Monday (the fixture made it on the real clock's day).
    type(live_call.participant).objects.filter(pk=live_call.participant.pk).update(link_expires_at=monday_8am + timedelta(hours=72))
    booking = session_book(session=live_call.session, starts_at=a_week_on, actor=Actor.customer(), now=monday_8am)
    live_call.participant.refresh_from_db()
    assert live_call.participant.link_expires_at == booking.ends_at + timedelta(minutes=15)


def test_cancelling_the_session_cancels_its_booking_and_frees_the_time(hooked, live_call, alice_works, monday_8am, django_capture_on_commit_callbacks):
    booking = session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), now=monday_8am)
    with django_capture_on_commit_callbacks(execute=True):
        session_cancel(session=live_call.session, actor=Actor.api())
    booking.refresh_from_db()
    assert (booking.state, booking.sequence) == ("cancelled", 1)
    method, event, _ = calendar_of(mail.outbox[-1])
    assert (method, str(event["UID"])) == ("CANCEL", booking.ical_uid)
    other, _ = create_call(hooked, live_call.session.workflow, names=("Erika Muster",))
    assert session_book(session=other, starts_at=NINE, actor=Actor.customer(), now=monday_8am).operator == alice_works


def test_a_deactivated_operator_s_hours_are_no_slots(business_a, alice_works, monday_8am):
    type(alice_works.user).objects.filter(pk=alice_works.user_id).update(is_active=False)
    assert free_slots(business_a, now=monday_8am) == []
