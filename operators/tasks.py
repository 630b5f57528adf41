"""Celery tasks of the integration. Each takes ids, loads what it needs and
is idempotent (tasks are acknowledged late, so one may run twice); the work
itself is in operators.integration, operators.webhooks and
operators.compliance.retention."""

from celery import shared_task

from operators import integration, scheduling_notices, webhooks
from operators.compliance import retention


@shared_task
def link_email_send(link_email_id: int) -> str:
    return integration.link_email_send(link_email_id=link_email_id)


@shared_task
def webhook_deliver(event_id: int) -> str:
    return webhooks.webhook_deliver(event_id=event_id)


@shared_task
def outbox_sweep() -> dict:
    """Periodic (beat): hand out every webhook event and link e-mail whose
    time has come. A task that was lost (worker restart, broker outage) is
    made up for here. An event handed out twice is sent once: each attempt
    claims its event first."""
    events = webhooks.webhook_events_due()
    for event_id in events:
        webhook_deliver.delay(event_id)
    emails = integration.link_emails_due()
    for link_email_id in emails:
        link_email_send.delay(link_email_id)
    return {"webhook_events": len(events), "link_emails": len(emails)}


@shared_task
def booking_email_send(booking_id: int, sequence: int) -> str:
    return scheduling_notices.booking_email_send(booking_id=booking_id, sequence=sequence)


@shared_task
def booking_notices() -> dict:
    """Periodic (beat): the reminders whose time has come (each once), and
    the booking e-mails a lost task did not send."""
    due = scheduling_notices.booking_notices_due()
    for booking_id, sequence in due:
        booking_email_send.delay(booking_id, sequence)
    return {"reminders": scheduling_notices.booking_reminders_send(), "booking_emails": len(due)}


@shared_task
def retention_erase_due() -> dict:
    """Periodic (beat): erase what is past each business's retention period."""
    erased = retention.retention_erase_due()
    expired_keys = integration.idempotency_keys_expire()
    return {"sessions_erased": erased, "idempotency_keys_expired": expired_keys}
