"""Optional two-step sign-in: an operator enrols an authenticator app (QR
code made on the server), confirms it with a code, and from then on the
password alone reaches neither the console, the admin nor a socket."""

import time

import pyotp
import pytest
from django.conf import settings
from django.test import Client

from accounts import totp
from accounts.models import TotpDevice
from kyc import throttle
from tests.consumers.helpers import QUEUE_PATH

PASSWORD = "correct-horse-battery-1"


def code_for(device, *, at=None, offset_steps=0) -> str:
    secret = totp._secret(device)
    return pyotp.TOTP(secret).at((at or time.time()) + offset_steps * 30)


@pytest.fixture(autouse=True)
def _forget_failures(operator_a):
    throttle.cache.delete(throttle._window_key("totp", str(operator_a.user.pk), totp.FAILURE_WINDOW_SECONDS))


@pytest.fixture
def enrolled(operator_a) -> TotpDevice:
    """Alice has confirmed an authenticator app."""
    device = totp.totp_enrolment_start(user=operator_a.user)
    assert totp.totp_enrolment_confirm(device=device, code=code_for(device, offset_steps=-1))
    device.refresh_from_db()
    return device


def password_step(username="alice", next_url="") -> tuple[Client, object]:
    browser = Client()
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return browser, browser.post("/console/login/", data)


def test_enrolment_page_shows_a_server_made_qr_code_and_the_provisioning_uri(operator_a):
    browser = Client()
    browser.force_login(operator_a.user)

    assert "Set up two-step sign-in" in browser.get("/console/security/two-step").content.decode()
    page = browser.post("/console/security/two-step", {"action": "start"}, follow=True).content.decode()

    device = TotpDevice.objects.get(user=operator_a.user)
    assert device.confirmed_at is None
    assert 'src="data:image/svg+xml' in page
    assert "otpauth://totp/Verity:alice?secret=" in page.replace("&amp;", "&")
    assert totp._secret(device) not in device.secret_encrypted  # encrypted at rest


def test_enrolment_is_confirmed_only_with_a_right_code(operator_a):
    browser = Client()
    browser.force_login(operator_a.user)
    browser.post("/console/security/two-step", {"action": "start"})
    device = TotpDevice.objects.get(user=operator_a.user)

    wrong = browser.post("/console/security/two-step", {"action": "confirm", "code": "000000"})
    assert wrong.status_code == 400
    assert TotpDevice.objects.get(pk=device.pk).confirmed_at is None

    browser.post("/console/security/two-step", {"action": "confirm", "code": code_for(device)})
    assert TotpDevice.objects.get(pk=device.pk).confirmed_at is not None


def test_without_a_device_the_password_signs_in_as_before(operator_a):
    browser, response = password_step()
    assert response["Location"] == "/console/"
    assert browser.get("/console/").status_code == 200


def test_after_the_password_the_console_is_not_reachable_without_the_code(enrolled):
    browser, response = password_step()

    assert response.status_code == 302
    assert response["Location"] == "/console/login/code"
    assert browser.get("/console/").status_code == 302
    assert browser.get("/console/")["Location"].startswith("/console/login/")
    assert "_auth_user_id" not in browser.session


async def test_after_the_password_the_queue_socket_does_not_open_either(enrolled, sockets):
    from channels.db import database_sync_to_async

    browser, _ = await database_sync_to_async(password_step)()
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    socket = await sockets.open(QUEUE_PATH, session_key=key)
    assert (await socket.receive())["code"] == "forbidden"
    await socket.closed_with(4403)


def test_the_right_code_signs_in_and_goes_where_the_operator_was_going(enrolled):
    browser, _ = password_step(next_url="/console/security/two-step")
    pending_key = browser.cookies[settings.SESSION_COOKIE_NAME].value

    response = browser.post("/console/login/code", {"code": code_for(enrolled)})

    assert response.status_code == 302
    assert response["Location"] == "/console/security/two-step"
    assert browser.cookies[settings.SESSION_COOKIE_NAME].value != pending_key
    assert browser.get("/console/").status_code == 200


def test_a_wrong_code_is_refused(enrolled):
    browser, _ = password_step()
    response = browser.post("/console/login/code", {"code": "123456" if code_for(enrolled) != "123456" else "654321"})
    assert response.status_code == 400
    assert browser.get("/console/").status_code == 302


def test_a_code_is_accepted_once(enrolled):
    code = code_for(enrolled)
    first, _ = password_step()
    assert first.post("/console/login/code", {"code": code}).status_code == 302

    second, _ = password_step()
    assert second.post("/console/login/code", {"code": code}).status_code == 400
    assert second.get("/console/").status_code == 302


@pytest.fixture
def lockout_out_of_the_way(settings):
    """The sign-in lockout (axes, 5 failures by default) would stop these
    guesses first; these tests are about the code step's own limits."""
    settings.AXES_FAILURE_LIMIT = 100


def test_five_wrong_codes_end_the_sign_in(enrolled, lockout_out_of_the_way):
    browser, _ = password_step()
    for _ in range(totp.ATTEMPTS_PER_SIGN_IN - 1):
        assert browser.post("/console/login/code", {"code": "000000"}).status_code == 400
    response = browser.post("/console/login/code", {"code": "000000"})
    assert response["Location"] == "/console/login/"
    assert browser.post("/console/login/code", {"code": code_for(enrolled)})["Location"] == "/console/login/"


def test_signing_in_again_does_not_buy_unlimited_guesses(enrolled, lockout_out_of_the_way):
    """Ten wrong codes per quarter hour per user, over all sign-ins; then even
    the right code is refused until the window ends."""
    for _ in range(2):
        browser, _ = password_step()
        for _ in range(totp.ATTEMPTS_PER_SIGN_IN):
            browser.post("/console/login/code", {"code": "000000"})
    browser, _ = password_step()
    response = browser.post("/console/login/code", {"code": code_for(enrolled)})
    assert response["Location"] == "/console/login/"
    assert browser.get("/console/").status_code == 302


def test_a_pending_sign_in_expires(enrolled, monkeypatch):
    browser, _ = password_step()
    monkeypatch.setattr(totp.time, "time", lambda: time.time_ns() / 1e9 + totp.PENDING_TTL_SECONDS + 1)
    response = browser.post("/console/login/code", {"code": "000000"})
    assert response["Location"] == "/console/login/"


def test_the_admin_sign_in_goes_through_the_same_two_steps(compliance_user):
    device = totp.totp_enrolment_start(user=compliance_user)
    totp.totp_enrolment_confirm(device=device, code=code_for(device, offset_steps=-1))

    browser = Client()
    to_login = browser.get("/admin/login/?next=/admin/")
    assert to_login["Location"] == "/console/login/?next=/admin/"
    response = browser.post("/console/login/", {"username": "carol", "password": PASSWORD, "next": "/admin/"})
    assert response["Location"] == "/console/login/code"
    assert browser.get("/admin/").status_code == 302

    response = browser.post("/console/login/code", {"code": code_for(device)})
    assert response["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200


def test_turning_it_off_needs_a_code(enrolled, operator_a):
    browser = Client()
    browser.force_login(operator_a.user)
    assert browser.post("/console/security/two-step", {"action": "disable", "code": "000000"}).status_code == 400
    assert TotpDevice.objects.filter(pk=enrolled.pk).exists()

    browser.post("/console/security/two-step", {"action": "disable", "code": code_for(enrolled, offset_steps=1)})
    assert not TotpDevice.objects.filter(pk=enrolled.pk).exists()
