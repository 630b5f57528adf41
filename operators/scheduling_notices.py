"""What a booked call's change tells the outside: the business's webhook
(session.scheduled, session.rescheduled, session.booking_cancelled,
session.no_show) and the customer's e-mail with the calendar invitation, its
update or its cancellation (sessions_app.calendar), and the reminder before
the call.

The webhook is written in the change's transaction (the outbox). The e-mail
is sent after commit by a task; the booking's ``notified_sequence`` says which
revision was e-mailed, claimed in one UPDATE before sending, so a task that
runs twice sends once, and the periodic ``booking_notices_sweep`` sends what a
lost task did not. The reminder is claimed the same way (``reminder_sent_at``):
at most one per booked time.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from operators.webhooks import (
    SESSION_BOOKING_CANCELLED,
    SESSION_NO_SHOW,
    SESSION_RESCHEDULED,
    SESSION_SCHEDULED,
    webhook_emit,
)
from sessions_app import events as session_events
from sessions_app.audit import Actor, audit_record
from sessions_app.calendar import CANCEL, REQUEST, booking_ics
from sessions_app.models import Booking, VerificationSession
from sessions_app.scheduling import business_zone, time_text, zone_or_none

logger = logging.getLogger(__name__)

WEBHOOK_OF_CHANGE = {
    "scheduled": SESSION_SCHEDULED,
    "rescheduled": SESSION_RESCHEDULED,
    "cancelled": SESSION_BOOKING_CANCELLED,
    "no_show": SESSION_NO_SHOW,
}
# Changes the customer is e-mailed about (a no-show is the business's news).
EMAILED_CHANGES = frozenset({"scheduled", "rescheduled", "cancelled"})
# A booking closed because its session ended in one of these: the call was held.
HELD_STATES = frozenset({VerificationSession.State.COMPLETED, VerificationSession.State.ABANDONED})


def booking_webhook_data(booking: Booking, *, previous_starts_at=None) -> dict:
    data = {
        "booking": {
            "state": booking.state,
            "scheduled_for": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(),
            "operator": booking.operator_id,
        }
    }
    if previous_starts_at is not None:
        data["booking"]["previous_scheduled_for"] = previous_starts_at.isoformat()
    return data


def on_booking_changed(sender, *, booking: Booking, change: str, previous_starts_at=None, **kwargs) -> None:
    """Receives sessions_app.events.booking_changed, inside the change's transaction."""
    session = booking.session
    webhook_emit(
        business=session.business,
        event_type=WEBHOOK_OF_CHANGE[change],
        session=session,
        data=booking_webhook_data(booking, previous_starts_at=previous_starts_at),
    )
    if change in EMAILED_CHANGES:
        booking_id, sequence = booking.pk, booking.sequence
        # robust: a broker that is down must not fail the booking; the sweep sends it.
        transaction.on_commit(lambda: _enqueue_email(booking_id, sequence), robust=True)


def _enqueue_email(booking_id: int, sequence: int) -> None:
    from operators.tasks import booking_email_send  # the tasks module imports this one

    booking_email_send.delay(booking_id, sequence)


def scheduling_notices_connect() -> None:
    session_events.booking_changed.connect(on_booking_changed, dispatch_uid="scheduling_on_booking_changed")


# --- e-mails ------------------------------------------------------------------------------


def _customer(booking: Booking):
    return booking.session.participants.order_by("position").first()


def _language(participant) -> str:
    return participant.language if participant.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def booking_time_text(booking: Booking) -> str:
    """The booked time in the customer's zone (the business's when unknown), the zone named."""
    zone = zone_or_none(booking.customer_time_zone) or business_zone(booking.session.business)
    return f"{time_text(booking.starts_at, zone)} ({getattr(zone, 'key', 'UTC')})"


def booking_email_message(*, booking: Booking, kind: str) -> EmailMultiAlternatives | None:
    """The customer's e-mail about their booking, in their language, with the
    calendar file. ``kind``: scheduled, rescheduled, cancelled, held (the
    call ended before its booked time was over: the event is removed) or reminder."""
    participant = _customer(booking)
    if participant is None or not participant.email:
        return None
    language = _language(participant)
    business = booking.session.business.name
    with translation.override(language):
        subjects = {
            "scheduled": _("Your video call with %(business)s is booked"),
            "rescheduled": _("Your video call with %(business)s has a new time"),
            "cancelled": _("Your video call with %(business)s is cancelled"),
            "held": _("Your video call with %(business)s has taken place"),
            "reminder": _("Reminder: your video call with %(business)s"),
        }
        context = {
            "name": participant.name,
            "business": business,
            "kind": kind,
            "time": booking_time_text(booking),
            "language": language,
        }
        subject = subjects[kind] % {"business": business}
        text = render_to_string("emails/booking.txt", context)
        html = render_to_string("emails/booking.html", context)
        method = CANCEL if kind in ("cancelled", "held") else REQUEST
        ics = booking_ics(booking, method=method, language=language)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[participant.email])
    message.attach_alternative(html, "text/html")
    # iTIP over e-mail (RFC 6047): the method in the part's content type, so
    # mail programs offer "accept" / update or remove the event themselves.
    message.attach("invite.ics", ics.decode("utf-8"), f"text/calendar; method={method}; charset=utf-8")
    return message


def booking_email_send(*, booking_id: int, sequence: int) -> str:
    """Send the e-mail of the booking's revision ``sequence``. Idempotent:
    claimed first, so it goes at most once; a revision already superseded is
    not sent (the newer one's e-mail says it all)."""
    claimed = Booking.objects.filter(pk=booking_id, sequence=sequence, notified_sequence__lt=sequence).update(
        notified_sequence=sequence
    )
    if not claimed:
        return "not_due"
    booking = Booking.objects.select_related("session__business").get(pk=booking_id)
    if booking.state == Booking.State.CANCELLED and booking.session.state in HELD_STATES:
        kind = "held"  # not "book a new time": the call took place
    elif booking.state == Booking.State.CANCELLED:
        kind = "cancelled"
    else:
        kind = "rescheduled" if sequence > 0 else "scheduled"
    message = booking_email_message(booking=booking, kind=kind)
    if message is None:
        return "no_email"
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP and network errors of every kind
        logger.warning("booking e-mail %s/%s failed: %s", booking_id, sequence, type(exc).__name__)
        # Give it back to the sweep.
        Booking.objects.filter(pk=booking_id, notified_sequence=sequence).update(notified_sequence=sequence - 1)
        return "failed"
    return "sent"


def booking_notices_due(*, now=None) -> list[tuple[int, int]]:
    """(booking id, sequence) of changes whose e-mail a lost task never sent."""
    now = now or timezone.now()
    return list(
        Booking.objects.filter(notified_sequence__lt=F("sequence"), updated_at__lt=now - timedelta(minutes=1))
        .exclude(state=Booking.State.NO_SHOW)
        .filter(starts_at__gt=now)
        .values_list("pk", "sequence")[:200]
    )


def booking_reminders_send(*, now=None) -> int:
    """Send the reminder of every booked call whose reminder time has come
    (the business's ``reminder_minutes_before``), once each. Returns how many went."""
    now = now or timezone.now()
    sent = 0
    candidates = (
        Booking.objects.active()
        .filter(reminder_sent_at__isnull=True, starts_at__gt=now, starts_at__lte=now + timedelta(days=2))
        # Only a call still to be joined: one waiting, in progress or ended needs no reminder.
        .filter(session__state=VerificationSession.State.CREATED)
        .select_related("session__business")
    )
    for booking in candidates:
        if booking.starts_at - timedelta(minutes=booking.session.business.reminder_minutes_before) > now:
            continue
        # The claim: only one sender wins the row, whatever runs twice.
        if not Booking.objects.filter(
            pk=booking.pk,
            reminder_sent_at__isnull=True,
            state=Booking.State.BOOKED,
            session__state=VerificationSession.State.CREATED,
        ).update(
            reminder_sent_at=now
        ):
            continue
        message = booking_email_message(booking=booking, kind="reminder")
        if message is None:
            continue
        try:
            message.send(fail_silently=False)
        except Exception as exc:  # at most once: a failed reminder is logged, not retried
            logger.warning("booking reminder %s failed: %s", booking.pk, type(exc).__name__)
            continue
        with transaction.atomic():
            audit_record(
                business=booking.session.business,
                session=booking.session,
                actor=Actor.system(),
                action="booking.reminder_sent",
                data={"starts_at": booking.starts_at.isoformat()},
            )
        sent += 1
    return sent
