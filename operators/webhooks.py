"""Webhooks: tell the business what happened to its sessions.

An outbox. ``webhook_emit`` writes a WebhookEvent row in the caller's
transaction, next to the change it reports: the event exists exactly when the
change does. After commit a Celery task delivers it; a failed attempt is
scheduled again with exponential backoff (capped at six hours) until the
receiver answers 2xx or WEBHOOK_RETRY_HOURS have passed since the event, the
last attempt falling on the end of that window. The schedule lives in the
database, and the periodic ``outbox_sweep`` sends whatever is due, so a
worker restart, a lost task or a broker outage loses nothing.

Delivery is at least once: a receiver may see an event twice (a timeout after
it processed the request, a manual re-send) and de-duplicates on the event id,
which every attempt carries unchanged (``webhook-id`` header, ``id`` in
the body). One session's events are sent in the order they were written: an
event waits while an older one of its session is pending, and goes as soon as
that one is delivered (a manual re-send is the exception).

Each request is signed as Standard Webhooks 1.0 (standardwebhooks.com) says,
so a receiver verifies it with that project's libraries:
``webhook-id`` (the event id), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature: v1,<base64>``, the HMAC-SHA256 of
``<webhook-id>.<webhook-timestamp>.<body>`` keyed with the business's secret
``whsec_<base64 key>``. Deprecated, sent for one more release:
``Verity-Event-Id``, ``Verity-Timestamp`` and ``Verity-Signature: v1=<hex>``
(the same key over ``<timestamp>.<body>``, without the id, so a captured
request could be replayed under another event id). ``Verity-Event-Type`` and
``Verity-Attempt`` are informational and stay. README.md shows how to verify.

Where a request may go is the egress policy's business (kyc/egress.py): the
URL is checked when saved and again at each attempt, against the address it
is sent to; a refused URL is a failed attempt with the reason in the
delivery log. The log keeps the status code and, of a failed text answer,
at most its first 200 bytes.
"""

import base64
import hashlib
import hmac
import http.client
import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import WEBHOOK_SECRET_PREFIX, Business, webhook_secret_generate
from kyc.egress import EXCERPT_BYTES, EgressRefused, egress_post, webhook_policy
from operators.models import WebhookDelivery, WebhookEvent
from sessions_app import events as session_events
from sessions_app.audit import audit_record
from workflows import events as workflow_events

logger = logging.getLogger(__name__)

SESSION_CREATED = "session.created"
PARTICIPANT_JOINED = "participant.joined"
SESSION_IN_CALL = "session.in_call"
PARTICIPANT_DECIDED = "participant.decided"
# A provisional decision (the four-eyes rule) confirmed or overturned.
PARTICIPANT_REVIEWED = "participant.reviewed"
SESSION_COMPLETED = "session.completed"
SESSION_ABANDONED = "session.abandoned"
SESSION_EXPIRED = "session.expired"
SESSION_CANCELLED = "session.cancelled"
CHECKS_COMPLETED = "checks.completed"
SESSION_FLAGGED = "session.flagged"
SESSION_FLAG_CLEARED = "session.flag_cleared"
# Booked calls (operators.scheduling_notices): the customer or the API booked,
# moved or cancelled the call's time, or the customer did not come.
SESSION_SCHEDULED = "session.scheduled"
SESSION_RESCHEDULED = "session.rescheduled"
SESSION_BOOKING_CANCELLED = "session.booking_cancelled"
SESSION_NO_SHOW = "session.no_show"
EVENT_TYPES = frozenset(
    {
        SESSION_CREATED,
        PARTICIPANT_JOINED,
        SESSION_IN_CALL,
        PARTICIPANT_DECIDED,
        PARTICIPANT_REVIEWED,
        SESSION_COMPLETED,
        SESSION_ABANDONED,
        SESSION_EXPIRED,
        SESSION_CANCELLED,
        CHECKS_COMPLETED,
        SESSION_FLAGGED,
        SESSION_FLAG_CLEARED,
        SESSION_SCHEDULED,
        SESSION_RESCHEDULED,
        SESSION_BOOKING_CANCELLED,
        SESSION_NO_SHOW,
    }
)

SIGNATURE_VERSION = "v1"
MAX_BACKOFF = timedelta(hours=6)
FIRST_BACKOFF = timedelta(seconds=30)
# How long an attempt in progress holds its event before another sender may try.
ATTEMPT_LEASE = timedelta(minutes=2)


# --- writing events ---------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if value else None


def _session_data(session) -> dict:
    # Ids, states and the business's own references; no names or e-mails (the
    # business has them, and a webhook log should not hold personal data).
    return {
        "id": str(session.public_id),
        "kind": session.kind,
        "state": session.state,
        "business_reference": session.business_reference,
        "created_at": _iso(session.created_at),
        "answered_at": _iso(session.answered_at),
        "ended_at": _iso(session.ended_at),
    }


def _participant_data(participant) -> dict:
    return {
        "id": str(participant.public_id),
        "state": participant.state,
        "business_reference": participant.business_reference,
    }


def webhook_emit(*, business: Business, event_type: str, session, participant=None, data: dict) -> WebhookEvent | None:
    """Write one event to the outbox in the caller's transaction and deliver
    it after commit. Nothing is written while the business has no endpoint."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {event_type!r}.")
    if not business.webhook_url:
        return None
    now = timezone.now()
    event = WebhookEvent(
        business=business,
        event_type=event_type,
        session=session,
        participant=participant,
        created_at=now,
        next_attempt_at=now,
    )
    payload_data = {"session": _session_data(session)} if session is not None else {}
    if participant is not None:
        payload_data["participant"] = _participant_data(participant)
    payload_data.update(data)
    event.body = json.dumps(
        {
            "id": str(event.public_id),
            "type": event_type,
            "created_at": now.isoformat(),
            "business": str(business.public_id),
            "data": payload_data,
        },
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )
    event.save()
    event_id = event.pk
    # robust: a broker that is down must not turn the committed change into an
    # error; the sweep delivers the event later.
    transaction.on_commit(lambda: _enqueue(event_id), robust=True)
    return event


def _enqueue(event_id: int) -> None:
    from operators.tasks import webhook_deliver

    webhook_deliver.delay(event_id)


_SESSION_EVENTS = {
    "in_call": SESSION_IN_CALL,
    "completed": SESSION_COMPLETED,
    "abandoned": SESSION_ABANDONED,
    "expired": SESSION_EXPIRED,
    "cancelled": SESSION_CANCELLED,
}


def webhook_on_session_move(sender, *, session, previous: str, target: str, data: dict, **kwargs) -> None:
    """Receives sessions_app.events.session_moved, inside the move's transaction."""
    event_type = _SESSION_EVENTS.get(target)
    if event_type is None:
        return
    extra = {"previous_state": previous}
    if "reason" in data:
        extra["reason"] = data["reason"]
    webhook_emit(business=session.business, event_type=event_type, session=session, data=extra)


def webhook_on_participant_move(sender, *, participant, previous: str, target: str, **kwargs) -> None:
    """Receives sessions_app.events.participant_moved, inside the move's
    transaction. participant.decided is written by decision_record, with the
    decision."""
    joined = target == "waiting" or (target == "in_call" and previous == "left")
    if not joined:
        return
    session = participant.session
    webhook_emit(
        business=session.business,
        event_type=PARTICIPANT_JOINED,
        session=session,
        participant=participant,
        data={"rejoined": previous == "left"},
    )


def webhook_on_checks_completed(
    sender, *, session, participant, results: list[dict], recommendation: dict | None = None, **kwargs
) -> None:
    """Receives workflows.events.checks_completed (which says when and how
    often), inside the transaction that records it. ``results`` are
    JSON-ready dicts (kind, status, score, engine, reason codes; no personal
    data), ``recommendation`` the system's advice (decision, reason codes)."""
    data = {"checks": results}
    if recommendation is not None:
        data["recommendation"] = recommendation
    webhook_emit(
        business=session.business,
        event_type=CHECKS_COMPLETED,
        session=session,
        participant=participant,
        data=data,
    )


def webhooks_connect() -> None:
    """Subscribe the outbox to what the lower floors announce (OperatorsConfig.ready)."""
    session_events.session_moved.connect(webhook_on_session_move, dispatch_uid="webhook_on_session_move")
    session_events.participant_moved.connect(webhook_on_participant_move, dispatch_uid="webhook_on_participant_move")
    workflow_events.checks_completed.connect(webhook_on_checks_completed, dispatch_uid="webhook_on_checks_completed")


# --- delivering ---------------------------------------------------------------------------


def webhook_signing_key(secret: str) -> bytes:
    """The HMAC key a business's ``whsec_<base64>`` secret stands for."""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        # Migration accounts 0002 converted every older secret; anything else
        # is a bug, and signing with a guessed key would only hide it.
        raise ValueError("A webhook secret must start with whsec_.")
    return base64.b64decode(secret[len(WEBHOOK_SECRET_PREFIX) :])


def webhook_signature(*, secret: str, event_id: str, timestamp: str, body: str) -> str:
    """Standard Webhooks 1.0: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``."""
    signed = f"{event_id}.{timestamp}.{body}".encode()
    digest = hmac.new(webhook_signing_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def webhook_legacy_signature(*, secret: str, timestamp: str, body: str) -> str:
    """Deprecated ``Verity-Signature: v1=<hex>`` over "timestamp.body", with the
    same key; sent for one more release, then removed."""
    digest = hmac.new(webhook_signing_key(secret), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def webhook_headers(*, event: WebhookEvent, secret: str, attempt: int, timestamp: str) -> dict:
    event_id = str(event.public_id)
    return {
        "Content-Type": "application/json",
        "User-Agent": "Verity-Webhooks/1",
        "webhook-id": event_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": webhook_signature(secret=secret, event_id=event_id, timestamp=timestamp, body=event.body),
        # Deprecated: the webhook-* headers above replace the next three.
        "Verity-Event-Id": event_id,
        "Verity-Timestamp": timestamp,
        "Verity-Signature": webhook_legacy_signature(secret=secret, timestamp=timestamp, body=event.body),
        "Verity-Event-Type": event.event_type,
        "Verity-Attempt": str(attempt),
    }


def webhook_backoff(attempts: int) -> timedelta:
    """The wait after the given number of failed attempts: 30 s, 1 min, 2 min, … capped at 6 h."""
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str, str]:
    """(status code or None, response excerpt, error). Never raises: whatever
    goes wrong is a failed attempt, written to the delivery log."""
    try:
        reply = egress_post(
            url, body, headers, policy=webhook_policy(), timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        )
    except EgressRefused as exc:
        return None, "", f"Refused: {exc}"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, "", f"{type(exc).__name__}: {exc}"
    # A redirect is an answer, not a success (egress_post never follows one):
    # the business fixes its URL.
    error = "" if 200 <= reply.status < 300 else f"HTTP {reply.status}"
    return reply.status, reply.excerpt, error


def _attempt(event: WebhookEvent, *, attempt: int, manual: bool) -> WebhookDelivery:
    business = event.business
    started = timezone.now()
    url = business.webhook_url
    if not url:
        status, excerpt, error, duration_ms = None, "", "The business has no webhook URL.", 0
    else:
        timestamp = str(int(time.time()))
        headers = webhook_headers(event=event, secret=business.webhook_secret, attempt=attempt, timestamp=timestamp)
        clock = time.monotonic()
        status, excerpt, error = _post(url, event.body.encode("utf-8"), headers)
        duration_ms = int((time.monotonic() - clock) * 1000)
    return WebhookDelivery.objects.create(
        event=event,
        attempt=attempt,
        url=url[:500],
        started_at=started,
        duration_ms=duration_ms,
        status_code=status,
        error=error[:500],
        response_excerpt=excerpt[:EXCERPT_BYTES],
        manual=manual,
    )


def webhook_deliver(*, event_id: int, now=None) -> str:
    """Make one attempt at a due event. Returns what happened.

    The event is claimed by pushing next_attempt_at forward in one UPDATE (a
    lease) instead of locking it across the HTTP request: on SQLite a
    transaction held that long would stop every other writer, and on
    PostgreSQL it would hold a connection for as long as the receiver dawdles.
    """
    started = timezone.now()
    now = now or started  # tests pass a later "now" to walk the retry schedule
    if _older_event_of_session_pending(event_id):
        # One session's events reach the business in the order they happened:
        # this one waits while an older one is still on its way (in backoff,
        # or being sent now), which hands on to it once delivered.
        return "waiting"
    claimed = WebhookEvent.objects.filter(
        pk=event_id, state=WebhookEvent.State.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + ATTEMPT_LEASE + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS))
    if not claimed:
        return "not_due"
    event = WebhookEvent.objects.select_related("business").get(pk=event_id)
    attempt = event.attempts + 1
    delivery = _attempt(event, attempt=attempt, manual=False)
    finished = now + (timezone.now() - started)
    if delivery.succeeded:
        WebhookEvent.objects.filter(pk=event.pk).update(
            state=WebhookEvent.State.DELIVERED, attempts=attempt, delivered_at=finished, last_error=""
        )
        _hand_on_to_next_of_session(event, now=finished)
        return "delivered"
    deadline = event.created_at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    update = {"attempts": attempt, "last_error": delivery.error or f"HTTP {delivery.status_code}"}
    if finished >= deadline:
        update["state"] = WebhookEvent.State.FAILED
        logger.warning("webhook event %s failed for good after %s attempts", event.public_id, attempt)
    else:
        update["next_attempt_at"] = min(finished + webhook_backoff(attempt), deadline)
    WebhookEvent.objects.filter(pk=event.pk).update(**update)
    return "failed" if update.get("state") else "retry"


def _pending_of_session(session_id):
    return WebhookEvent.objects.filter(session_id=session_id, state=WebhookEvent.State.PENDING).order_by(
        "created_at", "pk"
    )


def _older_event_of_session_pending(event_id: int) -> bool:
    event = WebhookEvent.objects.filter(pk=event_id).values("session_id", "created_at").first()
    if event is None or event["session_id"] is None:
        return False
    first = _pending_of_session(event["session_id"]).values_list("pk", flat=True).first()
    return first is not None and first != event_id


def _hand_on_to_next_of_session(event: WebhookEvent, *, now) -> None:
    """The receiver just took an event: the session's next one, which waited
    behind it, goes now rather than at its own (possibly distant) retry time."""
    if event.session_id is None:
        return
    following = _pending_of_session(event.session_id).first()
    if following is None:
        return
    if following.next_attempt_at > now:
        WebhookEvent.objects.filter(pk=following.pk, state=WebhookEvent.State.PENDING).update(next_attempt_at=now)
    following_id = following.pk
    transaction.on_commit(lambda: _enqueue(following_id), robust=True)


def webhook_event_resend(*, event: WebhookEvent) -> WebhookDelivery:
    """Send an event again now, by hand (admin), whatever its state, with
    the same id and body. A success marks it delivered; a failure leaves its
    state and schedule as they were."""
    event = WebhookEvent.objects.select_related("business").get(pk=event.pk)
    delivery = _attempt(event, attempt=event.attempts + 1, manual=True)
    update = {"attempts": event.attempts + 1}
    if delivery.succeeded:
        update.update(state=WebhookEvent.State.DELIVERED, delivered_at=timezone.now(), last_error="")
    else:
        update["last_error"] = delivery.error or f"HTTP {delivery.status_code}"
    WebhookEvent.objects.filter(pk=event.pk).update(**update)
    return delivery


def webhook_events_due(*, now=None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(WebhookEvent.objects.due(now).order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


def business_webhook_secret_rotate(*, business: Business, actor) -> str:
    """A new signing secret; the old one stops being used at once."""
    secret = webhook_secret_generate()
    with transaction.atomic():
        Business.objects.filter(pk=business.pk).update(webhook_secret=secret)
        audit_record(business=business, actor=actor, action="webhook_secret.rotated")
    business.webhook_secret = secret
    return secret
