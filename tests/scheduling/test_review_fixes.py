"""The booked calls' review findings (issue 21): a resent link lasts until
the booked call; a call held early closes its booking (the calendar event
goes, no reminder follows); embedded mode's cron sends the notices; nobody
joins before the booked time; nobody cancels while waiting or in the call;
booking then cancelling does not stretch a link; a raced operator is
replaced by another free one."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from operators.scheduling_notices import booking_reminders_send
from sessions_app import scheduling_services
from sessions_app.audit import Actor
from sessions_app.housekeeping import sessions_sweep_stale
from sessions_app.models import Booking, Participant, VerificationSession
from sessions_app.scheduling import booking_link_expiry, free_slots
from sessions_app.scheduling_services import session_book, session_booking_cancel
from sessions_app.services import (
    participant_accept_terms,
    participant_join,
    participant_link_reissue,
    session_assign_operator,
    session_end,
)
from tests.conftest import create_call

NINE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin


@pytest.fixture
def accepted(live_call):
    participant_accept_terms(participant=live_call.participant, ip_address="192.0.2.1", user_agent="pytest")
    return live_call


def _book_last_free_slot(call) -> Booking:
    """A real booking, as far ahead as the horizon allows (times from the clock)."""
    slot = free_slots(call.session.business)[-1]
    return session_book(session=call.session, starts_at=slot.starts_at, actor=Actor.customer())


def _move_booking_to(booking: Booking, starts_at: datetime) -> None:
    Booking.objects.filter(pk=booking.pk).update(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30))


def _browser(call) -> Client:
    browser = Client()
    browser.get(f"/v/{call.link_token}")
    return browser


def _participant(call) -> Participant:
    return Participant.objects.get(pk=call.participant.pk)


# 1. A resent link lasts until the booked call.


def test_a_resent_link_lasts_until_the_booked_call_and_the_sweep_leaves_it(accepted, alice_works):
    booking = _book_last_free_slot(accepted)
    participant_link_reissue(participant=accepted.participant, actor=Actor.api(), link_ttl=timedelta(hours=1))
    assert _participant(accepted).link_expires_at == booking_link_expiry(booking)
    sessions_sweep_stale(now=timezone.now() + timedelta(hours=2))
    assert VerificationSession.objects.get(pk=accepted.session.pk).state == VerificationSession.State.CREATED
    assert Booking.objects.get(pk=booking.pk).state == Booking.State.BOOKED


def test_a_resent_link_without_a_booking_gets_its_plain_lifetime(accepted):
    before = timezone.now()
    participant_link_reissue(participant=accepted.participant, actor=Actor.api(), link_ttl=timedelta(hours=1))
    expires = _participant(accepted).link_expires_at
    assert before + timedelta(hours=1) <= expires <= timezone.now() + timedelta(hours=1)


# 2. A call held early closes its booking.


@pytest.fixture
def held_early(accepted, alice_works, operator_a, celery_eager, django_capture_on_commit_callbacks):
    booking = _book_last_free_slot(accepted)
    _move_booking_to(booking, timezone.now() + timedelta(minutes=5))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        participant_join(participant=_participant(accepted))
        session_assign_operator(session_id=accepted.session.pk, operator=operator_a)
        session_end(session=VerificationSession.objects.get(pk=accepted.session.pk), actor=Actor.system())
    return Booking.objects.get(pk=booking.pk)


def test_a_call_ended_before_its_booked_time_cancels_the_calendar_event(held_early):
    assert held_early.state == Booking.State.CANCELLED
    [message] = mail.outbox
    assert "has taken place" in message.subject
    assert "book a new time" not in message.body
    [(name, content, mimetype)] = [a for a in message.attachments if a[0].endswith(".ics")]
    assert "method=CANCEL" in mimetype
    [event] = icalendar.Calendar.from_ical(content).walk("VEVENT")
    assert str(event["UID"]) == held_early.ical_uid and int(event["SEQUENCE"]) == held_early.sequence


def test_a_call_held_early_gets_no_reminder(held_early):
    mail.outbox.clear()
    assert booking_reminders_send(now=timezone.now()) == 0
    assert mail.outbox == []


def test_a_customer_waiting_for_the_booked_call_gets_no_reminder(accepted, alice_works):
    booking = _book_last_free_slot(accepted)
    _move_booking_to(booking, timezone.now() + timedelta(minutes=5))
    participant_join(participant=_participant(accepted))
    mail.outbox.clear()
    assert booking_reminders_send(now=timezone.now()) == 0
    assert mail.outbox == []


# 3. Embedded mode: the cron command sends the booking notices.


def test_run_periodic_tasks_sends_the_reminder_in_embedded_mode(accepted, alice_works, capsys):
    booking = _book_last_free_slot(accepted)
    _move_booking_to(booking, timezone.now() + timedelta(minutes=30))
    mail.outbox.clear()
    call_command("run_periodic_tasks", "--only", "bookings")
    assert "booking notices" in capsys.readouterr().out
    assert [m.subject for m in mail.outbox if m.subject.startswith("Reminder")]
    assert Booking.objects.get(pk=booking.pk).reminder_sent_at is not None


# 4. Nobody joins a booked call before its time.


def test_joining_before_the_booked_time_is_refused(accepted, alice_works):
    booking = _book_last_free_slot(accepted)
    with pytest.raises(ValidationError, match="booked for a later time"):
        participant_join(participant=_participant(accepted))
    browser = _browser(accepted)
    page = browser.get("/call/?start=now")
    assert page.status_code == 409
    text = page.content.decode()
    assert "booked for a later time" in text and "Your call is booked for" in text and "call-root" not in text
    response = browser.post("/call/join")
    assert response.status_code == 409 and "booked for a later time" in response.content.decode()
    assert VerificationSession.objects.get(pk=accepted.session.pk).state == VerificationSession.State.CREATED
    _move_booking_to(booking, timezone.now() + timedelta(minutes=5))  # inside the early-join window
    assert browser.post("/call/join").status_code == 200
    assert VerificationSession.objects.get(pk=accepted.session.pk).state == VerificationSession.State.WAITING


# 5. Nobody cancels while waiting or in the call.


def test_a_waiting_customer_cannot_cancel_the_booking(accepted, alice_works):
    booking = _book_last_free_slot(accepted)
    _move_booking_to(booking, timezone.now() + timedelta(minutes=5))
    browser = _browser(accepted)
    assert browser.post("/call/join").status_code == 200
    assert browser.post("/call/book/cancel").status_code == 302
    assert Booking.objects.get(pk=booking.pk).state == Booking.State.BOOKED


# 6. Booking then cancelling does not stretch a link.


def test_cancelling_gives_the_link_back_its_expiry_from_before_the_booking(accepted, alice_works):
    original = timezone.now() + timedelta(hours=1)
    Participant.objects.filter(pk=accepted.participant.pk).update(link_expires_at=original)
    booking = _book_last_free_slot(accepted)
    assert _participant(accepted).link_expires_at == booking_link_expiry(booking)
    session_booking_cancel(session=accepted.session, actor=Actor.customer())
    assert _participant(accepted).link_expires_at == original


def test_cancelling_never_sets_the_expiry_before_now(accepted, alice_works):
    Participant.objects.filter(pk=accepted.participant.pk).update(link_expires_at=timezone.now() + timedelta(minutes=1))
    _book_last_free_slot(accepted)
    # The original expiry passes while the booking holds the link open.
    events = accepted.session.audit_events.filter(action="booking.scheduled")
    for event in events:
        event_data = dict(event.data)
        event_data["link_expires_before"] = {str(accepted.participant.pk): (timezone.now() - timedelta(hours=1)).isoformat()}
        type(event).objects.filter(pk=event.pk).update(data=event_data)
    before = timezone.now()
    session_booking_cancel(session=accepted.session, actor=Actor.customer())
    assert before <= _participant(accepted).link_expires_at <= timezone.now()


def test_a_link_resent_while_booked_keeps_its_own_lifetime_after_cancelling(accepted, alice_works):
    Participant.objects.filter(pk=accepted.participant.pk).update(link_expires_at=timezone.now() + timedelta(hours=1))
    _book_last_free_slot(accepted)
    participant_link_reissue(participant=accepted.participant, actor=Actor.api(), link_ttl=timedelta(hours=5))
    session_booking_cancel(session=accepted.session, actor=Actor.customer())
    expires = _participant(accepted).link_expires_at
    assert timezone.now() + timedelta(hours=4) < expires <= timezone.now() + timedelta(hours=5)


# 7. Two customers racing for the same operator: the loser gets the other free one.


def test_a_raced_operator_is_replaced_by_another_free_one(live_call, alice_works, anton_works, business_a, workflow_a, monday_8am, monkeypatch):
    rival, _links = create_call(business_a, workflow_a, names=("Erika Muster",))
    real_lock = scheduling_services._lock_operator
    raced = []

    def lock_after_a_rival_took_it(operator_id):
        if not raced:
            # The rival books the same operator while this booking waits for the lock.
            raced.append(operator_id)
            session_book(session=rival, starts_at=NINE, actor=Actor.customer(), operator=type(alice_works).objects.get(pk=operator_id), now=monday_8am)
        return real_lock(operator_id)

    monkeypatch.setattr(scheduling_services, "_lock_operator", lock_after_a_rival_took_it)
    booking = session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), now=monday_8am)
    rival_booking = Booking.objects.get(session=rival)
    assert {booking.operator_id, rival_booking.operator_id} == {alice_works.pk, anton_works.pk}


def test_an_asked_for_operator_who_was_raced_is_refused(live_call, alice_works, anton_works, business_a, workflow_a, monday_8am, monkeypatch):
    rival, _links = create_call(business_a, workflow_a, names=("Erika Muster",))
    real_lock = scheduling_services._lock_operator
    raced = []

    def lock_after_a_rival_took_it(operator_id):
        if not raced:
            raced.append(operator_id)
            session_book(session=rival, starts_at=NINE, actor=Actor.customer(), operator=alice_works, now=monday_8am)
        return real_lock(operator_id)

    monkeypatch.setattr(scheduling_services, "_lock_operator", lock_after_a_rival_took_it)
    with pytest.raises(scheduling_services.SlotNotAvailable):
        session_book(session=live_call.session, starts_at=NINE, actor=Actor.customer(), operator=alice_works, now=monday_8am)


# 8. The link page's decisions are selectors (sessions_app.scheduling), one time format for page and e-mail.


def test_the_link_page_s_decisions_are_selectors(accepted, alice_works):
    from operators.scheduling_notices import booking_time_text
    from sessions_app import scheduling

    participant = _participant(accepted)
    assert scheduling.booking_allowed(participant)
    assert scheduling.booking_choice_due(participant, start_now=False)
    assert not scheduling.booking_choice_due(participant, start_now=True)
    booking = _book_last_free_slot(accepted)
    assert scheduling.booked_for_later(_participant(accepted))
    zone = scheduling.customer_zone(accepted.session, browser_zone="Not/AZone", booking=booking)
    assert zone.key == "Europe/Berlin"
    assert booking_time_text(booking) == f"{scheduling.time_text(booking.starts_at, zone)} (Europe/Berlin)"
    page = _browser(accepted).get("/call/").content.decode()
    assert scheduling.time_text(booking.starts_at, zone) in page
