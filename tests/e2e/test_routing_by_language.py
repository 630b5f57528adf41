"""A call in German is offered to the German-speaking operator first.

Business "routing-de" routes calls with a long fallback (10 minutes): Olivia
speaks English, Hans German, both are available. A customer whose browser
asks for German joins the queue; Hans's console shows the call, in German,
"spricht Deutsch"; Olivia's console shows no call, only that one is waiting
for somebody else. A second customer sees their place and an estimate from
the business's recent calls, counted with the one operator who fits.

Business "routing-short" falls back after a few seconds: the German call
then reaches Olivia, "fallback after 5 s", although nothing changed.

Screenshots (desktop 1280 and phone 390, English and German) of both
consoles and the waiting customer go to test-artifacts/screens/."""

import re
import shutil

from playwright.sync_api import expect

from tests.e2e.conftest import new_page
from tests.e2e.flows import operator_login
from tests.e2e.harness import ARTIFACTS, screenshot

# Six engineers' browsers share two cores here: a navigation can take a minute.
SLOW_MS = 90_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
HANS_PASSWORD = "e2e-hans-pass-1"

ROUTING_SETUP = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from accounts.models import Business, Operator
from accounts.services import operator_create
from sessions_app.models import VerificationSession
business = Business.objects.get(slug={slug!r})
business.routing_fallback_seconds = {fallback}
business.save(update_fields=["routing_fallback_seconds"])
Operator.objects.filter(business=business).update(languages=["en"])
user, _ = get_user_model().objects.get_or_create(username={hans!r}, defaults={{"first_name": "Hans"}})
user.set_password({password!r})
user.save()
if not Operator.objects.filter(user=user).exists():
    operator_create(user=user, business=business, display_name="Hans")
Operator.objects.filter(user=user).update(languages=["de"])
workflow = business.workflows.first()
now = timezone.now()
for minutes_ago in (30, 60, 90):
    ended = now - timedelta(minutes=minutes_ago)
    VerificationSession.objects.create(
        business=business, workflow=workflow, state="completed", answered_at=ended - timedelta(minutes=4), ended_at=ended
    )
"""


def page_for(browser, **kwargs):
    page = new_page(browser, **kwargs)
    page.set_default_timeout(SLOW_MS)
    return page


def shot(page, name: str):
    """Into test-artifacts/ (and the gallery), and test-artifacts/screens/."""
    screenshot(page, name)
    screens = ARTIFACTS / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTIFACTS / f"{name}.png", screens / f"{name}.png")


def seed_routing(server, slug: str, *, fallback: int) -> dict:
    seed = server.seed(business=slug)
    hans = f"hans-{slug}"
    server.manage(
        "shell", "-c", ROUTING_SETUP.format(slug=slug, fallback=fallback, hans=hans, password=HANS_PASSWORD)
    )
    seed["hans"] = {"username": hans, "password": HANS_PASSWORD}
    return seed


def german_operator_login(page, base_url: str, username: str, password: str):
    page.goto(f"{base_url}/console/login/")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.locator("#queue-title")).to_be_visible()
    page.get_by_label("Status").select_option("available")


def german_customer_joins(page, link: str):
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/call/$"))
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Akzeptieren und fortfahren").click()
    expect(page.get_by_role("button", name="Beitreten")).to_be_enabled()
    page.get_by_role("button", name="Beitreten").click()
    expect(page.locator("#connecting-panel")).to_be_visible()


def test_a_german_call_is_offered_to_the_german_speaking_operator_and_not_the_other(server, browser):
    seed = seed_routing(server, "routing-de", fallback=600)
    base = server.base_urls[0]
    hans = page_for(browser, viewport=DESKTOP, locale="de-DE")
    german_operator_login(hans, base, seed["hans"]["username"], seed["hans"]["password"])
    olivia = page_for(browser, viewport=DESKTOP, locale="en-GB")
    operator_login(olivia, base, seed["operator"]["username"], seed["operator"]["password"])
    expect(hans.locator("#my-skills")).to_have_text("Sie nehmen Anrufe auf Deutsch an.")
    expect(olivia.locator("#my-skills")).to_have_text("You take calls in English.")

    first = page_for(browser, viewport=PHONE, locale="de-DE")
    german_customer_joins(first, seed["one_on_one"]["links"][0])

    row = hans.locator("#queue-body tr")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("Max Mustermann")
    expect(row.first.locator(".call-language")).to_contain_text("Deutsch")
    expect(row.first.locator(".offer-reason")).to_have_text("spricht Deutsch")
    expect(row.first.get_by_role("button", name="Annehmen")).to_be_visible()
    # Olivia is told a call waits for somebody else, and is not offered it.
    expect(olivia.locator("#queue-held-back")).to_contain_text(
        "1 more call is waiting for an operator who speaks its language"
    )
    expect(olivia.locator("#queue-body tr")).to_have_count(0)
    expect(olivia.locator("#queue-empty")).to_be_visible()

    # A second German customer: one call ahead, one operator who speaks
    # German, calls of 4 minutes lately.
    second = page_for(browser, viewport=PHONE, locale="de-DE")
    german_customer_joins(second, seed["multi_user"]["links"][0])
    expect(second.locator("#queue-info")).to_have_text(
        "Sie sind an Position 2 in der Warteschlange. Geschätzte Wartezeit: etwa 4 Min."
    )
    expect(first.locator("#queue-info")).to_contain_text("an Position 1")
    expect(hans.locator("#queue-body tr")).to_have_count(2)
    expect(olivia.locator("#queue-body tr")).to_have_count(0)
    expect(olivia.locator("#queue-held-back")).to_contain_text("2 more calls are waiting")

    shot(hans, "operator-de-queue-routed-by-language-desktop")
    shot(olivia, "operator-en-queue-held-back-for-german-desktop")
    shot(second, "customer-de-waiting-with-estimate-phone")
    for page, name in ((hans, "operator-de-queue-routed-by-language-phone"), (olivia, "operator-en-queue-held-back-for-german-phone")):
        page.set_viewport_size(PHONE)
        shot(page, name)
    second.set_viewport_size(DESKTOP)
    shot(second, "customer-de-waiting-with-estimate-desktop")

    # Hans answers the first call: the second customer moves up, told at once.
    hans.set_viewport_size(DESKTOP)
    hans.locator("#queue-body tr").first.get_by_role("button", name="Annehmen").click()
    hans.wait_for_url("**/console/calls/**")
    expect(second.locator("#queue-info")).to_contain_text("Sie sind an Position 1 in der Warteschlange.")
    for page in (hans, olivia, first, second):
        page.context.close()


def test_after_the_fallback_the_german_call_reaches_the_other_operator(server, browser):
    seed = seed_routing(server, "routing-short", fallback=5)
    base = server.base_urls[0]
    olivia = page_for(browser, viewport=DESKTOP, locale="en-GB")
    operator_login(olivia, base, seed["operator"]["username"], seed["operator"]["password"])
    customer = page_for(browser, viewport=DESKTOP, locale="de-DE")
    german_customer_joins(customer, seed["one_on_one"]["links"][0])

    # Nothing changes in the queue when the 5 s pass: the console is told anyway.
    row = olivia.locator("#queue-body tr")
    expect(row).to_have_count(1)
    expect(row.first.locator(".call-language")).to_contain_text("German")
    expect(row.first.locator(".offer-reason")).to_have_text("fallback after 5 s")
    expect(olivia.locator("#queue-held-back")).to_have_text("")
    shot(olivia, "operator-en-queue-call-after-fallback-desktop")
    olivia.set_viewport_size(PHONE)
    shot(olivia, "operator-en-queue-call-after-fallback-phone")

    # An English customer behind the German call: Olivia fits them, one call ahead.
    english = page_for(browser, viewport=PHONE, locale="en-GB")
    english.goto(seed["multi_user"]["links"][0])
    english.get_by_role("checkbox").check()
    english.get_by_role("button", name="Accept and continue").click()
    english.get_by_role("button", name="Join").click()
    expect(english.locator("#queue-info")).to_have_text("You are number 2 in the queue. Estimated wait: about 4 min.")
    shot(english, "customer-en-waiting-with-estimate-phone")
    english.set_viewport_size(DESKTOP)
    shot(english, "customer-en-waiting-with-estimate-desktop")

    olivia.set_viewport_size(DESKTOP)
    olivia.locator("#queue-body tr").first.get_by_role("button", name="Answer").click()
    olivia.wait_for_url("**/console/calls/**")
    for page in (olivia, customer, english):
        page.context.close()


def test_without_recent_calls_the_waiting_customer_is_told_there_is_no_estimate(server, browser):
    seed = server.seed(business="routing-no-history")
    olivia = page_for(browser, viewport=DESKTOP, locale="en-GB")
    operator_login(olivia, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customers = []
    for link in (seed["one_on_one"]["links"][0], seed["multi_user"]["links"][0]):
        customer = page_for(browser, viewport=PHONE, locale="en-GB")
        customer.goto(link)
        customer.get_by_role("checkbox").check()
        customer.get_by_role("button", name="Accept and continue").click()
        customer.get_by_role("button", name="Join").click()
        customers.append(customer)

    for place, customer in enumerate(customers, start=1):
        expect(customer.locator("#queue-info")).to_have_text(
            f"You are number {place} in the queue. There are too few recent calls to estimate your wait yet. "
            "Please stay on this page; an operator will be with you shortly."
        )
    shot(customers[1], "customer-en-waiting-without-estimate-phone")
    for page in (olivia, *customers):
        page.context.close()
