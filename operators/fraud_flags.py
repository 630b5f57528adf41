"""Fraud flags: an operator's suspicion about a session (a video that looks
injected, a third person prompting, a second face or voice, a forged
document), raised with a reason and a note, sent to compliance's queue and
to the business's webhook, and cleared only by a second staff member.

Nobody deletes a flag: clearing writes who, when and why next to it, and the
audit trail has both."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import staff_scope
from operators.models import FraudFlag
from operators.webhooks import SESSION_FLAG_CLEARED, SESSION_FLAGGED, webhook_emit
from sessions_app import locks
from sessions_app.audit import Actor, audit_record
from sessions_app.models import VerificationSession

NOTE_MAX_LENGTH = 2000


def _flag_data(flag: FraudFlag) -> dict:
    # Codes and times only: the notes are the business's staff's words about
    # a person, read in Verity, not copied into webhook logs.
    return {
        "id": str(flag.public_id),
        "reason": flag.reason,
        "raised_at": flag.raised_at.isoformat(),
        "cleared_at": flag.cleared_at.isoformat() if flag.cleared_at else None,
    }


def session_flag_fraud(*, session: VerificationSession, user, actor: Actor, reason: str, note: str = "") -> FraudFlag:
    """Raise a flag on a session of the user's business. ``actor`` is how the
    audit trail names them (the operator, or a staff member)."""
    if reason not in FraudFlag.Reason.values:
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": _("The note is too long (at most %(count)s characters).") % {"count": NOTE_MAX_LENGTH}})
    if reason == FraudFlag.Reason.OTHER and not note:
        raise ValidationError({"note": _("Say in the note what you suspect.")})
    with transaction.atomic():
        # The session's row first, the audit chain after (sessions_app.locks).
        session = locks.session_lock(session.pk)
        flag = FraudFlag.objects.create(session=session, raised_by=user, reason=reason, note=note)
        audit_record(
            business=session.business,
            session=session,
            actor=actor,
            action="session.flagged",
            data={"flag": str(flag.public_id), "reason": reason},
        )
        webhook_emit(business=session.business, event_type=SESSION_FLAGGED, session=session, data={"flag": _flag_data(flag)})
    return flag


def fraud_flag_clear(*, flag: FraudFlag, user, note: str) -> FraudFlag:
    """Clear a flag. Refused to the staff member who raised it (a second pair
    of eyes is the point), to staff of another business, and without a note."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"clear_note": _("Say in a note why the flag is cleared.")})
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"clear_note": _("The note is too long (at most %(count)s characters).") % {"count": NOTE_MAX_LENGTH}})
    with transaction.atomic():
        session = locks.session_lock(flag.session_id)
        # Locked, then read: two reviewers clearing at once, one wins.
        flag = FraudFlag.objects.select_for_update().get(pk=flag.pk)
        if flag.raised_by_id == user.pk:
            raise ValidationError(_("You raised this flag: a second staff member must clear it."))
        # Staff of the session's business (or platform compliance) only.
        if not staff_scope(user).allows(session.business_id):
            raise PermissionDenied
        if flag.cleared_at is not None:
            raise ValidationError(_("This flag was cleared already."))
        flag.cleared_by = user
        flag.cleared_at = timezone.now()
        flag.clear_note = note
        flag.save(update_fields=["cleared_by", "cleared_at", "clear_note"])
        audit_record(
            business=session.business,
            session=session,
            actor=Actor.staff(user),
            action="session.flag_cleared",
            data={"flag": str(flag.public_id), "reason": flag.reason},
        )
        webhook_emit(business=session.business, event_type=SESSION_FLAG_CLEARED, session=session, data={"flag": _flag_data(flag)})
    return flag
