"""The terms page shows the workflow's terms text in the page's language, or
the default language's text with a note saying so, marked with its own lang."""

import copy
import re

import pytest

from sessions_app.models import TermsAcceptance

pytestmark = pytest.mark.django_db

ENGLISH = "We verify you on a recorded video call."
GERMAN = "Wir prüfen Ihre Identität in einem aufgezeichneten Videoanruf."


def terms_text_is(workflow, texts) -> None:
    steps = copy.deepcopy(workflow.steps)  # the fixture's steps are a shared list
    steps[0]["terms_text"] = texts
    workflow.steps = steps
    workflow.save(update_fields=["steps"])


def terms_block(page: str) -> str:
    return re.search(r'<div class="terms-text"[^>]*>', page).group(0)


def test_german_page_shows_the_german_text_marked_german(live_call, workflow_a, customer_browser):
    terms_text_is(workflow_a, {"en": ENGLISH, "de": GERMAN})
    page = customer_browser(live_call.link_url, accept_language="de-DE,de;q=0.9").get("/call/").content.decode()
    assert GERMAN in page and ENGLISH not in page
    assert 'lang="de"' in terms_block(page)
    assert "terms-language-note" not in page


def test_english_page_shows_the_english_text(live_call, workflow_a, customer_browser):
    terms_text_is(workflow_a, {"en": ENGLISH, "de": GERMAN})
    page = customer_browser(live_call.link_url, accept_language="en").get("/call/").content.decode()
    assert ENGLISH in page and GERMAN not in page
    assert 'lang="en"' in terms_block(page)


def test_german_page_without_german_text_shows_english_with_a_note(live_call, workflow_a, customer_browser):
    terms_text_is(workflow_a, {"en": ENGLISH})
    page = customer_browser(live_call.link_url, accept_language="de-DE").get("/call/").content.decode()
    assert '<html lang="de">' in page
    assert ENGLISH in page
    # The text is English inside a German page: its own lang says so.
    assert 'lang="en"' in terms_block(page)
    assert 'aria-describedby="terms-language-note"' in terms_block(page)
    assert 'id="terms-language-note"' in page
    assert "Englisch" in re.search(r'<p class="terms-language-note"[^>]*>(.*?)</p>', page).group(1)


def test_english_page_names_the_fallback_language_in_english(live_call, workflow_a, customer_browser):
    workflow_a.default_language = "de"
    workflow_a.save(update_fields=["default_language"])
    terms_text_is(workflow_a, {"de": GERMAN})
    page = customer_browser(live_call.link_url, accept_language="en").get("/call/").content.decode()
    assert "These terms are only available in German." in page
    assert 'lang="de"' in terms_block(page)


def test_accepting_on_the_german_page_records_german(live_call, workflow_a, customer_browser):
    terms_text_is(workflow_a, {"en": ENGLISH, "de": GERMAN})
    browser = customer_browser(live_call.link_url, accept_language="de-DE,de;q=0.9")
    assert browser.post("/call/terms/accept", {"accept": "yes"}).status_code == 302
    assert TermsAcceptance.objects.get(participant=live_call.participant).terms_language == "de"
