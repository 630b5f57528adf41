"""Idle and absolute timeouts of signed-in staff: past either, the next
request signs them out and sends them to the sign-in page with a message;
the console's JSON actions answer 401 instead."""

import time
from unittest import mock

import pytest
from django.test import Client

from accounts.security import SEEN_AT

PASSWORD = "correct-horse-battery-1"


@pytest.fixture(autouse=True)
def short_timeouts(settings):
    settings.OPERATOR_IDLE_TIMEOUT_SECONDS = 600
    settings.OPERATOR_ABSOLUTE_TIMEOUT_SECONDS = 3600


def signed_in(username="alice") -> Client:
    browser = Client()
    assert browser.post("/console/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return browser


def later(seconds: float):
    now = time.time() + seconds
    return mock.patch("accounts.security.time.time", return_value=now)


def test_active_operator_stays_signed_in(operator_a):
    browser = signed_in()
    with later(500):
        assert browser.get("/console/").status_code == 200
    with later(1000):  # 500 s after the last request
        assert browser.get("/console/").status_code == 200


def test_idle_operator_is_signed_out_and_told_why(operator_a):
    browser = signed_in()

    with later(601):
        response = browser.get("/console/")

    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/?next=/console/")
    page = browser.get(response["Location"])
    assert "Your session expired" in page.content.decode()
    assert browser.get("/console/").status_code == 302  # signed out for good, not just once


def test_absolute_timeout_ends_even_a_busy_session(operator_a):
    browser = signed_in()
    for minutes in range(5, 60, 5):
        with later(minutes * 60):
            assert browser.get("/console/").status_code == 200
    with later(3601):
        assert browser.get("/console/").status_code == 302


def test_expired_console_action_answers_401_json(answered_call, operator_a):
    browser = signed_in()
    with later(601):
        response = browser.post(f"/console/calls/{answered_call.session.public_id.hex}/end")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_expired"


def test_compliance_and_admin_sessions_time_out_too(compliance_user):
    browser = signed_in("carol")
    assert browser.get("/admin/").status_code == 200
    with later(601):
        assert browser.get("/admin/").status_code == 302


def test_the_idle_clock_is_kept_in_the_server_side_session(operator_a):
    browser = signed_in()
    browser.get("/console/")
    assert browser.session[SEEN_AT] == pytest.approx(time.time(), abs=60)
