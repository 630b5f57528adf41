"""A business can require two-step sign-in of its operators, and staff
(admin) users must have it when STAFF_REQUIRE_SECOND_FACTOR is on: after
the password such a user without a confirmed authenticator app reaches the
enrolment page and nothing else (console, admin, API docs, sockets) until
the app is confirmed. Each test reproduces what the password alone reached
before the rule existed."""

import time

import pyotp
import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from accounts import totp
from accounts.models import TotpDevice
from kyc import throttle
from tests.consumers.helpers import QUEUE_PATH, call_path

PASSWORD = "correct-horse-battery-1"
ENROL = "/console/security/two-step"


@pytest.fixture(autouse=True)
def _forget_code_failures(operator_a):
    throttle.cache.delete(throttle._window_key("totp", str(operator_a.user.pk), totp.FAILURE_WINDOW_SECONDS))


@pytest.fixture
def business_requires_it(business_a):
    business_a.require_second_factor = True
    business_a.save(update_fields=["require_second_factor"])
    return business_a


@pytest.fixture
def staff_requires_it(settings):
    settings.STAFF_REQUIRE_SECOND_FACTOR = True


def signed_in_with_password(username="alice") -> tuple[Client, object]:
    browser = Client()
    response = browser.post("/console/login/", {"username": username, "password": PASSWORD})
    return browser, response


def enrol(browser: Client, user) -> None:
    browser.post(ENROL, {"action": "start"})
    device = TotpDevice.objects.get(user=user)
    code = pyotp.TOTP(totp._secret(device)).now()
    assert browser.post(ENROL, {"action": "confirm", "code": code}).status_code == 302


def test_an_operator_of_such_a_business_is_sent_to_enrolment_after_the_password(operator_a, business_requires_it):
    """Reproduces: the password alone opened the console of a business that
    wants every operator on two-step sign-in."""
    browser, response = signed_in_with_password()

    console = browser.get(response["Location"])
    assert console.status_code == 302
    assert console["Location"] == ENROL
    page = browser.get(ENROL).content.decode()
    assert "requires two-step sign-in" in page
    assert "Set up two-step sign-in" in page


def test_until_enrolled_nothing_else_is_reachable(operator_a, business_requires_it, answered_call):
    browser, _ = signed_in_with_password()

    for page in ("/console/", "/admin/", "/api/v1/docs/", f"/console/calls/{answered_call.session.public_id.hex}/"):
        response = browser.get(page)
        assert response.status_code == 302, page
        assert response["Location"] == ENROL, page
    action = browser.post(f"/console/calls/{answered_call.session.public_id.hex}/end")
    assert action.status_code == 403
    assert action.json()["error"]["code"] == "second_factor_required"


async def test_until_enrolled_the_queue_and_call_sockets_refuse_the_session(
    operator_a, business_requires_it, answered_call, sockets
):
    browser, _ = await database_sync_to_async(signed_in_with_password)()
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value

    for path in (QUEUE_PATH, call_path(answered_call.session)):
        socket = await sockets.open(path, session_key=key)
        assert (await socket.receive())["code"] == "forbidden", path
        await socket.closed_with(4403)


def test_once_enrolled_the_console_opens_and_the_next_sign_in_asks_for_a_code(operator_a, business_requires_it):
    browser, _ = signed_in_with_password()
    enrol(browser, operator_a.user)

    assert browser.get("/console/").status_code == 200
    _, again = signed_in_with_password()
    assert again["Location"] == "/console/login/code"


def test_a_required_second_factor_cannot_be_turned_off(operator_a, business_requires_it):
    browser, _ = signed_in_with_password()
    enrol(browser, operator_a.user)
    code = pyotp.TOTP(totp._secret(TotpDevice.objects.get(user=operator_a.user))).at(time.time() + 30)

    response = browser.post(ENROL, {"action": "disable", "code": code})

    assert response.status_code == 400
    assert "required for your account" in response.content.decode()
    assert TotpDevice.objects.filter(user=operator_a.user, confirmed_at__isnull=False).exists()


def test_operators_of_a_business_that_does_not_require_it_sign_in_as_before(operator_a, operator_b, business_requires_it):
    """Bob's business (B) did not ask for it: his password opens his console."""
    browser, response = signed_in_with_password("bob")
    assert response["Location"] == "/console/"
    assert browser.get("/console/").status_code == 200


def test_a_staff_user_is_sent_to_enrolment_before_the_admin(compliance_user, staff_requires_it):
    """Reproduces: Carol's password alone opened the admin (every business's data)."""
    browser = Client()
    response = browser.post("/console/login/", {"username": "carol", "password": PASSWORD, "next": "/admin/"})
    assert response["Location"] == "/admin/"

    admin = browser.get("/admin/")
    assert admin.status_code == 302
    assert admin["Location"] == ENROL
    assert browser.get("/admin/sessions_app/verificationsession/")["Location"] == ENROL

    enrol(browser, compliance_user)
    assert browser.get("/admin/").status_code == 200


def test_a_staff_session_signed_in_before_the_rule_is_held_at_enrolment_too(compliance_user, staff_requires_it):
    browser = Client()
    browser.force_login(compliance_user)
    assert browser.get("/admin/")["Location"] == ENROL


def test_with_the_setting_off_staff_reach_the_admin_with_the_password(compliance_user, settings):
    settings.STAFF_REQUIRE_SECOND_FACTOR = False
    browser = Client()
    browser.post("/console/login/", {"username": "carol", "password": PASSWORD})
    assert browser.get("/admin/").status_code == 200


def test_sign_out_still_works_before_enrolment(operator_a, business_requires_it):
    browser, _ = signed_in_with_password()
    browser.post("/console/logout/")
    assert "_auth_user_id" not in browser.session
