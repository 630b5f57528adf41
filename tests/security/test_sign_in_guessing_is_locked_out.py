"""Guessing a password (or, after the right password, the code) locks the
account out for a while: counted per username and client IP, and per
username from any IP, in the database (django-axes), the client IP taken
by kyc.net.client_ip. Each test reproduces one attack that worked on the
code before the lockout existed."""

import time
from datetime import timedelta

import pyotp
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import totp
from sessions_app.models import AuditEvent

PASSWORD = "correct-horse-battery-1"
LOCKED = "Too many failed sign-in attempts"
PROXY = "10.0.0.1"


def attempts():
    """axes' AccessAttempt rows (looked up by name, so that on a tree without
    axes each test fails on what the attacker sees, not on an import)."""
    return apps.get_model("axes", "AccessAttempt").objects


@pytest.fixture(autouse=True)
def limits(settings):
    settings.SIGNIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 5
    settings.SIGNIN_LOCKOUT_MINUTES = 15
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def sign_in(browser: Client, password: str, username: str = "alice", **headers):
    return browser.post("/console/login/", {"username": username, "password": password}, **headers)


def test_forty_wrong_passwords_then_the_right_one_is_refused_with_the_lockout_message(operator_a):
    """Reproduces: 40 wrong passwords, then the right one, signed the guesser in."""
    browser = Client()
    for _ in range(40):
        sign_in(browser, "wrong-password-guess")

    response = sign_in(browser, PASSWORD)

    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page and "locked for 15 minutes" in page
    assert '<form method="post"' in page  # the styled sign-in page, not a bare text or a traceback
    assert "_auth_user_id" not in browser.session
    assert browser.get("/console/").status_code == 302


def test_the_lockout_starts_at_the_limit_and_not_before(operator_a):
    browser = Client()
    for _ in range(4):
        assert sign_in(browser, "wrong-password-guess").status_code == 200
    assert sign_in(browser, "wrong-password-guess").status_code == 429
    assert sign_in(browser, PASSWORD).status_code == 429


def test_a_few_typos_then_the_right_password_still_sign_in(operator_a):
    browser = Client()
    for _ in range(4):
        sign_in(browser, "wrong-password-guess")
    assert sign_in(browser, PASSWORD)["Location"] == "/console/"


def test_the_lockout_lifts_after_the_cool_off(operator_a):
    browser = Client()
    for _ in range(5):
        sign_in(browser, "wrong-password-guess")
    assert sign_in(browser, PASSWORD).status_code == 429

    attempts().update(attempt_time=attempts().first().attempt_time - timedelta(minutes=16))

    assert sign_in(browser, PASSWORD)["Location"] == "/console/"


def test_a_guess_spread_over_many_addresses_is_caught(operator_a, settings):
    """Reproduces: one guess per client address (a botnet behind our trusted
    proxy) was never counted. The username alone counts, whatever the IP."""
    settings.TRUSTED_PROXIES = [PROXY]
    for n in range(5):
        sign_in(Client(REMOTE_ADDR=PROXY), "wrong-password-guess", HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}")

    response = sign_in(Client(REMOTE_ADDR=PROXY), PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    # Each address was counted as the client's, the proxy's own never.
    counted = set(attempts().values_list("ip_address", flat=True))
    assert counted == {f"198.51.100.{n + 1}" for n in range(5)} | {"198.51.100.99"}


def test_a_spoofed_forwarded_for_from_an_untrusted_address_is_not_the_counted_ip(operator_a, settings):
    """Reproduces: an attacker writing X-Forwarded-For himself would be
    counted under addresses of his choosing (a fresh one per guess)."""
    settings.TRUSTED_PROXIES = [PROXY]
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(5):
        sign_in(attacker, "wrong-password-guess", HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}")

    assert sign_in(attacker, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429
    assert set(attempts().values_list("ip_address", flat=True)) == {"203.0.113.9"}
    assert attempts().get().failures_since_start == 6  # all on one row: one client, one address


def test_guessing_the_code_after_the_right_password_locks_too(operator_a):
    """Reproduces: with the password known, wrong codes were limited per code
    step only; a fresh password step bought fresh guesses unseen by the
    sign-in throttle. Now a wrong code is a failed sign-in like a wrong
    password: at the limit the account is locked, the right code and the
    right password both refused."""
    device = totp.totp_enrolment_start(user=operator_a.user)
    code = pyotp.TOTP(totp._secret(device))
    assert totp.totp_enrolment_confirm(device=device, code=code.at(time.time() - 30))  # the current code stays unused
    browser = Client()
    sign_in(browser, "wrong-password-guess")
    sign_in(browser, "wrong-password-guess")
    sign_in(browser, PASSWORD)
    wrong = "000000" if code.now() != "000000" else "111111"
    assert browser.post("/console/login/code", {"code": wrong}).status_code == 400
    assert browser.post("/console/login/code", {"code": wrong}).status_code == 400

    response = browser.post("/console/login/code", {"code": wrong})  # the fifth failure

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert browser.post("/console/login/code", {"code": code.now()})["Location"] == "/console/login/"
    assert sign_in(browser, PASSWORD).status_code == 429
    assert "_auth_user_id" not in browser.session


def test_a_lockout_is_one_event_in_the_business_audit_trail(operator_a):
    browser = Client()
    for _ in range(12):
        sign_in(browser, "wrong-password-guess")

    events = AuditEvent.objects.filter(business=operator_a.business, action="operator.signin_locked_out")
    assert events.count() == 1
    event = events.get()
    assert event.data["operator"] == operator_a.pk
    assert event.data["user"] == operator_a.user.pk
    assert event.data["step"] == "password"
    assert event.data["failures"] == 5
    assert "wrong-password-guess" not in str(event.data) and "127.0.0.1" not in str(event.data)


def test_a_lockout_of_a_user_without_business_is_a_security_log_line(compliance_user, caplog):
    for _ in range(5):
        sign_in(Client(), "wrong-password-guess", username="carol")

    assert f"sign-in locked out: user {compliance_user.pk}" in caplog.text
    assert not AuditEvent.objects.filter(action="operator.signin_locked_out").exists()


def test_sign_in_attempts_are_in_the_admin_for_superusers_only(operator_a, compliance_user):
    """Carol (compliance, staff) does not see who tried to sign in as whom."""
    for _ in range(5):
        sign_in(Client(), "wrong-password-guess")
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    admin = Client()
    admin.force_login(root)
    carol = Client()
    carol.force_login(compliance_user)

    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "alice" in listing.content.decode()
    assert admin.get("/admin/axes/accessfailurelog/").status_code == 200
    for page in ("/admin/axes/accessattempt/", "/admin/axes/accessfailurelog/", "/admin/axes/accesslog/"):
        assert carol.get(page).status_code == 403
    assert "accessattempt" not in carol.get("/admin/").content.decode()

