"""Reads for booked calls: which times a customer may book, and who a booked
call rings first. The writes are in sessions_app.scheduling_services.

A slot is a time, on the business's slot grid, inside some operator's working
hours (accounts.WorkingHours, wall-clock times in the business's zone), in
the future and within the booking horizon, where fewer calls are booked than
operators work then (each booking holds one operator: capacity is the
operators working then who have no booking overlapping it).

Wall-clock times become instants through zoneinfo, so a 09:00 shift is 09:00
on both sides of a DST change. A wall-clock time that does not exist (02:30 on
the night clocks go forward) is no slot; one that happens twice (the night
they go back) is offered once, its first occurrence (fold=0).
"""

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Business, Operator, WorkingHours
from sessions_app.models import Booking, Participant, VerificationSession

# The customer may join a booked call this long before its time.
JOIN_EARLY = timedelta(minutes=10)


@dataclass
class Slot:
    starts_at: datetime  # aware, UTC
    ends_at: datetime
    operator_ids: list[int] = field(default_factory=list)  # working then, free

    @property
    def free(self) -> int:
        return len(self.operator_ids)


def zone_or_none(name: str | None):
    """The ZoneInfo of an IANA name, or None for a missing or unknown one
    (a browser may send anything)."""
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def business_zone(business: Business):
    return zone_or_none(business.time_zone) or UTC


def _wall_clock_instant(day: date, at, zone) -> datetime | None:
    """The instant of a wall-clock time in a zone, or None when that time
    does not exist that day (skipped by a DST change)."""
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first of a doubled hour
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def free_slots(
    business: Business,
    *,
    now: datetime | None = None,
    until: datetime | None = None,
    exclude_booking: Booking | None = None,
) -> list[Slot]:
    """The business's bookable slots from now to the end of its horizon,
    oldest first. ``exclude_booking``: a booking being moved does not hold
    its own old time against itself."""
    now = now or timezone.now()
    zone = business_zone(business)
    length = timedelta(minutes=business.slot_minutes)
    until = until or now + timedelta(days=business.booking_horizon_days)
    first_day = now.astimezone(zone).date() - timedelta(days=1)  # a night shift begun yesterday
    last_day = until.astimezone(zone).date()

    hours = list(
        # A deactivated user takes no calls, booked or not.
        WorkingHours.objects.filter(operator__business=business, operator__user__is_active=True).values_list(
            "operator_id", "weekday", "start", "end"
        )
    )
    working: dict[datetime, set[int]] = {}
    day = first_day
    while day <= last_day:
        for operator_id, weekday, start, end in hours:
            if weekday != day.weekday():
                continue
            begin = _wall_clock_instant(day, start, zone)
            finish = _wall_clock_instant(day, end, zone)
            if begin is None or finish is None:
                # A shift edge inside the skipped hour: walk the wall clock instead.
                begin = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
                finish = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
            slot_start = begin
            while slot_start + length <= finish:
                if slot_start > now and slot_start < until:
                    working.setdefault(slot_start, set()).add(operator_id)
                slot_start += length
        day += timedelta(days=1)
    if not working:
        return []

    bookings = Booking.objects.filter(
        session__business=business,
        state=Booking.State.BOOKED,
        operator__isnull=False,
        ends_at__gt=min(working),
        starts_at__lt=max(working) + length,
    ).exclude(
        # A session that ended before its time (cancelled, or the customer
        # started early and it is done) no longer holds its operator.
        session__state__in=VerificationSession.ENDED_STATES
    )
    if exclude_booking is not None:
        bookings = bookings.exclude(pk=exclude_booking.pk)
    busy = list(bookings.values_list("operator_id", "starts_at", "ends_at"))

    slots = []
    for slot_start in sorted(working):
        slot_end = slot_start + length
        taken = {operator_id for operator_id, b_start, b_end in busy if b_start < slot_end and b_end > slot_start}
        free = sorted(working[slot_start] - taken)
        if free:
            slots.append(Slot(starts_at=slot_start, ends_at=slot_end, operator_ids=free))
    return slots


def slot_find(
    business: Business, *, starts_at: datetime, operator: Operator | None = None, exclude_booking: Booking | None = None,
    now: datetime | None = None,
) -> tuple[Slot, Operator] | None:
    """The free slot starting exactly at ``starts_at`` and the operator it
    would be booked with (the one asked for, else the one with the fewest
    bookings that day, so booked calls spread over the floor), or None."""
    now = now or timezone.now()
    starts_at = starts_at.astimezone(UTC)
    # Only as far as the asked time, and never past the horizon.
    until = min(starts_at + timedelta(seconds=1), now + timedelta(days=business.booking_horizon_days))
    slot = next(
        (s for s in free_slots(business, now=now, until=until, exclude_booking=exclude_booking) if s.starts_at == starts_at),
        None,
    )
    if slot is None:
        return None
    candidates = slot.operator_ids
    if operator is not None:
        if operator.pk not in candidates:
            return None
        return slot, operator
    day_start = starts_at - timedelta(hours=12)
    load = {
        operator_id: Booking.objects.active()
        .filter(operator_id=operator_id, starts_at__gte=day_start, starts_at__lt=starts_at + timedelta(hours=12))
        .count()
        for operator_id in candidates
    }
    chosen = min(candidates, key=lambda operator_id: (load[operator_id], operator_id))
    return slot, Operator.objects.get(pk=chosen)


def slots_by_day(slots: list[Slot], zone) -> list[tuple[date, list[datetime]]]:
    """The slots' start times in ``zone``, grouped by that zone's calendar day."""
    days: dict[date, list[datetime]] = {}
    for slot in slots:
        local = slot.starts_at.astimezone(zone)
        days.setdefault(local.date(), []).append(local)
    return list(days.items())


def session_booking(session: VerificationSession) -> Booking | None:
    """The session's booking if it is still to happen (booked), else None."""
    try:
        booking = session.booking
    except Booking.DoesNotExist:
        return None
    return booking if booking.is_active else None


def booking_link_expiry(booking: Booking) -> datetime:
    """The earliest a link of the booked session may expire: the booked
    call's end plus the business's no-show minutes, so the customer is let in
    for the whole call and the housekeeping sweep does not expire the session
    (and cancel the booking) before it. Booking and link reissue both ask this."""
    return booking.ends_at + timedelta(minutes=booking.session.business.no_show_after_minutes)


def link_expiry_floor(session: VerificationSession) -> datetime | None:
    """booking_link_expiry of the session's active booking, or None when nothing is booked."""
    booking = session_booking(session)
    return booking_link_expiry(booking) if booking is not None else None


def booking_join_open(booking: Booking, *, now: datetime | None = None) -> bool:
    """Whether the customer may join the booked call now (from a few minutes before)."""
    now = now or timezone.now()
    return now >= booking.starts_at - JOIN_EARLY


def booked_operator_only(session: VerificationSession, now: datetime) -> Operator | None:
    """The one operator a waiting call is offered to right now, or None when
    every operator of the pool may take it.

    A booked call rings its booked operator first: from the moment the
    customer joins the queue, for the business's ``booked_operator_ring_seconds``,
    only that operator sees and may take it; after that (the operator is in
    another call, away, or simply did not answer) the whole pool does. The
    console's queue (operators.selectors.queue_snapshot) and the answering
    service (session_assign_operator) both ask this one function."""
    if session.state != VerificationSession.State.WAITING or not session.waiting_at:
        return None
    booking = session_booking(session)
    if booking is None or booking.operator_id is None:
        return None
    if now - session.waiting_at >= timedelta(seconds=session.business.booked_operator_ring_seconds):
        return None
    return booking.operator


def booked_queue_fields(session: VerificationSession) -> dict:
    """What the console's queue entry says of a booked call: its time (ISO,
    the console formats it in the operator's zone) and whether it is the
    asking operator's to answer first. Empty for a call that was not booked."""
    booking = session_booking(session)
    if booking is None:
        return {}
    return {"booked_for": booking.starts_at.isoformat(), "booked_operator": booking.operator_id}


def scheduling_offered(business: Business) -> bool:
    """Whether the business's customers may book a time: some operator of it has working hours."""
    return WorkingHours.objects.filter(operator__business=business).exists()


# --- the customer's link page -------------------------------------------------------


def booking_allowed(participant: Participant) -> bool:
    """Whether the customer may book, move or cancel now: terms accepted, a
    one-on-one call not joined yet (waiting or in the call, the booking is
    being used)."""
    session = participant.session
    return (
        participant.state == Participant.State.TERMS_ACCEPTED
        and session.kind == VerificationSession.Kind.ONE_ON_ONE
        and session.state == VerificationSession.State.CREATED
    )


def booking_choice_due(participant: Participant, *, start_now: bool) -> bool:
    """Whether the link page offers "start now or book a time" (or shows the
    booking) instead of the call: a one-on-one call not joined yet, of a
    business whose operators have working hours, unless the customer chose
    to start (``start_now``: the Start now and Join buttons)."""
    if start_now or not booking_allowed(participant):
        return False
    session = participant.session
    return session_booking(session) is not None or scheduling_offered(session.business)


def booked_for_later(participant: Participant, *, now: datetime | None = None) -> bool:
    """Whether the customer's call is booked and may not be joined yet
    (services.participant_join refuses it too)."""
    session = participant.session
    if participant.state != Participant.State.TERMS_ACCEPTED or session.state != VerificationSession.State.CREATED:
        return False
    booking = session_booking(session)
    return booking is not None and not booking_join_open(booking, now=now)


def customer_zone(session: VerificationSession, *, browser_zone: str | None, booking: Booking | None = None):
    """The zone to show the customer times in: the one the browser sent,
    else the one they booked in, else the business's."""
    for name in (browser_zone, booking.customer_time_zone if booking else None):
        zone = zone_or_none(name)
        if zone is not None:
            return zone
    return business_zone(session.business)


def time_text(value: datetime, zone) -> str:
    """A time as the customer reads it, in ``zone``: weekday, date, hour
    (the full date: ten minutes before midnight is the day before)."""
    local = timezone.localtime(value, zone)
    return f"{date_format(local, 'l')}, {date_format(local, 'DATE_FORMAT')}, {date_format(local, 'H:i')}"
