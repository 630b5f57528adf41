"""The terms acceptance is evidence: its IP address follows kyc.net's rule,
so a customer cannot write another address into it with X-Forwarded-For."""

import pytest
from django.test import Client

from sessions_app.models import TermsAcceptance

PROXY = "10.0.0.5"


def accept_terms(live_call, *, remote_addr, forwarded_for):
    browser = Client(REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR=forwarded_for)
    assert browser.get(f"/v/{live_call.link_token}").status_code == 302
    assert browser.post("/call/terms/accept", {"accept": "yes"}).status_code == 302
    return TermsAcceptance.objects.get(participant=live_call.participant).ip_address


@pytest.mark.parametrize("trusted", [[], ["192.0.2.0/24"]], ids=["no_proxy", "other_proxy"])
def test_forwarded_for_from_an_untrusted_peer_is_not_recorded(live_call, settings, trusted):
    settings.TRUSTED_PROXIES = trusted
    assert accept_terms(live_call, remote_addr="198.51.100.7", forwarded_for="203.0.113.99") == "198.51.100.7"


def test_behind_the_trusted_proxy_the_customers_address_is_recorded(live_call, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert accept_terms(live_call, remote_addr=PROXY, forwarded_for="6.6.6.6, 203.0.113.99") == "203.0.113.99"
