"""ICE_TRANSPORT_POLICY=relay reaches every place a browser gets its WebRTC
configuration: the customer's join answer, the operator's call page and both
sides' socket welcome. Then neither side learns the other's IP address."""

import json
import re

import pytest
from django.test import Client

from tests.console.helpers import operator_browser
from tests.unit.settings_subprocess import run_python

TURN = ["turn:turn.example.com:3478?transport=udp"]


@pytest.fixture
def relay_only(settings):
    settings.ICE_TRANSPORT_POLICY = "relay"
    settings.ICE_TURN_URLS = TURN
    settings.TURN_SHARED_SECRET = "s" * 32


def assert_relay_only(rtc):
    assert rtc["iceTransportPolicy"] == "relay"
    turn = [server for server in rtc["iceServers"] if server.get("urls") == TURN]
    assert turn and turn[0]["username"] and turn[0]["credential"]


def test_customers_join_answer_carries_relay_only(live_call, relay_only):
    browser = Client()
    browser.get(f"/v/{live_call.link_token}")
    browser.post("/call/terms/accept", {"accept": "yes"})
    assert_relay_only(browser.post("/call/join").json()["rtc"])


def test_operators_call_page_carries_relay_only(answered_call, operator_a, relay_only):
    page = operator_browser(operator_a.user).get(f"/console/calls/{answered_call.session.public_id.hex}/").content.decode()
    data = json.loads(re.search(r'<script id="page-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert_relay_only(data["rtc"])


@pytest.mark.django_db(transaction=True)
async def test_both_sockets_welcome_carries_relay_only(sockets, answered_call, operator_a, relay_only):
    operator = await sockets.operator(operator_a, answered_call.session)
    customer = await sockets.customer(answered_call.participant)
    assert_relay_only(operator.welcome["rtc"])
    assert_relay_only(customer.welcome["rtc"])


def test_a_typo_in_the_policy_fails_at_start_up(tmp_path):
    result = run_python(tmp_path, "import django; django.setup()", ICE_TRANSPORT_POLICY="relays")
    assert result.returncode != 0
    assert "ICE_TRANSPORT_POLICY" in result.stderr
