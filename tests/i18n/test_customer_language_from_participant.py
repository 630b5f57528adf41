"""The language the business set on the participant wins over the browser's."""

import pytest

from sessions_app.models import Participant

pytestmark = pytest.mark.django_db


def speaks(participant, language: str) -> None:
    Participant.objects.filter(pk=participant.pk).update(language=language)


def test_german_participant_gets_german_although_the_browser_asks_for_english(live_call, customer_browser):
    speaks(live_call.participant, "de")
    browser = customer_browser(live_call.link_url, accept_language="en-US,en;q=0.9")
    page = browser.get("/call/").content.decode()
    assert '<html lang="de">' in page
    assert "Ich habe die Bedingungen gelesen und akzeptiere sie." in page


def test_english_participant_gets_english_although_the_browser_asks_for_german(live_call, customer_browser):
    speaks(live_call.participant, "en")
    browser = customer_browser(live_call.link_url, accept_language="de-DE,de;q=0.9")
    page = browser.get("/call/").content.decode()
    assert '<html lang="en">' in page
    assert "I have read and accept the terms, and I agree that the call is recorded." in page


def test_terms_not_accepted_error_is_in_the_participants_language(live_call, customer_browser):
    """The POST views speak the participant's language too, not only the page that shows the form."""
    speaks(live_call.participant, "de")
    browser = customer_browser(live_call.link_url, accept_language="en")
    response = browser.post("/call/terms/accept", {})
    assert response.status_code == 400
    assert "Bitte akzeptieren Sie die Bedingungen, um fortzufahren." in response.content.decode()
