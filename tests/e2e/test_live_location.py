"""An RBI-style call's pre-call pages in real Chromium (its geolocation
override): the customer accepts the terms, consents to the recording, shares
a position in Mumbai and joins; the operator's panel shows where they are. A
position in Berlin is refused with the clear page. The steps are small
functions: the combined RBI walk calls them."""

import json
import os

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import INSTRUMENT
from tests.e2e.flows import customer_join, operator_answer_first, operator_login, wait_decoding
from tests.e2e.harness import running_server, screenshot
from tests.e2e.regulated_steps import (
    customer_accept_terms,
    customer_at_the_call_page,
    customer_consent_to_recording,
    customer_share_location,
)

MUMBAI = {"latitude": 19.0760, "longitude": 72.8777, "accuracy": 15}
BERLIN = {"latitude": 52.5200, "longitude": 13.4050, "accuracy": 15}
PHONE = {"width": 390, "height": 844}

REGULATED_SESSION = """
import json
from kyc.regulations import ALLOWED_COUNTRIES, LIVE_LOCATION, RECORDING_CONSENT
from sessions_app.audit import Actor
from sessions_app.models import VerificationSession
from sessions_app.services import ParticipantSpec, session_create
from workflows.models import WorkflowTemplate
workflow = WorkflowTemplate.objects.get(business__slug=%(business)r, name="Standard video identification")
workflow.rules = sorted(%(rules)r)
workflow.allowed_countries = %(allowed)r
workflow.save()
created = session_create(
    business=workflow.business, workflow=workflow, kind=VerificationSession.Kind.ONE_ON_ONE,
    participants=[ParticipantSpec(name="Priya Sharma", business_reference="CUST-IN-1")], actor=Actor.system(),
)
print(json.dumps({"session": created.session.public_id.hex, "link": created.links[0][1]}))
"""


@pytest.fixture(scope="module")
def server():
    """The product, assuming India for the browser's 127.0.0.1 (a private
    address has no country; production never assumes one)."""
    previous = os.environ.get("GEO_PRIVATE_NETWORK_COUNTRY")
    os.environ["GEO_PRIVATE_NETWORK_COUNTRY"] = "IN"
    try:
        with running_server(1) as product:
            yield product
    finally:
        if previous is None:
            os.environ.pop("GEO_PRIVATE_NETWORK_COUNTRY", None)
        else:
            os.environ["GEO_PRIVATE_NETWORK_COUNTRY"] = previous


# --- the steps ---------------------------------------------------------------------


def regulated_session(server, business: str, *, rules=(), allowed=("IN",)) -> dict:
    """A new one-on-one session of ``business``'s seeded workflow under ``rules``."""
    rules = rules or ("allowed_countries", "live_location", "recording_consent")
    code = REGULATED_SESSION % {"business": business, "rules": list(rules), "allowed": list(allowed)}
    return json.loads(server.manage("shell", "-c", code).strip().splitlines()[-1])


def customer_page(browser, *, where: dict | None, locale: str = "en-GB", viewport=None) -> Page:
    """The customer's browser at ``where`` (Chromium's geolocation override),
    location allowed; ``where=None``: the browser never shares a position."""
    context = browser.new_context(
        viewport=viewport or {"width": 1280, "height": 800},
        permissions=["camera", "microphone"] + (["geolocation"] if where else []),
        geolocation=where,
        locale=locale,
    )
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def operator_sees_the_location(operator: Page, *, coordinates: str, country: str):
    panel = operator.locator(".participant-card:visible .location-panel, .location-panel:visible").first
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(coordinates)
    expect(panel).to_contain_text(country)


# --- the tests ---------------------------------------------------------------------


def test_customer_in_mumbai_consents_shares_the_location_and_the_operator_sees_it(server, browser):
    seed = server.seed(business="rbi-bank", multi_user=2)
    session = regulated_session(server, "rbi-bank")
    operator = customer_page(browser, where=None)  # a plain browser for the operator
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])

    customer = customer_page(browser, where=MUMBAI)
    customer_accept_terms(customer, session["link"])
    customer_consent_to_recording(customer, shot="customer-recording-consent")
    customer_share_location(customer, shot="customer-location-ask")
    customer_at_the_call_page(customer)
    customer_join(customer)

    operator_answer_first(operator)
    expect(customer.locator("#connecting-panel")).to_be_hidden()
    wait_decoding(operator)
    operator_sees_the_location(operator, coordinates="19.07600, 72.87770", country="India")
    operator.locator(".location-panel:visible").first.scroll_into_view_if_needed()
    screenshot(operator, "operator-call-live-location")

    stored = server.manage(
        "shell",
        "-c",
        "from sessions_app.models import ParticipantLocation, RecordingConsent; "
        f"l = ParticipantLocation.objects.get(participant__session__public_id='{session['session']}'); "
        f"c = RecordingConsent.objects.get(participant__session__public_id='{session['session']}'); "
        "print(l.latitude, l.longitude, l.accuracy_m, l.location_country, l.ip_country, c.accepted, c.text_language)",
    )
    assert stored.strip().splitlines()[-1] == "19.076 72.8777 15.0 IN IN True en"


@pytest.mark.parametrize(
    "locale, viewport, words",
    [
        ("en-GB", None, {"accept": "Accept and continue", "agree": "I agree and continue", "share": "Share my location",
                         "refused": "This verification can only be done from India."}),
        ("de-DE", PHONE, {"accept": "Akzeptieren und fortfahren", "agree": "Ich stimme zu und fahre fort",
                          "share": "Meinen Standort teilen", "refused": "Diese Verifizierung ist nur aus Indien möglich."}),
    ],
    ids=["english-desktop", "german-phone"],
)
def test_a_position_in_berlin_is_refused_with_the_clear_page(server, browser, locale, viewport, words):
    server.seed(business="rbi-refused", multi_user=2)
    session = regulated_session(server, "rbi-refused")
    customer = customer_page(browser, where=BERLIN, locale=locale, viewport=viewport)
    customer_accept_terms(customer, session["link"], accept=words["accept"])
    customer_consent_to_recording(customer, agree=words["agree"], shot=f"customer-recording-consent-{locale}")
    customer_share_location(customer, share=words["share"], shot=f"customer-location-ask-{locale}")
    expect(customer.locator("#country-title")).to_have_text(words["refused"])
    expect(customer.locator("#location-country-problem")).to_be_visible()
    screenshot(customer, f"customer-country-refused-{locale}", full_page=True)
    # The join is refused by the server too, not only by the page.
    response = customer.request.post(
        server.base_urls[0] + "/call/join",
        headers={"X-CSRFToken": next(c["value"] for c in customer.context.cookies() if c["name"] == "csrftoken")},
    )
    assert response.status == 409


def test_a_denied_location_says_how_to_allow_it_and_offers_a_retry(server, browser):
    """The customer's browser refuses the position (headless Chromium denies a
    permission nobody granted): the page explains how to allow it."""
    server.seed(business="rbi-denied", multi_user=2)
    session = regulated_session(server, "rbi-denied")
    customer = customer_page(browser, where=None, viewport=PHONE)
    customer_accept_terms(customer, session["link"])
    customer_consent_to_recording(customer)
    customer_share_location(customer)
    expect(customer.locator("#location-denied")).to_be_visible()
    expect(customer.locator("#location-denied h2")).to_be_focused()
    expect(customer.get_by_role("button", name="Try again")).to_be_enabled()
    screenshot(customer, "customer-location-denied-phone", full_page=True)
