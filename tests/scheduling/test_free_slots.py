"""sessions_app.scheduling.free_slots: working hours become slots in the
business's zone, DST-correct; capacity is the operators working then who are
not booked; the past and the far future are never offered."""

from datetime import UTC, datetime, time, timedelta

from accounts.models import Business
from sessions_app.audit import Actor
from sessions_app.scheduling import booked_operator_only, free_slots, slots_by_day, zone_or_none
from sessions_app.scheduling_services import session_book
from tests.conftest import create_call
from tests.scheduling.conftest import hours


def test_a_shift_is_cut_into_slots_in_the_business_zone(business_a, alice_works, monday_8am):
    slots = free_slots(business_a, now=monday_8am, until=monday_8am + timedelta(hours=12))
    # 09:00-12:00 CET (UTC+1) in 30-minute slots: 08:00..10:30 UTC.
    assert [s.starts_at for s in slots] == [datetime(2026, 1, 5, 8, 0, tzinfo=UTC) + timedelta(minutes=30 * i) for i in range(6)]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in slots)
    assert {s.free for s in slots} == {1}


def test_the_same_wall_clock_shift_moves_by_an_hour_in_utc_across_the_spring_dst_change(business_a, alice_works):
    # Friday 27 March 2026 is CET (UTC+1); Monday 30 March is CEST (UTC+2).
    now = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)
    slots = free_slots(business_a, now=now, until=now + timedelta(days=4))
    firsts = {s.starts_at.date(): s.starts_at for s in slots if s.starts_at.astimezone(zone_or_none("Europe/Berlin")).time() == time(9)}
    assert firsts[datetime(2026, 3, 27).date()] == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert firsts[datetime(2026, 3, 30).date()] == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_a_night_shift_on_the_spring_change_skips_the_hour_that_does_not_exist(business_a, operator_a):
    # Sunday 29 March 2026, 02:00-03:00 does not exist in Berlin: a 01:00-04:00
    # shift is two real hours long.
    hours(operator_a, weekdays=[6], start=time(1), end=time(4))
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    slots = free_slots(business_a, now=now, until=now + timedelta(days=1))
    assert len(slots) == 4
    local = [s.starts_at.astimezone(zone_or_none("Europe/Berlin")).strftime("%H:%M") for s in slots]
    assert local == ["01:00", "01:30", "03:00", "03:30"]


def test_on_the_autumn_change_the_doubled_hour_is_slots_of_real_time(business_a, operator_a):
    # Sunday 25 October 2026, 02:00-03:00 happens twice: the 01:00-04:00 shift lasts four hours.
    hours(operator_a, weekdays=[6], start=time(1), end=time(4))
    now = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    slots = free_slots(business_a, now=now, until=now + timedelta(days=1))
    assert len(slots) == 8
    assert len({s.starts_at for s in slots}) == 8


def test_capacity_is_the_operators_working_minus_those_booked(business_a, workflow_a, alice_works, anton_works, monday_8am):
    nine = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    [slot] = [s for s in free_slots(business_a, now=monday_8am) if s.starts_at == nine]
    assert slot.free == 2
    first, _links = create_call(business_a, workflow_a)
    second, _links = create_call(business_a, workflow_a, names=("Erika Muster",))
    session_book(session=first, starts_at=nine, actor=Actor.customer(), now=monday_8am)
    [slot] = [s for s in free_slots(business_a, now=monday_8am) if s.starts_at == nine]
    assert slot.free == 1
    session_book(session=second, starts_at=nine, actor=Actor.customer(), now=monday_8am)
    assert nine not in [s.starts_at for s in free_slots(business_a, now=monday_8am)]


def test_past_slots_and_slots_beyond_the_horizon_are_not_offered(business_a, alice_works):
    now = datetime(2026, 1, 5, 9, 10, tzinfo=UTC)  # 10:10 CET on a Monday
    Business.objects.filter(pk=business_a.pk).update(booking_horizon_days=2)
    business_a.refresh_from_db()
    slots = free_slots(business_a, now=now)
    assert min(s.starts_at for s in slots) == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)  # 10:30, the next one
    assert max(s.starts_at for s in slots) < now + timedelta(days=2)


def test_the_business_zone_decides_which_wall_clock_the_hours_are_in(business_a, alice_works, monday_8am):
    Business.objects.filter(pk=business_a.pk).update(time_zone="America/New_York")
    business_a.refresh_from_db()
    slots = free_slots(business_a, now=monday_8am, until=monday_8am + timedelta(days=1))
    assert slots[0].starts_at == datetime(2026, 1, 5, 14, 0, tzinfo=UTC)  # 09:00 EST


def test_slots_are_grouped_by_the_customers_own_calendar_day(business_a, alice_works, monday_8am):
    slots = free_slots(business_a, now=monday_8am, until=monday_8am + timedelta(hours=12))
    days = slots_by_day(slots, zone_or_none("Pacific/Kiritimati"))  # UTC+14: Monday 22:00 to Tuesday 01:00
    assert [day.isoformat() for day, _times in days] == ["2026-01-05", "2026-01-06"]
    assert [t.strftime("%H:%M") for t in days[0][1]] == ["22:00", "22:30", "23:00", "23:30"]
    assert [t.strftime("%H:%M") for t in days[1][1]] == ["00:00", "00:30"]


def test_no_working_hours_no_slots(business_a, operator_a, monday_8am):
    assert free_slots(business_a, now=monday_8am) == []


def test_an_unknown_zone_name_from_a_browser_is_ignored():
    assert zone_or_none("Mars/Olympus") is None
    assert zone_or_none("") is None
    assert zone_or_none("Europe/London").key == "Europe/London"


def test_another_business_s_bookings_do_not_take_its_capacity(business_a, business_b, workflow_b, alice_works, operator_b, monday_8am):
    hours(operator_b)
    nine = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    other, _ = create_call(business_b, workflow_b)
    session_book(session=other, starts_at=nine, actor=Actor.customer(), now=monday_8am)
    assert nine in [s.starts_at for s in free_slots(business_a, now=monday_8am)]
    assert booked_operator_only(other, monday_8am) is None  # not waiting yet
