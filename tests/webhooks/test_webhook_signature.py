"""Every delivery is signed: HMAC-SHA256 over "<timestamp>.<body>" with the
business's secret, verified here exactly as README.md tells businesses to."""

import hashlib
import hmac
import json
import time

from operators.models import WebhookEvent
from tests.api.conftest import session_body


def verify_verity_webhook(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> dict:
    """The README's example, verbatim."""
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


def test_session_created_arrives_signed(api_a, workflow_a, hooked_business_a, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_a.post("/api/v1/sessions", session_body(workflow_a), format="json")
    assert response.status_code == 201
    [request] = receiver.received
    event = verify_verity_webhook(hooked_business_a.webhook_secret, _headers(request), request.body)
    assert event["type"] == "session.created"
    assert event["data"]["session"]["id"] == response.json()["id"]
    assert event["business"] == str(hooked_business_a.public_id)
    assert request.headers["verity-event-id"] == event["id"]
    assert request.headers["content-type"] == "application/json"
    stored = WebhookEvent.objects.get()
    assert stored.state == WebhookEvent.State.DELIVERED
    assert [d.status_code for d in stored.deliveries.all()] == [200]


def test_a_tampered_body_or_another_secret_does_not_verify(api_a, workflow_a, hooked_business_a, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api_a.post("/api/v1/sessions", session_body(workflow_a), format="json")
    [request] = receiver.received
    tampered = request.body.replace(b"created", b"cancelled")
    for secret, body in [(hooked_business_a.webhook_secret, tampered), ("another-secret", request.body)]:
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
