"""Without a language on the participant, the browser's Accept-Language picks it."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_terms_page_is_german_when_the_browser_asks_for_german(live_call, customer_browser):
    browser = customer_browser(live_call.link_url, accept_language="de-DE,de;q=0.9,en;q=0.8")
    page = browser.get("/call/").content.decode()
    assert '<html lang="de">' in page
    assert "Guten Tag Max Mustermann, lassen Sie uns Ihre Identität bestätigen" in page
    assert "Ich habe die Bedingungen gelesen und akzeptiere sie." in page
    assert "Accept and continue" not in page


def test_terms_page_is_english_when_the_browser_asks_for_english(live_call, customer_browser):
    browser = customer_browser(live_call.link_url, accept_language="en-GB,en;q=0.9")
    page = browser.get("/call/").content.decode()
    assert '<html lang="en">' in page
    assert "Hello Max Mustermann, let's verify your identity" in page
    assert "I have read and accept the terms, and I agree that the call is recorded." in page
    assert "Akzeptieren und fortfahren" not in page


def test_unknown_link_page_is_german_when_the_browser_asks_for_german(db):
    response = Client(headers={"accept-language": "de"}).get("/v/unknown-token")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Wir konnten diesen Link nicht finden" in page
    assert "Bitte prüfen Sie, ob Sie den vollständigen Link aus Ihrer E-Mail geöffnet haben." in page


def test_unknown_link_page_is_english_when_the_browser_asks_for_english(db):
    response = Client(headers={"accept-language": "en"}).get("/v/unknown-token")
    assert response.status_code == 404
    assert "We could not find this link" in response.content.decode()
