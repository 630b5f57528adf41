"""A regulated call's customer before the call: a browser that opened the
link from an address in a given country, and the steps of the pre-call pages
(terms, consent to recording, live location) as small functions."""

import json
import time

from django.test import Client

from kyc.regulations import ALLOWED_COUNTRIES, LIVE_LOCATION, RECORDING_CONSENT
from tests.conftest import LiveCall, create_call

RBI_PRECALL_RULES = (RECORDING_CONSENT, LIVE_LOCATION, ALLOWED_COUNTRIES)
MUMBAI = (19.0760, 72.8777)
BERLIN = (52.5200, 13.4050)
# Public addresses the offline table (geoip2fast) places in India and Germany.
INDIAN_IP = "49.36.0.1"
GERMAN_IP = "85.214.132.117"


def regulated_call(business, workflow, *, rules=RBI_PRECALL_RULES, allowed=("IN",)) -> LiveCall:
    """A call made under ``rules`` (the session snapshots them at creation)."""
    workflow.rules = sorted(rules)
    workflow.allowed_countries = list(allowed)
    workflow.save()
    session, links = create_call(business, workflow)
    participant, url = links[0]
    return LiveCall(session=session, participant=participant, link_url=url)


def open_link(link_url: str, *, ip: str = INDIAN_IP, accept_language: str = "en") -> Client:
    browser = Client(REMOTE_ADDR=ip, headers={"accept-language": accept_language})
    assert browser.get(link_url).status_code == 302
    return browser


def accept_terms(browser: Client):
    return browser.post("/call/terms/accept", {"accept": "yes"})


def agree_to_recording(browser: Client):
    return browser.post("/call/recording-consent", {"answer": "agree", "agree": "yes"})


def decline_recording(browser: Client):
    return browser.post("/call/recording-consent", {"answer": "decline"})


def share_location(browser: Client, where=MUMBAI, *, accuracy=12.0, timestamp_ms=None, body=None):
    payload = body if body is not None else json.dumps(
        {
            "latitude": where[0],
            "longitude": where[1],
            "accuracy": accuracy,
            "timestamp": time.time() * 1000 if timestamp_ms is None else timestamp_ms,
        }
    )
    return browser.post("/call/location", payload, content_type="application/json")


def join(browser: Client):
    return browser.post("/call/join")
