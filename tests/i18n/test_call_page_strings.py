"""The texts the call page's JavaScript shows arrive translated, as JSON."""

import json
import re

import pytest
from django.utils import translation

from sessions_app.models import Participant
from sessions_app.ui_strings import customer_strings

pytestmark = pytest.mark.django_db


def call_page_strings(browser) -> dict[str, str]:
    accepted = browser.post("/call/terms/accept", {"accept": "yes"})
    assert accepted.status_code == 302
    page = browser.get("/call/").content.decode()
    found = re.search(r'<script id="i18n" type="application/json">(.*?)</script>', page, re.S)
    assert found, "the call page hands its texts to the JavaScript in json_script 'i18n'"
    return json.loads(found.group(1))


def test_german_participant_gets_every_call_page_string_in_german(live_call, customer_browser):
    Participant.objects.filter(pk=live_call.participant.pk).update(language="de")
    strings = call_page_strings(customer_browser(live_call.link_url, accept_language="en"))

    assert strings["queuePosition"] == "Sie sind an Position %(position)s in der Warteschlange."
    assert strings["prompt_document_front"] == "Bitte halten Sie die Vorderseite Ihres Ausweisdokuments in die Kamera."
    with translation.override("en"):
        english = customer_strings()
    assert strings.keys() == english.keys()
    still_english = [key for key in strings if strings[key] == english[key]]
    assert still_english == []


def test_english_participant_gets_the_call_page_strings_in_english(live_call, customer_browser):
    Participant.objects.filter(pk=live_call.participant.pk).update(language="en")
    strings = call_page_strings(customer_browser(live_call.link_url, accept_language="de"))
    assert strings["queuePosition"] == "You are number %(position)s in the queue."
