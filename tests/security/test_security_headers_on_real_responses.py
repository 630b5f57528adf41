"""Headers on real responses of every kind of page: a Content-Security-Policy
that allows no inline script and no framing, nosniff, no referrer from the
link pages, and no-store on everything but static files (anything else may
show personal data)."""

import re

import pytest
from django.test import Client

from tests.console.helpers import operator_browser

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.fixture
def pages(answered_call, operator_a):
    """One response of each kind: customer pages, their error pages, the
    console, its sign-in, the API, the admin, the health check."""
    customer = Client()
    responses = {
        "link": customer.get(f"/v/{answered_call.link_token}"),
        "link_unknown": Client().get("/v/no-such-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        "customer_call": customer.get("/call/"),
        "customer_without_session": Client().get("/call/"),
        "console_login": Client().get("/console/login/"),
        "console": operator_browser(operator_a.user).get("/console/"),
        "operator_call": operator_browser(operator_a.user).get(f"/console/calls/{answered_call.session.public_id.hex}/"),
        "api": Client().get("/api/v1/sessions"),
        "admin": Client().get("/admin/"),
        "health": Client().get("/healthz"),
    }
    assert responses["customer_call"].status_code == 200
    assert responses["console"].status_code == 200
    assert responses["operator_call"].status_code == 200
    return responses


def test_every_page_has_a_policy_without_inline_script_or_framing(pages):
    for name, response in pages.items():
        policy = directives(response)
        assert policy["script-src"] == ["'self'"], name
        assert policy["frame-ancestors"] == ["'none'"], name
        assert policy["object-src"] == ["'none'"], name
        assert policy["base-uri"] == ["'none'"], name
        assert not any("unsafe" in value for values in policy.values() for value in values), name
        assert response["X-Frame-Options"] == "DENY", name


def test_pages_contain_no_inline_script_the_policy_would_have_to_allow(pages):
    """Page data travels in json_script blocks; every script is a file."""
    for name, response in pages.items():
        if response["Content-Type"].startswith("text/html"):
            assert not INLINE_SCRIPT.search(response.content), name


def test_every_page_says_nosniff(pages):
    for name, response in pages.items():
        assert response["X-Content-Type-Options"] == "nosniff", name


def test_every_page_outside_static_files_is_never_stored(pages):
    for name, response in pages.items():
        assert "no-store" in [d.strip() for d in response["Cache-Control"].split(",")], name


def test_link_page_and_its_error_pages_send_no_referrer(pages):
    assert pages["link"].status_code == 302
    assert pages["link"]["Referrer-Policy"] == "no-referrer"
    assert pages["link_unknown"].status_code == 404
    assert pages["link_unknown"]["Referrer-Policy"] == "no-referrer"


def test_link_pages_for_expired_and_revoked_links_send_no_referrer(live_call, operator_a):
    from sessions_app.audit import Actor
    from sessions_app.services import participant_link_revoke

    participant_link_revoke(participant=live_call.participant, actor=Actor.operator(operator_a))
    response = Client().get(f"/v/{live_call.link_token}")
    assert response.status_code == 410
    assert response["Referrer-Policy"] == "no-referrer"


def test_other_pages_never_send_a_referrer_to_another_site(pages):
    for name, response in pages.items():
        assert response["Referrer-Policy"] in ("no-referrer", "same-origin"), name


def test_static_files_may_be_cached_and_still_get_the_other_headers(db, settings):
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get("/static/js/signaling.js")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert response["X-Content-Type-Options"] == "nosniff"
