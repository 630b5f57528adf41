"""Who may call the API: only a live key of the business. The outsider
without a key, a wrong or revoked key, and an operator's logged-in browser
session must not get in."""

import pytest
from django.test import Client

from operators.integration import api_key_revoke
from sessions_app.audit import Actor
from tests.api.conftest import client_with

SESSIONS = "/api/v1/sessions"


def assert_problem(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"] == f"urn:verity:problem:{code}"
    assert set(body) == {"type", "code", "title", "detail", "status", "errors"}
    return body


def test_request_without_a_key_is_not_authenticated(api_anonymous, db):
    response = api_anonymous.get(SESSIONS)
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer vty_not-a-real-key", "Bearer something-else", "Bearer", "Bearer a b", "Basic dXNlcjpwYXNz"],
)
def test_wrong_or_malformed_key_is_refused(db, header):
    client = client_with(None)
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(SESSIONS)
    assert response.status_code == 401
    assert response.json()["code"] in {"authentication_failed", "not_authenticated"}


def test_revoked_key_stops_working_at_once(api_a, key_a):
    assert api_a.get(SESSIONS).status_code == 200
    api_key_revoke(api_key=key_a, actor=Actor.system())
    assert_problem(api_a.get(SESSIONS), 401, "authentication_failed")


def test_key_use_is_stamped(api_a, key_a):
    assert key_a.last_used_at is None
    api_a.get(SESSIONS)
    key_a.refresh_from_db()
    assert key_a.last_used_at is not None


def test_only_a_hash_and_the_prefix_of_the_key_are_stored(key_a):
    assert key_a.raw not in (key_a.key_hash, key_a.prefix)
    assert key_a.raw.startswith(key_a.prefix)
    assert len(key_a.prefix) == 12


def test_operator_browser_session_does_not_open_the_api(operator_a, db):
    """Alice is logged in to the console; her cookie is no API key."""
    browser = Client()
    browser.force_login(operator_a.user)
    assert browser.get(SESSIONS).status_code == 401
