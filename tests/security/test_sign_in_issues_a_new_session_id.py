"""Session fixation: whatever session id a browser had before signing in
(planted by an attacker, or left from a customer's link), signing in gives
it a new one and the old one stops existing."""

from importlib import import_module

from django.conf import settings
from django.test import Client

PASSWORD = "correct-horse-battery-1"


def session_exists(key: str) -> bool:
    return import_module(settings.SESSION_ENGINE).SessionStore().exists(key)


def test_signing_in_replaces_the_session_id_the_browser_had(live_call, operator_a):
    browser = Client()
    browser.get(f"/v/{live_call.link_token}")  # any page that starts a session
    before = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert session_exists(before)

    response = browser.post("/console/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    after = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not session_exists(before)
    assert browser.get("/console/").status_code == 200


def test_a_planted_session_id_is_not_adopted(operator_a):
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = "attackerchosenid0000000000000000"

    browser.post("/console/login/", {"username": "alice", "password": PASSWORD})

    assert browser.cookies[settings.SESSION_COOKIE_NAME].value != "attackerchosenid0000000000000000"
