"""The session and CSRF cookies: Secure in production (HTTPS=true), never
readable by scripts, never sent on cross-site subrequests. Checked on real
responses, with the cookie settings a production environment produces."""

import json

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.unit.settings_subprocess import run_python

COOKIE_SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
]


@pytest.fixture(scope="module")
def production_cookie_settings(tmp_path_factory):
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {COOKIE_SETTINGS!r}}}))"
    )
    result = run_python(
        tmp_path_factory.mktemp("var"),
        code,
        DEBUG="false",
        HTTPS="true",
        SECRET_KEY="x" * 60,
        PUBLIC_BASE_URL="https://kyc.example.com",
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def production(settings, production_cookie_settings):
    for name, value in production_cookie_settings.items():
        setattr(settings, name, value)
    return production_cookie_settings


def test_production_environment_turns_on_secure_cookies_and_https(production_cookie_settings):
    assert production_cookie_settings["SESSION_COOKIE_SECURE"] is True
    assert production_cookie_settings["CSRF_COOKIE_SECURE"] is True
    assert production_cookie_settings["SECURE_SSL_REDIRECT"] is True
    assert production_cookie_settings["SECURE_HSTS_SECONDS"] >= 31536000


def test_customers_session_cookie_is_secure_httponly_and_lax(live_call, production):
    response = Client().get(f"/v/{live_call.link_token}", secure=True)

    assert response.status_code == 302
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_operators_session_and_csrf_cookies_are_secure_httponly_and_lax(operator_a, production):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/console/login/", secure=True)
    csrf = page.cookies[django_settings.CSRF_COOKIE_NAME]
    assert (csrf["secure"], csrf["httponly"], csrf["samesite"]) == (True, True, "Lax")

    response = browser.post(
        "/console/login/",
        {"username": "alice", "password": "correct-horse-battery-1", "csrfmiddlewaretoken": page.context["csrf_token"]},
        secure=True,
        HTTP_REFERER="https://testserver/console/login/",  # over HTTPS Django's CSRF check wants one
    )

    assert response.status_code == 302
    session = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")


def test_plain_http_is_redirected_to_https_in_production(db, production):
    response = Client().get("/console/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
