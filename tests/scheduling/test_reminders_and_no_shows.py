"""The reminder before a booked call goes once; a customer who never joins
is recorded as a no-show by the housekeeping sweep, with its audit event and
webhook; one who joined is not."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Business
from operators import tasks
from operators.models import WebhookEvent
from operators.scheduling_notices import booking_email_send, booking_notices_due, booking_reminders_send
from sessions_app.audit import Actor
from sessions_app.housekeeping import sessions_sweep_stale
from sessions_app.models import AuditEvent, Booking
from sessions_app.scheduling_services import booking_record_no_show, session_book
from sessions_app.services import participant_accept_terms, participant_join

NINE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def booked(live_call, alice_works, monday_8am):
    Business.objects.filter(pk=live_call.session.business_id).update(webhook_url="https://alpha-hooks.example/verity")
    live_call.session.business.refresh_from_db()
    session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), now=monday_8am)
    mail.outbox.clear()
    return live_call


def test_the_reminder_goes_once_when_its_time_has_come(booked):
    assert booking_reminders_send(now=NINE - timedelta(minutes=61)) == 0  # reminder 60 minutes before
    assert mail.outbox == []
    assert booking_reminders_send(now=NINE - timedelta(minutes=59)) == 1
    assert booking_reminders_send(now=NINE - timedelta(minutes=58)) == 0
    [message] = mail.outbox
    assert message.subject.startswith("Reminder")
    assert any(name.endswith(".ics") for name, *_ in message.attachments)
    assert AuditEvent.objects.filter(session=booked.session, action="booking.reminder_sent").count() == 1


def test_moving_the_booking_sends_a_new_reminder_for_the_new_time(booked, monday_8am):
    booking_reminders_send(now=NINE - timedelta(minutes=30))
    session_book(session=booked.session, starts_at=NINE + timedelta(hours=1), actor=Actor.customer(), now=monday_8am)
    assert Booking.objects.get(session=booked.session).reminder_sent_at is None


def test_a_change_s_e_mail_goes_once_even_when_its_task_runs_twice(booked):
    booking = Booking.objects.get(session=booked.session)
    Booking.objects.filter(pk=booking.pk).update(notified_sequence=-1)
    assert booking_email_send(booking_id=booking.pk, sequence=0) == "sent"
    assert booking_email_send(booking_id=booking.pk, sequence=0) == "not_due"
    assert len(mail.outbox) == 1


def test_the_sweep_finds_a_change_whose_e_mail_task_was_lost(booked):
    booking = Booking.objects.get(session=booked.session)
    Booking.objects.filter(pk=booking.pk).update(notified_sequence=-1, updated_at=NINE - timedelta(hours=1))
    assert booking_notices_due(now=NINE - timedelta(minutes=30)) == [(booking.pk, 0)]


def test_a_customer_who_never_joined_is_a_no_show_after_the_business_s_minutes(booked):
    booking = Booking.objects.get(session=booked.session)
    assert booking_record_no_show(booking_id=booking.pk, now=NINE + timedelta(minutes=14)) is False
    counts = sessions_sweep_stale(now=NINE + timedelta(minutes=16))
    assert counts["no_show"] == 1
    booking.refresh_from_db()
    assert booking.state == "no_show" and booking.no_show_at == NINE + timedelta(minutes=16)
    assert AuditEvent.objects.filter(session=booked.session, action="booking.no_show").count() == 1
    assert WebhookEvent.objects.filter(session=booked.session, event_type="session.no_show").count() == 1
    # Idempotent: the next sweep records nothing more.
    assert "no_show" not in sessions_sweep_stale(now=NINE + timedelta(minutes=17))
    assert AuditEvent.objects.filter(session=booked.session, action="booking.no_show").count() == 1


def test_a_customer_who_joined_is_not_a_no_show(booked):
    participant_accept_terms(participant=booked.participant, ip_address="192.0.2.1", user_agent="pytest")
    participant_join(participant=booked.participant)
    booked.session.refresh_from_db()
    booking = Booking.objects.get(session=booked.session)
    # The join was "now" (the real clock, long after the test's Monday): well after the booked time's start.
    assert booking_record_no_show(booking_id=booking.pk, now=booked.session.waiting_at + timedelta(minutes=20)) is False
    assert Booking.objects.get(pk=booking.pk).state == "booked"


def test_the_beat_task_sends_due_reminders_once(booked, settings):
    """operators.tasks.booking_notices, as Celery beat runs it every minute."""
    assert settings.CELERY_BEAT_SCHEDULE["booking-notices"]["task"] == "operators.tasks.booking_notices"
    Booking.objects.filter(session=booked.session).update(starts_at=timezone.now() + timedelta(minutes=30), ends_at=timezone.now() + timedelta(hours=1))
    assert tasks.booking_notices()["reminders"] == 1
    assert tasks.booking_notices()["reminders"] == 0
    assert len(mail.outbox) == 1
