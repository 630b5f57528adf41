"""The second line of the body limits (kyc.body_limits.RequestBodyLimitMiddleware),
for servers other than daphne: a body declared over the route's cap, or sent
without the credential the route needs, is refused before a byte of it is
read. Reproduces the finding on Django's side: the capture view (and CSRF's
form parsing before it) read whatever the client declared."""

import io

import pytest
from django.conf import settings
from django.test import Client

from tests.console.helpers import operator_browser

pytestmark = pytest.mark.django_db

SIXTY_MB = 60 * 1024 * 1024


class WatchedBody(io.BytesIO):
    """A request body that remembers how much of it was read."""

    read_bytes = 0

    def read(self, size=-1):
        data = super().read(size)
        self.read_bytes += len(data)
        return data

    def readline(self, size=-1):
        data = super().readline(size)
        self.read_bytes += len(data)
        return data


def upload(client: Client, path: str, *, declared: int):
    body = WatchedBody(b"--x\r\n" + b"\x00" * 1024)
    response = client.generic(
        "POST",
        path,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(declared),
        **{"wsgi.input": body},
    )
    return response, body


def test_customer_upload_declared_over_the_cap_is_refused_unread(customer, document_capture):
    response, body = upload(customer, f"/call/captures/{document_capture.public_id.hex}", declared=SIXTY_MB)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert body.read_bytes == 0


def browser_as_real_browsers_are():
    """CSRF checked, with a CSRF cookie: CsrfViewMiddleware then reads the
    form (request.POST) for its token, before any view checks who is asking."""
    browser = Client(enforce_csrf_checks=True)
    browser.cookies[settings.CSRF_COOKIE_NAME] = "k" * 32
    return browser


def test_upload_without_a_bound_customer_session_is_refused_unread(document_capture):
    """The outsider gets the page every customer route shows a browser that opened no link."""
    response, body = upload(
        browser_as_real_browsers_are(), f"/call/captures/{document_capture.public_id.hex}", declared=SIXTY_MB
    )

    assert response.status_code == 403
    assert b"link" in response.content.lower()
    assert body.read_bytes == 0


def test_forged_session_cookie_is_not_a_customer(document_capture):
    browser = browser_as_real_browsers_are()
    browser.cookies[settings.SESSION_COOKIE_NAME] = "forged-session-key"

    response, body = upload(browser, f"/call/captures/{document_capture.public_id.hex}", declared=SIXTY_MB)

    assert response.status_code == 403
    assert body.read_bytes == 0


def test_recording_chunk_declared_over_the_cap_is_refused_unread(answered_call, operator_a):
    session = answered_call.session.public_id.hex
    response, body = upload(
        operator_browser(operator_a.user), f"/console/calls/{session}/recordings/abc/chunks/0", declared=SIXTY_MB
    )

    assert response.status_code == 413
    assert body.read_bytes == 0
