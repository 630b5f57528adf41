"""Webhook SSRF, at delivery: a webhook URL that points inside our network
(saved before the check existed, written straight to the database, or a
name whose DNS changed since) is refused when the worker is about to call
it. No connection is made, the attempt is a failure with the reason in the
delivery log, and nothing of the internal service reaches the business.

On the code before, the worker connected to each of these (the listener
recorded it; it even spoke FTP to one) and kept the first 500 bytes of the
answer in the delivery log the admin shows."""

import pytest

from operators.models import WebhookEvent
from tests.webhooks.conftest import deliver_once, point_webhook_at


@pytest.fixture
def internal_targets(settings, listener, listener_v6, connect_attempts):
    # Plain http allowed, no network allowlisted: what is refused below is
    # refused for its address, not for its scheme.
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.WEBHOOK_TIMEOUT_SECONDS = 1  # the old code waited on unroutable addresses
    return {"v4": listener.port, "v6": listener_v6.port}


INTERNAL_URLS = [
    ("http://127.0.0.1:{v4}/hooks", "127.0.0.1 is a loopback address"),
    ("https://127.0.0.1:{v4}/hooks", "127.0.0.1 is a loopback address"),
    ("http://localhost:{v4}/hooks", "is a loopback address"),
    ("http://[::1]:{v6}/hooks", "::1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]:{v4}/hooks", "::ffff:7f00:1 (127.0.0.1) is a loopback address"),
    ("http://0.0.0.0:{v4}/hooks", "0.0.0.0 is the unspecified address"),
    ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "169.254.169.254 is a link-local address"),
    ("http://10.0.0.7:6379/", "10.0.0.7 is a private or reserved address"),
    ("http://[fd00::7]/hooks", "fd00::7 is a private or reserved address"),
    ("http://224.0.0.1/hooks", "224.0.0.1 is a multicast address"),
    ("ftp://127.0.0.1:{v4}/", "must start with https://"),
]


@pytest.mark.parametrize("url_template, reason", INTERNAL_URLS)
def test_an_internal_url_is_refused_without_a_connection(
    url_template, reason, internal_targets, business_a, live_call, listener, listener_v6, connect_attempts
):
    url = url_template.format(**internal_targets)
    point_webhook_at(business_a, url)
    delivery = deliver_once(business_a, live_call.session)
    assert connect_attempts == [], "no connection was even tried"
    assert listener.connections == [] and listener_v6.connections == []
    assert delivery.status_code is None
    assert delivery.error.startswith("Refused: ") and reason in delivery.error
    assert delivery.response_excerpt == ""
    event = WebhookEvent.objects.get(pk=delivery.event_id)
    assert event.state == WebhookEvent.State.PENDING and reason in event.last_error, "it will be tried again"


def test_a_name_that_resolves_to_loopback_is_refused(internal_targets, business_a, live_call, fake_dns, listener, connect_attempts):
    fake_dns["hooks.attacker.example"] = ["127.0.0.1"]
    point_webhook_at(business_a, f"http://hooks.attacker.example:{listener.port}/hooks")
    delivery = deliver_once(business_a, live_call.session)
    assert connect_attempts == [] and listener.connections == []
    assert delivery.error == (
        "Refused: 127.0.0.1 is a loopback address; Verity sends only to public addresses."
    )


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    internal_targets, business_a, live_call, fake_dns, listener, connect_attempts
):
    """A DNS answer with a public and a private address: whichever one a
    connection would pick, the name is refused."""
    fake_dns["hooks.attacker.example"] = [["93.184.215.14", "127.0.0.1"]]
    point_webhook_at(business_a, f"http://hooks.attacker.example:{listener.port}/hooks")
    delivery = deliver_once(business_a, live_call.session)
    assert connect_attempts == [] and listener.connections == []
    assert "127.0.0.1 is a loopback address" in delivery.error


def test_plain_http_is_refused_unless_allowed(settings, business_a, live_call, connect_attempts):
    settings.WEBHOOK_ALLOW_HTTP = False
    point_webhook_at(business_a, "http://93.184.215.14/hooks")
    delivery = deliver_once(business_a, live_call.session)
    assert connect_attempts == []
    assert delivery.error == "Refused: The URL must use https://; plain http:// is not allowed."
