"""The period and its per-day rows are the business's days, in its time zone
(DST included), on SQLite (offset segments in SQL) and on PostgreSQL (AT TIME
ZONE)."""

from datetime import date, datetime, timezone

from operators.supervisor.selectors import Period, period_figures, utc_offset_segments
from tests.supervisor.conftest import make_session


def _per_day(business, period):
    figures = period_figures(business=business, period=period, sla_seconds=30)
    return {row.day: row.counts.queued for row in figures.days if row.counts.queued}, figures.counts.queued


def test_a_call_at_half_past_eleven_utc_is_the_next_day_in_berlin(business_a, workflow_a):
    # 7 Dec 23:30 UTC is 8 Dec 00:30 in Berlin (UTC+1 in winter).
    make_session(business_a, workflow_a, waiting_at=datetime(2026, 12, 7, 23, 30, tzinfo=timezone.utc), wait=10, length=60)
    make_session(business_a, workflow_a, waiting_at=datetime(2026, 12, 7, 22, 30, tzinfo=timezone.utc), wait=10, length=60)

    berlin_8th = _per_day(business_a, Period(date(2026, 12, 8), date(2026, 12, 8), zone="Europe/Berlin"))
    berlin_both = _per_day(business_a, Period(date(2026, 12, 7), date(2026, 12, 8), zone="Europe/Berlin"))
    utc_7th = _per_day(business_a, Period(date(2026, 12, 7), date(2026, 12, 7)))

    assert berlin_8th == ({date(2026, 12, 8): 1}, 1)
    assert berlin_both == ({date(2026, 12, 7): 1, date(2026, 12, 8): 1}, 2)
    assert utc_7th == ({date(2026, 12, 7): 2}, 2)


def test_days_across_the_spring_change_and_a_half_hour_zone(business_a, workflow_a):
    # Berlin moves from UTC+1 to UTC+2 at 01:00 UTC on 29 March 2026.
    # 28 Mar 23:30 UTC = 29 Mar 00:30 (+1); 29 Mar 22:30 UTC = 30 Mar 00:30 (+2).
    make_session(business_a, workflow_a, waiting_at=datetime(2026, 3, 28, 23, 30, tzinfo=timezone.utc), wait=5, length=60)
    make_session(business_a, workflow_a, waiting_at=datetime(2026, 3, 29, 22, 30, tzinfo=timezone.utc), wait=5, length=60)
    # Kolkata is UTC+5:30: 29 Mar 18:45 UTC is 30 Mar 00:15 there.
    make_session(business_a, workflow_a, waiting_at=datetime(2026, 3, 29, 18, 45, tzinfo=timezone.utc), wait=5, length=60)

    berlin = _per_day(business_a, Period(date(2026, 3, 29), date(2026, 3, 30), zone="Europe/Berlin"))
    kolkata = _per_day(business_a, Period(date(2026, 3, 29), date(2026, 3, 30), zone="Asia/Kolkata"))

    assert berlin == ({date(2026, 3, 29): 2, date(2026, 3, 30): 1}, 3)
    assert kolkata == ({date(2026, 3, 29): 1, date(2026, 3, 30): 2}, 3)


def test_the_offset_segments_name_each_change():
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    end = datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert utc_offset_segments("Europe/Berlin", start, end) == [
        (datetime(2026, 3, 29, 1, tzinfo=timezone.utc), 60),
        (datetime(2026, 10, 25, 1, tzinfo=timezone.utc), 120),
        (None, 60),
    ]
    assert utc_offset_segments("Asia/Kolkata", start, end) == [(None, 330)]
