"""One row of each integration model (issue 7) for a business's call, made
directly, for tests/unit/test_business_isolation.py's both_businesses_busy."""

from django.utils import timezone

from operators.integration import api_key_create
from operators.models import (
    IdempotencyKey,
    LinkEmail,
    SessionErasure,
    WebhookDelivery,
    WebhookEvent,
)

INTEGRATION_BUSINESS_PATH = {
    "operators.ApiKey": "business",
    "operators.IdempotencyKey": "business",
    "operators.WebhookEvent": "business",
    "operators.WebhookDelivery": "event__business",
    "operators.LinkEmail": "participant__session__business",
    "operators.SessionErasure": "session__business",
}


def integration_rows(call) -> None:
    business = call.session.business
    api_key_create(business=business, name="CRM")
    IdempotencyKey.objects.create(
        business=business,
        key_hash=str(call.session.pk).rjust(64, "0"),
        request_hash="0" * 64,
        response_status=201,
        response_encrypted="-",
        session=call.session,
    )
    event = WebhookEvent.objects.create(business=business, event_type="session.created", session=call.session, body="{}")
    WebhookDelivery.objects.create(event=event, attempt=1, url="https://example.com/hook", started_at=timezone.now())
    LinkEmail.objects.create(participant=call.participant)
    SessionErasure.objects.create(session=call.session, retention_days=1)
