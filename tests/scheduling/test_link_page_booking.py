"""The customer's link page before the call: start now or book a time, the
free times in the customer's zone, the booking with reschedule, cancel and
the .ics; another customer's browser gets none of it."""

import zoneinfo
from datetime import timedelta

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from accounts.services import operator_set_presence
from sessions_app.audit import Actor
from sessions_app.models import Booking
from sessions_app.scheduling import free_slots
from sessions_app.scheduling_services import session_book
from sessions_app.services import participant_accept_terms
from tests.conftest import create_call


def browser_for(call) -> Client:
    browser = Client()
    browser.get(f"/v/{call.link_token}")
    return browser


@pytest.fixture
def accepted(live_call):
    participant_accept_terms(participant=live_call.participant, ip_address="192.0.2.1", user_agent="pytest")
    return live_call


def test_with_no_working_hours_the_link_page_is_the_call_as_before(accepted, operator_a):
    page = browser_for(accepted).get("/call/")
    assert b"Book a time" not in page.content
    assert b"call-root" in page.content


def test_the_page_offers_booking_and_says_when_nobody_is_there_to_start_now(accepted, alice_works):
    page = browser_for(accepted).get("/call/")
    text = page.content.decode()
    assert "When would you like your call?" in text and "Book a time" in text
    assert "No operator is available right now" in text
    assert 'id="btn-start-now"' not in text


def test_start_now_is_offered_when_an_operator_is_available(accepted, alice_works):
    operator_set_presence(operator=alice_works, presence="available")
    browser = browser_for(accepted)
    assert 'id="btn-start-now"' in browser.get("/call/").content.decode()
    assert b"call-root" in browser.get("/call/?start=now").content


def test_the_free_times_are_listed_by_day_in_the_zone_the_browser_sent(accepted, alice_works):
    page = browser_for(accepted).get("/call/book?tz=America/New_York")
    text = page.content.decode()
    assert "America/New_York" in text
    first = free_slots(accepted.session.business)[0].starts_at
    assert first.astimezone(zoneinfo.ZoneInfo("America/New_York")).isoformat() in text


def test_an_unknown_zone_falls_back_to_the_business_s(accepted, alice_works):
    text = browser_for(accepted).get("/call/book?tz=Not/AZone").content.decode()
    assert "Europe/Berlin" in text


def test_booking_then_the_page_says_when_with_reschedule_cancel_and_the_ics(accepted, alice_works):
    browser = browser_for(accepted)
    slot = free_slots(accepted.session.business)[0]
    response = browser.post("/call/book", {"slot": slot.starts_at.isoformat(), "tz": "Europe/London"})
    assert response.status_code == 302 and response["Location"] == "/call/"
    booking = Booking.objects.get(session=accepted.session)
    assert booking.starts_at == slot.starts_at and booking.customer_time_zone == "Europe/London"
    text = browser.get("/call/").content.decode()
    assert "Your call is booked for" in text and "Europe/London" in text
    assert 'id="btn-reschedule"' in text and 'id="btn-cancel-booking"' in text and 'id="btn-calendar"' in text
    ics = browser.get("/call/booking.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    [event] = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert str(event["UID"]) == booking.ical_uid and event.decoded("DTSTART") == slot.starts_at


def test_join_appears_only_shortly_before_the_booked_time(accepted, alice_works):
    browser = browser_for(accepted)
    slot = free_slots(accepted.session.business)[0]
    browser.post("/call/book", {"slot": slot.starts_at.isoformat()})
    assert 'id="btn-join-booked"' not in browser.get("/call/").content.decode()
    Booking.objects.filter(session=accepted.session).update(starts_at=timezone.now() + timedelta(minutes=5))
    assert 'id="btn-join-booked"' in browser.get("/call/").content.decode()


def test_rescheduling_from_the_link_moves_the_booking(accepted, alice_works):
    browser = browser_for(accepted)
    first, second = free_slots(accepted.session.business)[:2]
    browser.post("/call/book", {"slot": first.starts_at.isoformat()})
    page = browser.get("/call/book")
    assert "Change the time of your call" in page.content.decode()
    browser.post("/call/book", {"slot": second.starts_at.isoformat()})
    booking = Booking.objects.get(session=accepted.session)
    assert (booking.starts_at, booking.sequence) == (second.starts_at, 1)


def test_cancelling_from_the_link_offers_the_choice_again(accepted, alice_works):
    browser = browser_for(accepted)
    browser.post("/call/book", {"slot": free_slots(accepted.session.business)[0].starts_at.isoformat()})
    assert browser.post("/call/book/cancel").status_code == 302
    assert Booking.objects.get(session=accepted.session).state == "cancelled"
    assert "When would you like your call?" in browser.get("/call/").content.decode()


def test_a_taken_time_says_so_and_lists_the_others(accepted, alice_works, business_a, workflow_a):
    slot = free_slots(business_a)[0]
    other, _ = create_call(business_a, workflow_a, names=("Erika Muster",))
    session_book(session=other, starts_at=slot.starts_at, actor=Actor.customer())
    response = browser_for(accepted).post("/call/book", {"slot": slot.starts_at.isoformat()})
    assert response.status_code == 409
    assert "not free any more" in response.content.decode()


def test_a_post_without_a_time_is_refused(accepted, alice_works):
    assert browser_for(accepted).post("/call/book", {"slot": "tomorrow"}).status_code == 400


@pytest.mark.parametrize("slot", ["2026-02-30T10:00:00+01:00", "2026-12-08T10:00:00", ""])
def test_a_time_that_does_not_exist_or_has_no_zone_is_refused_with_the_times_again(accepted, alice_works, slot):
    response = browser_for(accepted).post("/call/book", {"slot": slot})
    assert response.status_code == 400
    assert "Please choose a time." in response.content.decode()
    assert not Booking.objects.filter(session=accepted.session).exists()


def test_another_customer_cannot_touch_this_booking(accepted, other_call, alice_works):
    slot = free_slots(accepted.session.business)[0]
    session_book(session=accepted.session, starts_at=slot.starts_at, actor=Actor.customer())
    stranger = browser_for(other_call)
    stranger.post("/call/book/cancel")
    assert Booking.objects.get(session=accepted.session).state == "booked"
    assert Client().get("/call/booking.ics").status_code == 403
