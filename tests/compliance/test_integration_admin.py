"""The admin side of the integration: API keys shown once and revoked,
the webhook delivery log with its manual re-send."""

import base64
import re

from django.test import Client
from django.urls import reverse

from operators.models import ApiKey, WebhookEvent
from operators.webhooks import webhook_emit
from tests.api.conftest import client_with
from tests.webhooks.conftest import Receiver, allow_local_receiver


def browser_of(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_a_new_key_is_shown_once_and_only_its_hash_kept(superuser, business_a):
    browser = browser_of(superuser)
    page = browser.post(reverse("admin:operators_apikey_add"), {"business": business_a.pk, "name": "CRM"})
    assert page.status_code == 200
    raw = re.search(r'value="(vty_[^"]+)"', page.content.decode()).group(1)
    api_key = ApiKey.objects.get()
    assert api_key.created_by == superuser and api_key.prefix == raw[:12]
    assert raw not in api_key.key_hash
    assert client_with(raw).get("/api/v1/sessions").status_code == 200
    listing = browser.get(reverse("admin:operators_apikey_changelist")).content.decode()
    assert api_key.prefix in listing and raw not in listing
    detail = browser.get(reverse("admin:operators_apikey_change", args=[api_key.pk])).content.decode()
    assert raw not in detail


def test_revoking_in_the_admin_shuts_the_key_out(superuser, key_a):
    browser = browser_of(superuser)
    browser.post(
        reverse("admin:operators_apikey_changelist"),
        {"action": "revoke_keys", "_selected_action": [key_a.pk]},
    )
    key_a.refresh_from_db()
    assert key_a.revoked_at is not None
    assert client_with(key_a.raw).get("/api/v1/sessions").status_code == 401


def test_compliance_cannot_make_keys(compliance_user, business_a):
    response = browser_of(compliance_user).post(
        reverse("admin:operators_apikey_add"), {"business": business_a.pk, "name": "x"}
    )
    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_delivery_log_is_visible_and_an_event_can_be_sent_again(superuser, business_a, live_call, settings):
    allow_local_receiver(settings)
    receiver = Receiver(script=[500, 200])
    receiver.start()
    try:
        type(business_a).objects.filter(pk=business_a.pk).update(webhook_url=receiver.url)
        business_a.refresh_from_db()
        event = webhook_emit(business=business_a, event_type="session.created", session=live_call.session, data={})
        from operators.webhooks import webhook_deliver

        webhook_deliver(event_id=event.pk)
        browser = browser_of(superuser)
        detail = browser.get(reverse("admin:operators_webhookevent_change", args=[event.pk])).content.decode()
        assert "500" in detail
        browser.post(
            reverse("admin:operators_webhookevent_changelist"),
            {"action": "resend", "_selected_action": [event.pk]},
        )
        event.refresh_from_db()
        assert event.state == WebhookEvent.State.DELIVERED
        assert [d.manual for d in event.deliveries.order_by("attempt")] == [False, True]
        assert receiver.ids() == [str(event.public_id)] * 2
    finally:
        receiver.stop()


def test_rotating_the_webhook_secret_is_audited(superuser, business_a):
    from sessions_app.models import AuditEvent

    old = business_a.webhook_secret
    browser_of(superuser).post(
        reverse("admin:accounts_business_changelist"),
        {"action": "rotate_webhook_secret", "_selected_action": [business_a.pk]},
    )
    business_a.refresh_from_db()
    assert business_a.webhook_secret != old
    assert business_a.webhook_secret.startswith("whsec_")
    assert len(base64.b64decode(business_a.webhook_secret.removeprefix("whsec_"))) == 32
    assert AuditEvent.objects.get(action="webhook_secret.rotated").actor_user == superuser
