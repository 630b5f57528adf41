"""The one-time code at the end of a call (kyc.regulations.TAN_AT_END, BaFin
GW 3/2017 B.III.5): the operator sends the customer a code by e-mail or SMS,
the customer types it into the call's frame, and only then may the operator
approve (operators.approval_gates).

The code itself is never stored, logged or audited. It is derived from the
row's random salt with a key of its own taken from SECRET_KEY
(``_code_for``), so the delivery task, which runs after the commit and takes
only the row's id, can compute it again instead of carrying it through the
broker; the row keeps an HMAC of it, compared in constant time. Whoever holds
both the database and SECRET_KEY could compute a live code, as they could
try the million six-digit codes against any keyed hash: the code's strength
is its five minutes and five attempts, not its secrecy at rest.
"""

import hmac
import logging
import secrets
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kyc.regulations import TAN_AT_END, RuleSet
from kyc.sms import SmsNotSent, sms_send
from sessions_app import locks
from sessions_app.audit import Actor, audit_record
from sessions_app.changes import session_mark_changed
from sessions_app.models import OneTimeCode, Participant
from sessions_app.one_time_code_destinations import (
    SMS,
    mask_email,
    mask_phone,
    one_time_code_address,
    one_time_code_channel,
)
from sessions_app.services import participant_set_prompt

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
# What the customer's frame may send at most: anything longer is refused
# before it is looked at (a pasted paragraph, a hostile page).
MAX_ENTRY_CHARS = 32
PROMPT_CODE = "one_time_code"

# Error codes the customer's page tells apart.
NO_CODE = "no_code"
MALFORMED = "malformed"
WRONG = "wrong_code"
EXPIRED = "expired"
LOCKED = "locked"
NOT_IN_CALL = "not_in_call"

OS = OneTimeCode.State


def _code_for(salt: str) -> str:
    digest = salted_hmac("verity.one_time_code.code", salt, algorithm="sha256").hexdigest()
    return str(int(digest, 16) % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def _hash(salt: str, code: str) -> str:
    return salted_hmac("verity.one_time_code.hash", f"{salt}:{code}", algorithm="sha256").hexdigest()


def _masked(channel: str, address: str) -> str:
    return mask_phone(address) if channel == SMS else mask_email(address)


def _state(row: OneTimeCode, now=None) -> str:
    """The row's state as it is now: a sent code past its time is expired
    whether or not anybody has written that down yet."""
    if row.state == OS.SENT and row.expires_at <= (now or timezone.now()):
        return OS.EXPIRED
    return row.state


def one_time_code_current(participant: Participant) -> OneTimeCode | None:
    """The participant's newest code (older ones were replaced), if any."""
    return participant.one_time_codes.exclude(state=OS.REPLACED).order_by("-created_at", "-pk").first()


# --- sending -----------------------------------------------------------------------


def one_time_code_send(*, participant: Participant, operator) -> OneTimeCode:
    """The operator of the call sends this customer a new one-time code. A
    code sent before is replaced (it no longer works). Refused when the call
    is not the operator's, the customer is not in the call, the rule is off,
    the code was confirmed already, or the customer has had
    ONE_TIME_CODE_MAX_SENDS codes in this call. Delivered after the commit
    (e-mail or SMS, by the delivery task)."""
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        session = participant.session
        if session.business_id != operator.business_id or session.operator_id != operator.pk:
            raise ValidationError(_("Only the operator of this call can send a one-time code."), code="not_your_call")
        rule_set = RuleSet.of(session)
        if not rule_set.has(TAN_AT_END):
            raise ValidationError(_("This call does not use a one-time code."), code="rule_off")
        if participant.state != Participant.State.IN_CALL:
            raise ValidationError(_("The customer is not in the call."), code=NOT_IN_CALL)
        codes = participant.one_time_codes.all()
        if codes.filter(state=OS.CONFIRMED).exists():
            raise ValidationError(_("The customer has confirmed a one-time code already."), code="confirmed")
        if codes.count() >= settings.ONE_TIME_CODE_MAX_SENDS:
            raise ValidationError(
                _("No more codes for this customer in this call (at most %(count)d).")
                % {"count": settings.ONE_TIME_CODE_MAX_SENDS},
                code="too_many_codes",
            )
        channel = one_time_code_channel(rule_set)
        address = one_time_code_address(participant, channel)
        if not address:
            raise ValidationError(
                _("The customer has no phone number for the SMS.")
                if channel == SMS
                else _("The customer has no e-mail address."),
                code="no_address",
            )
        now = timezone.now()
        codes.filter(state=OS.SENT).update(state=OS.REPLACED)
        salt = secrets.token_hex(16)
        row = OneTimeCode.objects.create(
            participant=participant,
            channel=channel,
            sent_to=_masked(channel, address),
            salt=salt,
            code_hash=_hash(salt, _code_for(salt)),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.ONE_TIME_CODE_TTL_SECONDS),
        )
        audit_record(
            business=session.business,
            session=session,
            participant=participant,
            actor=Actor.operator(operator),
            action="one_time_code.sent",
            data={"channel": channel, "sent_to": row.sent_to, "code": row.pk},
        )
        # The customer's frame asks for it (stored first: a reload shows it
        # again); the page shows its own language's words around ``sent_to``.
        participant_set_prompt(
            participant=participant,
            prompt={
                "code": PROMPT_CODE,
                "text": _("Enter the code we sent to %(to)s") % {"to": row.sent_to},
                "sent_to": row.sent_to,
            },
            actor=Actor.operator(operator),
        )
        row_id = row.pk
        transaction.on_commit(lambda: one_time_code_deliver_task.delay(row_id), robust=True)
    return row


def one_time_code_message(row: OneTimeCode, code: str) -> tuple[str, str, str]:
    """(subject, text, html) in the customer's language."""
    participant = row.participant
    business = participant.session.business.name
    language = participant.language if participant.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    minutes = max(settings.ONE_TIME_CODE_TTL_SECONDS // 60, 1)
    context = {"name": participant.name, "business": business, "code": code, "minutes": minutes, "language": language}
    with translation.override(language):
        subject = _("Your one-time code for %(business)s") % {"business": business}
        if row.channel == SMS:
            text = _(
                "%(code)s is your code for the video identification with %(business)s. Valid for %(minutes)d minutes."
            ) % context
            return subject, text, ""
        return (
            subject,
            render_to_string("emails/one_time_code.txt", context),
            render_to_string("emails/one_time_code.html", context),
        )


def one_time_code_deliver(*, one_time_code_id: int) -> str:
    """Send the code by its channel, once: a second run (tasks are acked
    late), a replaced or expired code, or an erased customer sends nothing.
    A failure is kept on the row (the operator's panel shows it) and audited;
    the operator may send a new code."""
    row = OneTimeCode.objects.select_related("participant__session__business").filter(pk=one_time_code_id).first()
    if row is None or row.delivered_at is not None or _state(row) != OS.SENT:
        return "skipped"
    participant = row.participant
    address = one_time_code_address(participant, row.channel)
    if not address or participant.erased_at is not None:
        return "skipped"
    subject, text, html = one_time_code_message(row, _code_for(row.salt))
    try:
        if row.channel == SMS:
            sms_send(to=address, text=text)
        else:
            message = EmailMultiAlternatives(subject=subject, body=text, to=[address])
            message.attach_alternative(html, "text/html")
            message.send()
    except (SmsNotSent, OSError) as exc:
        problem = str(exc)[:300] if isinstance(exc, SmsNotSent) else _("The e-mail could not be sent.")
        logger.warning("one-time code %s not delivered by %s: %s", row.pk, row.channel, problem)
        with transaction.atomic():
            OneTimeCode.objects.filter(pk=row.pk).update(delivery_problem=problem)
            audit_record(
                business=participant.session.business,
                session=participant.session,
                participant=participant,
                actor=Actor.system(),
                action="one_time_code.not_delivered",
                data={"code": row.pk, "channel": row.channel, "problem": problem},
            )
            session_mark_changed(participant.session)
        return "failed"
    with transaction.atomic():
        OneTimeCode.objects.filter(pk=row.pk).update(delivered_at=timezone.now(), delivery_problem="")
        session_mark_changed(participant.session)
    return "sent"


@shared_task(acks_late=True)
def one_time_code_deliver_task(one_time_code_id: int) -> str:
    return one_time_code_deliver(one_time_code_id=one_time_code_id)


# --- entering ---------------------------------------------------------------------


def _refusal(message, code: str) -> ValidationError:
    return ValidationError(str(message), code=code)


def one_time_code_enter(*, participant: Participant, code: str) -> OneTimeCode:
    """The customer types the code into the call's frame. A wrong code counts
    an attempt; the ONE_TIME_CODE_MAX_ATTEMPTS-th wrong one locks the code
    (the operator sends a new one). A code past its time is refused. Each
    wrong entry, the lock and the confirmation are audited, never the code.
    Refusals raise ValidationError with a code the page tells apart (NO_CODE,
    MALFORMED, WRONG, EXPIRED, LOCKED, NOT_IN_CALL), after what they counted
    has committed."""
    code = (code or "").strip().replace(" ", "")
    if len(code) > MAX_ENTRY_CHARS or not (code.isascii() and code.isdigit()) or len(code) != CODE_DIGITS:
        # Not an attempt: a typo in the form, not a guess.
        raise _refusal(_("Enter the %(digits)d digits of the code.") % {"digits": CODE_DIGITS}, MALFORMED)
    refusal = None
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        if participant.state != Participant.State.IN_CALL:
            raise _refusal(_("You are not in the call any more."), NOT_IN_CALL)
        row = one_time_code_current(participant)
        if row is None:
            raise _refusal(_("No code has been sent to you yet."), NO_CODE)
        row = OneTimeCode.objects.select_for_update().get(pk=row.pk)
        session = participant.session

        def audit(action: str, **data):
            audit_record(
                business=session.business,
                session=session,
                participant=participant,
                actor=Actor.customer(),
                action=action,
                data={"code": row.pk, **data},
            )

        state = _state(row)
        if state == OS.CONFIRMED:
            return row
        if state == OS.LOCKED:
            raise _refusal(_("Too many wrong codes. Ask the operator for a new code."), LOCKED)
        if state == OS.EXPIRED:
            if row.state != OS.EXPIRED:
                row.state = OS.EXPIRED
                row.save(update_fields=["state"])
                audit(action="one_time_code.expired")
                session_mark_changed(session)
            refusal = _refusal(_("This code has expired. Ask the operator for a new code."), EXPIRED)
        elif hmac.compare_digest(row.code_hash, _hash(row.salt, code)):
            row.state = OS.CONFIRMED
            row.confirmed_at = timezone.now()
            row.save(update_fields=["state", "confirmed_at"])
            audit(action="one_time_code.confirmed")
            if (participant.current_prompt or {}).get("code") == PROMPT_CODE:
                participant_set_prompt(participant=participant, prompt=None, actor=Actor.customer())
            else:
                session_mark_changed(session)
        else:
            row.attempts += 1
            left = settings.ONE_TIME_CODE_MAX_ATTEMPTS - row.attempts
            if left <= 0:
                row.state = OS.LOCKED
                row.save(update_fields=["attempts", "state"])
                audit(action="one_time_code.locked", attempts=row.attempts)
                refusal = _refusal(_("Too many wrong codes. Ask the operator for a new code."), LOCKED)
            else:
                row.save(update_fields=["attempts"])
                audit(action="one_time_code.wrong", attempts=row.attempts)
                refusal = _refusal(
                    translation.ngettext(
                        "That code is not right. %(left)d attempt left.",
                        "That code is not right. %(left)d attempts left.",
                        left,
                    )
                    % {"left": left},
                    WRONG,
                )
            session_mark_changed(session)
    if refusal is not None:
        # Raised after the commit: the attempt counted, the lock holds.
        raise refusal
    return row


# --- what the operator sees, and the approval gate ---------------------------------


def one_time_code_state_for_operator(participant: Participant) -> dict:
    """The participant's code as the operator's panel shows it (a part of the
    operator's call state: sessions_app.selectors.call_state_extend). Nothing
    when the call does not use one."""
    if not RuleSet.of(participant.session).has(TAN_AT_END):
        return {}
    rule_set = RuleSet.of(participant.session)
    channel = one_time_code_channel(rule_set)
    row = one_time_code_current(participant)
    sends = participant.one_time_codes.count()
    now = timezone.now()
    state = {
        "channel": channel,
        "address": _masked(channel, one_time_code_address(participant, channel)),
        "sends_left": max(settings.ONE_TIME_CODE_MAX_SENDS - sends, 0),
        "state": None,
    }
    if row is not None:
        state |= {
            "state": _state(row, now),
            "sent_to": row.sent_to,
            "attempts_left": max(settings.ONE_TIME_CODE_MAX_ATTEMPTS - row.attempts, 0),
            # Seconds, not a time: the operator's clock does not matter.
            "expires_in_seconds": max(int((row.expires_at - now).total_seconds()), 0),
            "delivered": row.delivered_at is not None,
            "delivery_problem": row.delivery_problem,
        }
    return {"one_time_code": state}


UNCONFIRMED = gettext_lazy("The customer has not confirmed the one-time code yet")


def one_time_code_problem_for_approval(participant: Participant) -> str | None:
    """Why ``participant`` may not be approved yet under TAN_AT_END, or None."""
    if participant.one_time_codes.filter(state=OS.CONFIRMED).exists():
        return None
    return str(UNCONFIRMED)
