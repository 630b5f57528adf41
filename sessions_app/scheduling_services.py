"""Writes for booked calls: book, reschedule, cancel, record a no-show.

Each runs in one transaction with its audit event, and announces the change
(sessions_app.events.booking_changed) in that transaction, so the e-mail with
the calendar invitation and the webhook (the integration floor's receivers)
exist exactly when the change does. Reads are in sessions_app.scheduling.
"""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Operator
from sessions_app import events, locks
from sessions_app.audit import Actor, audit_record
from sessions_app.changes import session_mark_changed
from sessions_app.models import AuditEvent, Booking, VerificationSession
from sessions_app.scheduling import JOIN_EARLY, booking_link_expiry, slot_find, zone_or_none

S = VerificationSession.State


class SlotNotAvailable(ValidationError):
    """The time is not (or no longer) a free slot of the business."""


def _ical_uid() -> str:
    host = settings.PUBLIC_BASE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "verity"
    return f"{uuid.uuid4()}@{host}"


def _lock_operator(operator_id: int) -> Operator:
    # Two customers racing for the last free operator of a slot: the second
    # waits here and then finds the operator taken (slot_find again below).
    return Operator.objects.select_for_update(of=("self",)).get(pk=operator_id)


def _changed(
    booking: Booking, *, change: str, actor: Actor, previous_starts_at: datetime | None, extra: dict | None = None
) -> None:
    session = booking.session
    data = {
        "starts_at": booking.starts_at.isoformat(),
        "operator": booking.operator_id,
        "sequence": booking.sequence,
        **(extra or {}),
    }
    if previous_starts_at is not None:
        data["previous_starts_at"] = previous_starts_at.isoformat()
    audit_record(business=session.business, session=session, actor=actor, action=f"booking.{change}", data=data)
    session_mark_changed(session)
    events.booking_changed.send(sender=Booking, booking=booking, change=change, previous_starts_at=previous_starts_at)


def session_book(
    *,
    session: VerificationSession,
    starts_at: datetime,
    actor: Actor,
    operator: Operator | None = None,
    customer_time_zone: str = "",
    now: datetime | None = None,
) -> Booking:
    """Book (or move) the session's call to the free slot starting at
    ``starts_at``; with ``operator``, with that operator. A booked session is
    rescheduled: same calendar UID, SEQUENCE bumped."""
    now = now or timezone.now()
    if timezone.is_naive(starts_at):
        raise ValidationError({"scheduled_for": _("Give the time with its UTC offset.")})
    with transaction.atomic():
        session = locks.session_lock(session.pk)
        if session.is_ended or session.state != S.CREATED:
            raise ValidationError({"scheduled_for": _("This call can no longer be booked.")})
        if session.kind != VerificationSession.Kind.ONE_ON_ONE:
            raise ValidationError({"scheduled_for": _("Only one-on-one calls can be booked.")})
        if operator is not None and operator.business_id != session.business_id:
            raise ValidationError({"operator": _("Unknown operator.")})
        booking = Booking.objects.select_for_update(of=("self",)).filter(session=session).first()
        moving = booking if booking is not None and booking.is_active else None
        found = slot_find(session.business, starts_at=starts_at, operator=operator, exclude_booking=moving, now=now)
        if found is None:
            raise SlotNotAvailable({"scheduled_for": _("This time is not free any more. Please choose another.")})
        slot, chosen = found
        chosen = _lock_operator(chosen.pk)
        if slot_find(session.business, starts_at=starts_at, operator=chosen, exclude_booking=moving, now=now) is None:
            # Another customer took this operator while we waited for the
            # lock. With no operator asked for, another free one will do:
            # choose once more before refusing.
            found = None
            if operator is None:
                found = slot_find(session.business, starts_at=starts_at, exclude_booking=moving, now=now)
            if found is not None:
                slot, chosen = found
                chosen = _lock_operator(chosen.pk)
                if slot_find(session.business, starts_at=starts_at, operator=chosen, exclude_booking=moving, now=now) is None:
                    found = None
            if found is None:
                raise SlotNotAvailable({"scheduled_for": _("This time is not free any more. Please choose another.")})
        zone_name = customer_time_zone if zone_or_none(customer_time_zone) else ""
        previous_starts_at = None
        if booking is None:
            booking = Booking(session=session, ical_uid=_ical_uid())
            change = "scheduled"
        elif moving is not None:
            previous_starts_at = booking.starts_at
            booking.sequence += 1
            change = "rescheduled"
        else:
            # Booked again after a cancellation or a no-show: a new calendar event.
            booking.ical_uid = _ical_uid()
            booking.sequence = 0
            booking.notified_sequence = -1
            booking.reminder_sent_at = None
            booking.no_show_at = None
            change = "scheduled"
        booking.session = session
        booking.state = Booking.State.BOOKED
        booking.starts_at = slot.starts_at
        booking.ends_at = slot.ends_at
        booking.operator = chosen
        booking.customer_time_zone = zone_name or booking.customer_time_zone
        if change == "rescheduled":
            booking.reminder_sent_at = None  # the reminder is for the new time
        booking.save()
        extra = None
        if change == "scheduled":
            # What the links' expiry was before this booking extended it, so
            # cancelling gives back exactly that (booking then cancelling
            # must not stretch a link's life).
            extra = {
                "link_expires_before": {
                    str(pk): expires.isoformat()
                    for pk, expires in session.participants.values_list("pk", "link_expires_at")
                }
            }
        _links_last_until_the_booking(session, booking)
        _changed(booking, change=change, actor=actor, previous_starts_at=previous_starts_at, extra=extra)
    return booking


def _links_last_until_the_booking(session: VerificationSession, booking: Booking) -> None:
    """A customer who booked a time a fortnight ahead must still be let in
    with their link then: a link that would expire before the booked call's
    no-show time is extended to it (never shortened). Caller holds the
    session's lock."""
    until = booking_link_expiry(booking)
    session.participants.filter(link_expires_at__lt=until, link_revoked_at__isnull=True).update(link_expires_at=until)


def _links_expiry_unbooked(session: VerificationSession) -> dict[int, datetime]:
    """Per participant, what its link's expiry would be without the booking:
    the latest of the value recorded when the booking was made and the one
    a reissue while booked recorded (both in the audit trail, which is
    written in the same transactions)."""
    unbooked: dict[int, datetime] = {}
    trail = AuditEvent.objects.filter(
        session=session, action__in=["booking.scheduled", "participant.link_reissued"]
    ).order_by("sequence").values_list("action", "participant_id", "data")
    for action, participant_id, data in trail:
        data = data or {}
        if action == "booking.scheduled":
            for pk, value in (data.get("link_expires_before") or {}).items():
                unbooked[int(pk)] = datetime.fromisoformat(value)
        elif participant_id is not None and data.get("link_expires_unbooked"):
            unbooked[participant_id] = datetime.fromisoformat(data["link_expires_unbooked"])
    return unbooked


def _links_restore_after_cancel(session: VerificationSession, *, now: datetime) -> None:
    """Give the links back the expiry they had before the booking extended
    them, never earlier than now. Caller holds the session's lock."""
    for pk, expires in _links_expiry_unbooked(session).items():
        session.participants.filter(pk=pk, link_expires_at__gt=max(expires, now)).update(
            link_expires_at=max(expires, now)
        )


def session_booking_cancel(*, session: VerificationSession, actor: Actor) -> Booking | None:
    """Cancel the session's booked call (the session itself stays: the
    customer may start now or book again). None when nothing was booked."""
    with transaction.atomic():
        session = locks.session_lock(session.pk)
        booking = Booking.objects.select_for_update(of=("self",)).filter(session=session).first()
        if booking is None or not booking.is_active:
            return None
        booking.session = session
        booking.state = Booking.State.CANCELLED
        booking.sequence += 1
        booking.save()
        _links_restore_after_cancel(session, now=timezone.now())
        _changed(booking, change="cancelled", actor=actor, previous_starts_at=None)
    return booking


def booking_record_no_show(*, booking_id: int, now: datetime | None = None) -> bool:
    """Record that the customer never joined the booked call (housekeeping).
    Idempotent: a booking that is no longer booked, or whose customer did
    join, is left alone. Returns whether it was recorded."""
    now = now or timezone.now()
    with transaction.atomic():
        session_id = Booking.objects.values_list("session_id", flat=True).get(pk=booking_id)
        session = locks.session_lock(session_id)
        booking = Booking.objects.select_for_update(of=("self",)).get(pk=booking_id)
        booking.session = session
        if not booking.is_active or not booking_is_no_show(booking, session=session, now=now):
            return False
        booking.state = Booking.State.NO_SHOW
        booking.no_show_at = now
        booking.save(update_fields=["state", "no_show_at", "updated_at"])
        _changed(booking, change="no_show", actor=Actor.system(), previous_starts_at=None)
    return True


def booking_is_no_show(booking: Booking, *, session: VerificationSession, now: datetime) -> bool:
    """The customer did not join from the moment the call could be joined
    until the business's no-show time after it."""
    if now < booking.starts_at + timedelta(minutes=session.business.no_show_after_minutes):
        return False
    joined = session.waiting_at is not None and session.waiting_at >= booking.starts_at - JOIN_EARLY
    return not joined and session.state in (S.CREATED, S.EXPIRED)


def bookings_no_show_due(*, now: datetime | None = None) -> list[int]:
    """Ids of booked calls whose time passed within the last day (the
    business's own minutes are checked per booking by booking_record_no_show;
    a booking whose customer joined stays booked, and ages out of this window)."""
    now = now or timezone.now()
    return list(
        Booking.objects.active()
        .filter(starts_at__lt=now - timedelta(minutes=1), starts_at__gte=now - timedelta(days=1))
        .values_list("pk", flat=True)[:500]
    )


def booking_on_session_moved(sender, *, session: VerificationSession, target: str, **kwargs) -> None:
    """Receives sessions_app.events.session_moved inside the move's
    transaction (the session is locked): a session cancelled or expired
    cancels its booked call too, so the customer's calendar drops the event
    and the operator's time is free again. So does a call that was held and
    ended before its booked time was over (the customer joined in the
    minutes before it): the call happened, the calendar event must go, and
    no reminder follows (the e-mail says it took place: scheduling_notices)."""
    if target not in VerificationSession.ENDED_STATES:
        return
    booking = Booking.objects.select_for_update(of=("self",)).filter(session=session, state=Booking.State.BOOKED).first()
    if booking is None:
        return
    if target in (S.COMPLETED, S.ABANDONED) and booking.ends_at <= timezone.now():
        return  # held at its time: the event is in the past, nothing to remove
    booking.session = session
    booking.state = Booking.State.CANCELLED
    booking.sequence += 1
    booking.save()
    _changed(booking, change="cancelled", actor=Actor.system(), previous_starts_at=None)
