"""Every delivery is signed. The deprecated Verity-Signature (HMAC-SHA256 over
"<timestamp>.<body>") keeps verifying for a business whose hex secret was
made before Standard Webhooks, exactly as README.md told businesses to
verify it; test_standard_webhooks.py covers the current signature."""

import base64
import hashlib
import hmac
import importlib
import json
import secrets
import time

from django.apps import apps
from standardwebhooks import Webhook

from accounts.models import Business
from operators.models import WebhookEvent
from tests.api.conftest import session_body

hex_to_whsec = importlib.import_module("accounts.migrations.0002_webhook_secret_whsec_and_url_egress").hex_to_whsec


def verify_verity_webhook(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> dict:
    """The README's (deprecated) example, verbatim."""
    timestamp = headers["Verity-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        raise ValueError("stale webhook")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    signatures = [part.split("=", 1)[1] for part in headers["Verity-Signature"].split(",") if part.startswith("v1=")]
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise ValueError("bad signature")
    return json.loads(body)


def _headers(request) -> dict:
    return {
        "Verity-Timestamp": request.headers["verity-timestamp"],
        "Verity-Signature": request.headers["verity-signature"],
    }


def _old_hex_secret(business) -> str:
    """A secret as businesses got them before, converted as migrating does."""
    old = secrets.token_hex(32)
    Business.objects.filter(pk=business.pk).update(webhook_secret=old)
    hex_to_whsec(apps, None)
    business.refresh_from_db()
    return old


def test_an_old_hex_secret_becomes_whsec_of_the_same_key(hooked_business_a):
    old = _old_hex_secret(hooked_business_a)
    assert hooked_business_a.webhook_secret.startswith("whsec_")
    assert base64.b64decode(hooked_business_a.webhook_secret.removeprefix("whsec_")) == old.encode()


def test_a_receiver_keeps_verifying_with_its_old_hex_secret(
    api_a, workflow_a, hooked_business_a, receiver, django_capture_on_commit_callbacks
):
    """A receiver that still checks Verity-Signature with the hex secret it was
    given before the change sees no difference; the whsec_ form the admin now
    shows verifies the same request the standard way."""
    old = _old_hex_secret(hooked_business_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_a.post("/api/v1/sessions", session_body(workflow_a), format="json")
    assert response.status_code == 201
    [request] = receiver.received
    event = verify_verity_webhook(old, _headers(request), request.body)
    assert event["type"] == "session.created"
    assert event["data"]["session"]["id"] == response.json()["id"]
    assert event["business"] == str(hooked_business_a.public_id)
    assert request.headers["verity-event-id"] == event["id"]
    assert request.headers["content-type"] == "application/json"
    assert Webhook(hooked_business_a.webhook_secret).verify(request.body, request.headers) == event
    stored = WebhookEvent.objects.get()
    assert stored.state == WebhookEvent.State.DELIVERED
    assert [d.status_code for d in stored.deliveries.all()] == [200]


def test_a_tampered_body_or_another_secret_does_not_verify(
    api_a, workflow_a, hooked_business_a, receiver, django_capture_on_commit_callbacks
):
    old = _old_hex_secret(hooked_business_a)
    with django_capture_on_commit_callbacks(execute=True):
        api_a.post("/api/v1/sessions", session_body(workflow_a), format="json")
    [request] = receiver.received
    tampered = request.body.replace(b"created", b"cancelled")
    for secret, body in [(old, tampered), ("another-secret", request.body)]:
        try:
            verify_verity_webhook(secret, _headers(request), body)
        except ValueError as problem:
            assert str(problem) == "bad signature"
        else:
            raise AssertionError("a forged delivery verified")


def test_webhook_body_holds_no_names_or_emails(api_a, workflow_a, hooked_business_a, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api_a.post("/api/v1/sessions", session_body(workflow_a), format="json")
    body = receiver.received[0].body.decode()
    assert "Max Mustermann" not in body
    assert "max@example.com" not in body
