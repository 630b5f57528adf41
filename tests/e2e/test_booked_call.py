"""A booked call, through the real pages.

Business "booked" has two operators: Anna, who works every day (working
hours), and Ben, who has none. Max opens his link, accepts the terms, and
the page offers "Book a time" (nobody is available to start now): he picks
the first free time, confirms, and the page says "Your call is booked for
…" — also after a reload — with the .ics to download (parsed back here).
Joining before the time (``?start=now`` typed in) shows the booking again
with the reason.

Then the clock is moved: the test moves the booking's time to now in the
server's database (a direct UPDATE through `manage.py shell`, the one thing
the test does behind the pages' back; the product's own services only ever
book free future slots). The page now offers "Join the call"; Max joins,
and Anna, the booked operator, sees his call in her queue marked "Booked
for …"; Ben sees only Erika's call (she booked nothing and started now at
the same time), not Max's: the business's ring time, 120 s, is Anna's
alone. When the ring time is over (cut to 0 s here rather than waited for),
Ben's console shows it too at its next refresh. Anna answers.

A second customer books with a German browser. Screenshots of the choice,
the free times and the booking, desktop 1280 and phone 390, English and
German, go to test-artifacts/screens/.
"""

import json
import re
import zoneinfo
from pathlib import Path

import icalendar
from playwright.sync_api import expect

from tests.e2e.conftest import new_page
from tests.e2e.flows import operator_login

SCREENS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"
PASSWORD = "e2e-operator-pass-1"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

SETUP = """
import datetime
from accounts.models import Operator, WorkingHours
anna = Operator.objects.get(user__username="booked-anna")
for weekday in range(7):
    WorkingHours.objects.get_or_create(operator=anna, weekday=weekday, start=datetime.time(0, 0), end=datetime.time(23, 59))
print("ok")
"""

MOVE_TO_NOW = """
import datetime, json
from django.utils import timezone
from sessions_app.models import Booking
now = timezone.now()
booking = Booking.objects.get(session__public_id="{session}", state="booked")
Booking.objects.filter(pk=booking.pk).update(starts_at=now, ends_at=now + datetime.timedelta(minutes=30))
print(json.dumps({{"operator": booking.operator.user.username}}))
"""


RING_TIME_OVER = """
from accounts.models import Business
Business.objects.filter(slug="booked").update(booked_operator_ring_seconds=0)
"""


def seed(server, username: str) -> dict:
    out = server.manage(
        "seed_demo", "--json", "--business", "booked", "--username", username,
        "--compliance-username", "compliance-booked", "--password", PASSWORD, "--multi-user", "2",
    )
    return json.loads(out.strip().splitlines()[-1])


def shots(page, name: str):
    """Desktop and phone screenshots of the page as it is now."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def accept_terms(page, link: str):
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/call/$"))
    page.get_by_role("checkbox").check()
    page.locator(".terms-form button[type=submit]").click()


def test_a_customer_books_a_time_and_the_booked_operator_gets_the_call_first(server, browser):
    first = seed(server, "booked-anna")
    unbooked_link = seed(server, "booked-ben")["one_on_one"]["links"][0]
    assert server.manage("shell", "-c", SETUP).strip().endswith("ok")
    link = first["one_on_one"]["links"][0]
    session_id = first["one_on_one"]["session"]
    base = server.base_urls[0]

    customer = new_page(browser, base_url=base, locale="en-GB")
    accept_terms(customer, link)
    expect(customer.get_by_role("heading", name="When would you like your call?")).to_be_visible()
    expect(customer.locator("#no-operator-now")).to_be_visible()
    shots(customer, "booking-choice-en")

    customer.get_by_role("button", name="Book a time").click()
    expect(customer.get_by_role("heading", name="Book a time")).to_be_visible()
    # The browser's zone went with the form (Chromium's zone here), and the page names it.
    zone = customer.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    expect(customer.locator("#zone-note")).to_contain_text(zone)
    shots(customer, "booking-slots-en")
    # A time on the next day (opened first: one day is open at a time), so
    # the booking is not yet joinable until the clock moves.
    next_day = customer.locator("details.slot-day").nth(1)
    next_day.locator("summary").click()
    first_time = next_day.locator(".slot").first
    picked = first_time.inner_text()
    first_time.click()
    customer.get_by_role("button", name="Confirm this time").click()

    heading = customer.get_by_role("heading", name=re.compile("Your call is booked for"))
    expect(heading).to_be_visible()
    expect(heading).to_contain_text(picked)
    expect(customer.get_by_role("link", name="Change the time")).to_be_visible()
    expect(customer.get_by_role("button", name="Cancel the booking")).to_be_visible()
    expect(customer.locator("#join-later")).to_be_visible()
    expect(customer.get_by_role("link", name="Join the call")).to_have_count(0)
    shots(customer, "booking-booked-en")
    customer.reload()
    expect(customer.get_by_role("heading", name=re.compile("Your call is booked for"))).to_contain_text(picked)
    shots(customer, "booking-booked-after-reload-en")
    # Joining before the time, past the hidden button, is refused by the
    # server: the page shows the booking again and says why.
    customer.goto(f"{base}/call/?start=now")
    expect(customer.locator("#booking-error")).to_contain_text("booked for a later time")
    expect(customer.get_by_role("heading", name=re.compile("Your call is booked for"))).to_contain_text(picked)
    expect(customer.locator(".call-root")).to_have_count(0)
    shots(customer, "booking-join-too-early-en")
    customer.goto(f"{base}/call/")

    with customer.expect_download() as download:
        customer.get_by_role("link", name="Add to my calendar (.ics)").click()
    calendar = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Video identification with Booked"
    assert str(event["STATUS"]) == "CONFIRMED"
    local_start = event.decoded("DTSTART").astimezone(zoneinfo.ZoneInfo(zone))
    assert local_start.strftime("%H:%M") == picked.strip()

    # The clock moves to the booked time.
    moved = json.loads(server.manage("shell", "-c", MOVE_TO_NOW.format(session=session_id)).strip().splitlines()[-1])
    assert moved["operator"] == "booked-anna"

    anna = new_page(browser)
    operator_login(anna, base, "booked-anna", PASSWORD)
    ben = new_page(browser)
    operator_login(ben, base, "booked-ben", PASSWORD)

    customer.reload()
    join = customer.get_by_role("link", name="Join the call")
    expect(join).to_be_visible()
    shots(customer, "booking-join-en")
    join.click()
    expect(customer.locator("#device-panel")).to_be_visible()
    expect(customer.get_by_role("button", name="Join")).to_be_enabled()
    customer.get_by_role("button", name="Join").click()
    expect(customer.locator("#connecting-panel")).to_be_visible()

    # Erika, who booked nothing, starts now at the same time: her call is everyone's.
    erika = new_page(browser, base_url=base, locale="en-GB")
    accept_terms(erika, unbooked_link)
    erika.get_by_role("link", name="Start now").click()
    erika.get_by_role("button", name="Join").click()
    expect(erika.locator("#connecting-panel")).to_be_visible()

    row = anna.locator(f'#queue-body tr[data-session-id="{session_id}"]')
    expect(row).to_be_visible()
    expect(row.locator(".booked-for")).to_contain_text("Booked for")
    expect(anna.locator("#queue-body tr")).to_have_count(2)
    anna.screenshot(path=str(SCREENS / "console-queue-booked-call.png"))
    # Ben's queue has Erika's call (so it is up to date) and not Max's while it rings Anna.
    expect(ben.locator("#queue-body tr")).to_have_count(1)
    expect(ben.locator(f'#queue-body tr[data-session-id="{session_id}"]')).to_have_count(0)
    ben.screenshot(path=str(SCREENS / "console-queue-other-operator.png"))

    # Then to the pool: the ring time is cut to nothing (rather than waiting
    # 120 s), and Ben's console shows Max's call at its next refresh.
    server.manage("shell", "-c", RING_TIME_OVER)
    expect(ben.locator(f'#queue-body tr[data-session-id="{session_id}"]')).to_be_visible()

    anna.locator(f'#queue-body tr[data-session-id="{session_id}"]').get_by_role("button", name="Answer").click()
    anna.wait_for_url("**/console/calls/**")

    for page in (customer, erika, anna, ben):
        page.context.close()


def test_the_booking_pages_in_german(server, browser):
    second = seed(server, "booked-anna")
    server.manage("shell", "-c", SETUP)
    customer = new_page(browser, base_url=server.base_urls[0], locale="de-DE")
    accept_terms(customer, second["one_on_one"]["links"][0])
    expect(customer.get_by_role("heading", name="Wann möchten Sie Ihren Anruf?")).to_be_visible()
    shots(customer, "booking-choice-de")
    customer.get_by_role("button", name="Termin buchen").click()
    expect(customer.get_by_role("heading", name="Termin buchen")).to_be_visible()
    shots(customer, "booking-slots-de")
    customer.locator(".slot").first.click()
    customer.get_by_role("button", name="Diesen Termin bestätigen").click()
    expect(customer.get_by_role("heading", name=re.compile("Ihr Anruf ist gebucht für"))).to_be_visible()
    expect(customer.get_by_role("button", name="Buchung stornieren")).to_be_visible()
    shots(customer, "booking-booked-de")
    customer.reload()
    expect(customer.get_by_role("heading", name=re.compile("Ihr Anruf ist gebucht für"))).to_be_visible()
    shots(customer, "booking-booked-after-reload-de")
    customer.get_by_role("button", name="Buchung stornieren").click()
    expect(customer.get_by_role("heading", name="Wann möchten Sie Ihren Anruf?")).to_be_visible()
    customer.context.close()
