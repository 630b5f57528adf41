"""Writes of the business's integration: API keys, idempotent session
creation through the API, and the customers' link e-mails.

The views of operators.api and the tasks of operators.tasks stay thin and call
these functions.
"""

import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Business
from kyc.crypto import InvalidToken, secret_decrypt, secret_encrypt
from operators.models import ApiKey, IdempotencyKey, LinkEmail
from operators.webhooks import webhook_emit
from sessions_app.audit import Actor, audit_record
from sessions_app.links import link_token_hash
from sessions_app.models import Participant
from sessions_app.scheduling_services import session_book
from sessions_app.selectors import participant_access_problem
from sessions_app.services import CreatedSession, ParticipantSpec, participant_link_reissue, session_create

logger = logging.getLogger(__name__)

# --- API keys -------------------------------------------------------------------

API_KEY_PREFIX = "vty_"
# A key is used often; its last_used_at need not be exact to the second, and
# writing it on every request would serialise a busy client's requests.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


def _api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def api_key_create(*, business: Business, name: str, created_by=None) -> tuple[ApiKey, str]:
    """A new key for the business. The raw key is returned once and never stored."""
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            business=business,
            name=name,
            prefix=raw_key[: ApiKey.PREFIX_LENGTH],
            key_hash=_api_key_hash(raw_key),
            created_by=created_by,
        )
        audit_record(
            business=business,
            actor=Actor.staff(created_by) if created_by else Actor.system(),
            action="api_key.created",
            data={"api_key": api_key.pk, "prefix": api_key.prefix},
        )
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update(of=("self",)).select_related("business").get(pk=api_key.pk)
        if api_key.revoked_at:
            return api_key
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            business=api_key.business,
            actor=actor,
            action="api_key.revoked",
            data={"api_key": api_key.pk, "prefix": api_key.prefix},
        )
    return api_key


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key this raw key is, or None."""
    if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 200:
        return None
    api_key = (
        ApiKey.objects.active().select_related("business").filter(key_hash=_api_key_hash(raw_key)).first()
    )
    if api_key is None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > API_KEY_TOUCH_INTERVAL:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --- sessions created through the API -------------------------------------------------


def api_session_create(
    *,
    business: Business,
    workflow,
    kind: str,
    participants: list[ParticipantSpec],
    business_reference: str = "",
    redirect_url: str = "",
    link_ttl: timedelta | None = None,
    send_links: bool = False,
    scheduled_for: datetime | None = None,
    operator=None,
) -> CreatedSession:
    """Create the session, write its session.created webhook and queue the
    link e-mails, all in one transaction: either everything happens or nothing.
    With ``scheduled_for``, the call is booked in that transaction too (a time
    that is not free fails the whole request)."""
    with transaction.atomic():
        created = session_create(
            business=business,
            workflow=workflow,
            kind=kind,
            participants=participants,
            business_reference=business_reference,
            redirect_url=redirect_url,
            link_ttl=link_ttl,
            actor=Actor.api(),
        )
        webhook_emit(
            business=business,
            event_type="session.created",
            session=created.session,
            data={"participants": [str(participant.public_id) for participant, _url in created.links]},
        )
        if send_links:
            for participant, url in created.links:
                link_email_queue(participant=participant, link=url)
        if scheduled_for is not None:
            session_book(session=created.session, starts_at=scheduled_for, operator=operator, actor=Actor.api())
    return created


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different request body, or
    its stored answer can no longer be read."""


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict
    replayed: bool


def _idempotency_purpose(business: Business, key: str) -> str:
    # The client's key is part of the encryption key: the database and
    # SECRET_KEY together still do not reveal a stored answer's links.
    return f"idempotency:{business.pk}:{key}"


def _idempotency_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def request_fingerprint(data) -> str:
    """The same JSON body, whatever the order of its keys or its whitespace."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _stored_answer(row: IdempotencyKey, *, business: Business, key: str, fingerprint: str) -> StoredAnswer:
    if row.request_hash != fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was used with a different request body.")
    try:
        body = json.loads(secret_decrypt(row.response_encrypted, purpose=_idempotency_purpose(business, key)))
    except InvalidToken:
        raise IdempotencyConflict("The first answer to this Idempotency-Key can no longer be read.") from None
    return StoredAnswer(status=row.response_status, body=body, replayed=True)


def idempotent_call(
    *, business: Business, key: str, fingerprint: str, call: Callable[[], tuple[int, dict, object]]
) -> StoredAnswer:
    """Run ``call`` once per (business, key): a retry with the same body gets
    the first answer back, a retry with another body an IdempotencyConflict.

    ``call`` returns (status, body, session) and runs in the same transaction
    as the key's row, so a session and its key commit or roll back together.
    Two concurrent requests with the same key: the unique constraint lets one
    insert, the other fails with IntegrityError, rolls its session back and
    answers with the winner's stored answer.
    """
    key_hash = _idempotency_key_hash(key)
    ttl_cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    rows = IdempotencyKey.objects.filter(business=business, key_hash=key_hash)
    rows.filter(created_at__lt=ttl_cutoff).delete()
    existing = rows.first()
    if existing is not None:
        return _stored_answer(existing, business=business, key=key, fingerprint=fingerprint)
    try:
        with transaction.atomic():
            status, body, session = call()
            IdempotencyKey.objects.create(
                business=business,
                key_hash=key_hash,
                request_hash=fingerprint,
                response_status=status,
                response_encrypted=secret_encrypt(
                    json.dumps(body, default=str), purpose=_idempotency_purpose(business, key)
                ),
                session=session,
            )
    except IntegrityError:
        existing = rows.first()
        if existing is None:
            raise
        return _stored_answer(existing, business=business, key=key, fingerprint=fingerprint)
    return StoredAnswer(status=status, body=body, replayed=False)


def idempotency_keys_expire(*, now=None) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- the customer's link e-mail ------------------------------------------------------

LINK_EMAIL_MAX_ATTEMPTS = 8


class LinkEmailRefused(Exception):
    """The participant's link cannot be e-mailed: ``code`` says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _link_purpose(participant_id: int) -> str:
    return f"link-email:{participant_id}"


def _token_of(link: str) -> str:
    # sessions_app.links.link_url makes "<PUBLIC_BASE_URL>/v/<token>".
    return link.rsplit("/v/", 1)[-1]


def link_email_queue(*, participant: Participant, link: str) -> LinkEmail:
    """Queue the e-mail of this (fresh) link; it is sent after commit."""
    from operators.tasks import link_email_send as link_email_send_task

    row = LinkEmail.objects.create(
        participant=participant, link_encrypted=secret_encrypt(link, purpose=_link_purpose(participant.pk))
    )
    row_id = row.pk
    # robust: a broker that is down must not turn a committed change into an
    # error; the outbox sweep sends the e-mail later.
    transaction.on_commit(lambda: link_email_send_task.delay(row_id), robust=True)
    return row


def participant_link_send(*, participant: Participant, actor: Actor) -> tuple[Participant, str]:
    """E-mail the participant a link again. Only the hash of a link is kept,
    so the old link cannot be sent twice: a fresh one replaces it (and the old
    one stops working)."""
    session = participant.session
    if not participant.email:
        raise LinkEmailRefused("participant_has_no_email", "The participant has no e-mail address.")
    if session.is_ended:
        raise LinkEmailRefused("session_ended", "The session has ended.")
    if participant.state in (Participant.State.DECLINED, Participant.State.REMOVED, Participant.State.DECIDED):
        raise LinkEmailRefused("participant_finished", "The participant is finished with this session.")
    with transaction.atomic():
        link = participant_link_reissue(participant=participant, actor=actor)
        participant.refresh_from_db()
        link_email_queue(participant=participant, link=link)
    return participant, link


def _link_email_skip(row_id: int, reason: str) -> None:
    LinkEmail.objects.filter(pk=row_id).update(skipped_reason=reason, link_encrypted="")


def link_email_send(*, link_email_id: int, now=None) -> str:
    """Send one queued link e-mail. Idempotent: a row already sent (or
    skipped) is left alone. Returns what happened, for logs and tests.

    The row is claimed by moving its next_attempt_at forward in one UPDATE
    (a lease), not by holding a lock across the SMTP conversation: on SQLite
    a transaction held that long would stop every other writer.
    """
    now = now or timezone.now()
    claimed = LinkEmail.objects.filter(
        pk=link_email_id, sent_at__isnull=True, skipped_reason="", next_attempt_at__lte=now
    ).update(next_attempt_at=now + timedelta(minutes=5))
    if not claimed:
        return "not_due"
    row = LinkEmail.objects.select_related("participant__session__business").get(pk=link_email_id)
    participant = row.participant
    try:
        link = secret_decrypt(row.link_encrypted, purpose=_link_purpose(participant.pk))
    except InvalidToken:
        _link_email_skip(row.pk, "unreadable")
        return "unreadable"
    if link_token_hash(_token_of(link)) != participant.link_token_hash:
        _link_email_skip(row.pk, "superseded")  # a newer link replaced this one
        return "superseded"
    problem = participant_access_problem(participant, now=now)
    if problem:
        _link_email_skip(row.pk, f"link_{problem}")
        return f"link_{problem}"
    if not participant.email:
        _link_email_skip(row.pk, "no_email")
        return "no_email"
    message = link_email_message(participant=participant, link=link)
    attempts = row.attempts + 1
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP and network errors of every kind
        logger.warning("link e-mail %s failed (attempt %s): %s", row.pk, attempts, type(exc).__name__)
        update = {"attempts": attempts, "last_error": f"{type(exc).__name__}: {exc}"[:500]}
        if attempts >= LINK_EMAIL_MAX_ATTEMPTS:
            update.update(skipped_reason="failed", link_encrypted="")
        else:
            update["next_attempt_at"] = now + timedelta(minutes=2**attempts)
        LinkEmail.objects.filter(pk=row.pk).update(**update)
        return "failed"
    # Sent: the token is not needed any more. If the process dies before
    # this line the e-mail goes out again on the next sweep (at least once).
    LinkEmail.objects.filter(pk=row.pk).update(sent_at=timezone.now(), attempts=attempts, link_encrypted="")
    with transaction.atomic():
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            actor=Actor.system(),
            action="participant.link_emailed",
            data={"link_email": row.pk},
        )
    return "sent"


def link_email_message(*, participant: Participant, link: str) -> EmailMultiAlternatives:
    """The link e-mail in the participant's language, HTML and text. The link
    is the only secret in it."""
    session = participant.session
    language = participant.language if participant.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    context = {
        "name": participant.name,
        "business": session.business.name,
        "link": link,
        "expires_at": participant.link_expires_at,
        "language": language,
    }
    with translation.override(language):
        subject = _("Your video identification with %(business)s") % {"business": session.business.name}
        text = render_to_string("emails/participant_link.txt", context)
        html = render_to_string("emails/participant_link.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[participant.email])
    message.attach_alternative(html, "text/html")
    return message


def link_emails_due(*, now=None, limit: int = 200) -> list[int]:
    now = now or timezone.now()
    return list(
        LinkEmail.objects.filter(sent_at__isnull=True, skipped_reason="", next_attempt_at__lte=now)
        .filter(~Q(link_encrypted=""))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
