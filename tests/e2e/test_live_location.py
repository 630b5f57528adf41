"""An RBI-style call's pre-call pages in real Chromium (its geolocation
override) when the customer may not go on: a position in Berlin is refused
with the clear page (and the join by the server), and a browser that denies
the position is told how to allow it. The customer in Mumbai who goes on to
the call is walked in test_rbi_session.py; the steps are in regulated_steps.py."""

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import running_server, screenshot
from tests.e2e.regulated_steps import (
    BERLIN,
    INDIA_FOR_LOOPBACK,
    PHONE,
    customer_accept_terms,
    customer_consent_to_recording,
    customer_page,
    customer_share_location,
    environment,
    regulated_session,
)


@pytest.fixture(scope="module")
def server():
    with environment(**INDIA_FOR_LOOPBACK), running_server(1) as product:
        yield product


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
