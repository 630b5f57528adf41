"""Guessing link tokens: after LINK_THROTTLE_FAILURES unknown tokens from one
client IP within the window, /v/<token> answers 429 with a page that says
what to do, logs one security entry, and a forged X-Forwarded-For does not
get the guesser a fresh budget."""

import logging

import pytest
from django.test import Client

from kyc import throttle

LIMIT = 5
GUESSER = "198.51.100.66"
PROXY = "10.0.0.5"


@pytest.fixture(autouse=True)
def small_budget(settings):
    settings.LINK_THROTTLE_FAILURES = LIMIT
    settings.LINK_THROTTLE_WINDOW_SECONDS = 600
    for ip in (GUESSER, PROXY, "203.0.113.1", "203.0.113.2"):
        throttle.link_throttle_forget(ip)
    yield
    for ip in (GUESSER, PROXY, "203.0.113.1", "203.0.113.2"):
        throttle.link_throttle_forget(ip)


def guess(client, n=1, **headers):
    return [client.get(f"/v/guess-{i}-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", **headers).status_code for i in range(n)]


def test_the_guess_over_the_limit_gets_429_and_a_page_saying_what_to_do(db, caplog):
    browser = Client(REMOTE_ADDR=GUESSER)
    assert guess(browser, LIMIT) == [404] * LIMIT

    with caplog.at_level(logging.WARNING, logger="verity.security"):
        response = browser.get("/v/one-more-guess-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")

    assert response.status_code == 429
    assert response["Retry-After"] == "600"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    assert "Too many attempts" in response.content.decode()
    entries = [r for r in caplog.records if r.name == "verity.security"]
    assert len(entries) == 1
    assert GUESSER in entries[0].getMessage() and "link guessing" in entries[0].getMessage()


def test_a_blocked_client_cannot_use_even_a_real_link(live_call):
    """Otherwise the 429 would tell the guesser nothing, and a lucky guess still works."""
    browser = Client(REMOTE_ADDR=GUESSER)
    guess(browser, LIMIT)

    assert browser.get(f"/v/{live_call.link_token}").status_code == 429


def test_security_log_has_one_entry_per_window_however_long_the_flood(db, caplog):
    browser = Client(REMOTE_ADDR=GUESSER)
    with caplog.at_level(logging.WARNING, logger="verity.security"):
        assert guess(browser, LIMIT + 10) == [404] * LIMIT + [429] * 10
    assert len([r for r in caplog.records if r.name == "verity.security"]) == 1


def test_real_links_and_expired_links_do_not_count_as_guesses(live_call):
    browser = Client(REMOTE_ADDR=GUESSER)
    for _ in range(LIMIT + 2):
        assert browser.get(f"/v/{live_call.link_token}").status_code == 302
    assert guess(browser) == [404]


def test_other_clients_are_not_affected(db):
    guess(Client(REMOTE_ADDR=GUESSER), LIMIT + 1)
    assert guess(Client(REMOTE_ADDR="203.0.113.1")) == [404]


def test_a_forged_forwarded_for_header_does_not_reset_the_count(db, settings):
    """No proxy configured: each guess claims another origin; all count for the real peer."""
    settings.TRUSTED_PROXIES = []
    browser = Client(REMOTE_ADDR=GUESSER)
    statuses = [
        browser.get(f"/v/guess-{i}-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
        for i in range(LIMIT + 3)
    ]
    assert statuses == [404] * LIMIT + [429] * 3


def test_behind_a_trusted_proxy_a_client_cannot_forge_its_way_out_either(db, settings):
    """The proxy appends the real address; what the client prepended is ignored,
    and clients behind the same proxy keep separate budgets."""
    settings.TRUSTED_PROXIES = [PROXY]
    proxy = Client(REMOTE_ADDR=PROXY)
    statuses = [
        proxy.get(f"/v/guess-{i}-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 203.0.113.1").status_code
        for i in range(LIMIT + 2)
    ]
    assert statuses == [404] * LIMIT + [429] * 2
    assert guess(proxy, HTTP_X_FORWARDED_FOR="203.0.113.2") == [404]
