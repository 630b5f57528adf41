"""Deliveries follow Standard Webhooks 1.0: the reference library
(``standardwebhooks``) verifies every real delivery, sent by the real sender
to a real HTTP receiver, with the business's whsec_ secret as the admin shows
it. On the code before, it verified none (no webhook-* headers, and the event
id was not part of the signed content)."""

import base64
import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from operators.models import WebhookEvent
from operators.webhooks import business_webhook_secret_rotate, webhook_deliver, webhook_emit, webhook_event_resend
from sessions_app.audit import Actor
from tests.api.conftest import session_body


def _deliver_a_few(api_a, workflow_a, capture) -> list[str]:
    """session.created for three sessions and session.cancelled for one."""
    ids = []
    for number in range(3):
        with capture(execute=True):
            response = api_a.post(
                "/api/v1/sessions", session_body(workflow_a, business_reference=f"LOAN-{number}"), format="json"
            )
        assert response.status_code == 201
        ids.append(response.json()["id"])
    with capture(execute=True):
        assert api_a.post(f"/api/v1/sessions/{ids[0]}/cancel", {}, format="json").status_code == 200
    return ids


def test_every_real_delivery_verifies_with_standardwebhooks(
    api_a, workflow_a, hooked_business_a, receiver, django_capture_on_commit_callbacks
):
    _deliver_a_few(api_a, workflow_a, django_capture_on_commit_callbacks)
    event = WebhookEvent.objects.filter(event_type="session.created").first()
    webhook_event_resend(event=event)  # a manual re-send is signed anew
    assert len(receiver.received) == 5
    secret = hooked_business_a.webhook_secret
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    verifier = Webhook(secret)
    for request in receiver.received:
        payload = verifier.verify(request.body, request.headers)
        assert payload == json.loads(request.body)
        assert request.headers["webhook-id"] == payload["id"] == request.headers["verity-event-id"]
        assert request.headers["webhook-signature"].startswith("v1,")
    assert sorted(json.loads(r.body)["type"] for r in receiver.received) == [
        "session.cancelled",
        "session.created",
        "session.created",
        "session.created",
        "session.created",
    ]


def test_a_forged_or_replayed_delivery_does_not_verify(
    api_a, workflow_a, hooked_business_a, receiver, django_capture_on_commit_callbacks
):
    """A tampered body, another secret, and a captured request replayed under
    another event id (possible with the old signature, which left the id out)."""
    _deliver_a_few(api_a, workflow_a, django_capture_on_commit_callbacks)
    first, second = receiver.received[:2]
    verifier = Webhook(hooked_business_a.webhook_secret)
    forgeries = [
        (first.body.replace(b"created", b"cancelled"), first.headers),
        (first.body, {**first.headers, "webhook-id": second.headers["webhook-id"]}),
    ]
    for body, headers in forgeries:
        with pytest.raises(WebhookVerificationError, match="No matching signature"):
            verifier.verify(body, headers)
    stranger = Webhook(base64.b64encode(b"a key that is not the business's").decode())
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        stranger.verify(first.body, first.headers)


def test_rotating_gives_a_new_whsec_secret_that_signs_at_once(hooked_business_a, receiver, live_call, admin_user):
    old = hooked_business_a.webhook_secret
    new = business_webhook_secret_rotate(business=hooked_business_a, actor=Actor.staff(admin_user))
    assert new != old and new.startswith("whsec_")
    event = webhook_emit(business=hooked_business_a, event_type="session.created", session=live_call.session, data={})
    assert webhook_deliver(event_id=event.pk) == "delivered"
    [request] = receiver.received
    Webhook(new).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request.body, request.headers)
