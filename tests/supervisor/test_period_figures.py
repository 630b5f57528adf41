"""The period's figures against a hand-made month whose answers are worked
out on paper (see ``month``'s docstring). Runs on SQLite (the Python
percentiles) and, with DATABASE_URL, on PostgreSQL (percentile_cont)."""

from datetime import date, datetime, timezone

import pytest

from operators.supervisor.selectors import Period, percentile_cont, period_figures
from tests.supervisor.conftest import State, at, make_session

NOVEMBER = Period(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))


@pytest.fixture
def month(business_a, workflow_a, business_b, workflow_b, operator_a, operator_a2, operator_b):
    """Alpha Bank's November, waits and lengths in seconds:

    S1 10 Nov, Alice, de: wait 10, length 300, approved (verified)
    S2 10 Nov, Alice, de: wait 20, length 400, rejected (face mismatch)
    S3 11 Nov, Anton, en: wait 40, length 200, retry (poor lighting)
    S4 12 Nov, Anton, no language: wait 100, length 600, approved (verified)
    S5 12 Nov, de: abandoned, never answered
    S6 13 Nov, en: expired, never answered
    S7 30 Nov 23:00, de: still waiting
    S10 14 Nov, Alice, de: wait 30 (the SLA's edge), still in the call

    and, not November's or not Alpha Bank's: one call on 31 Oct 23:59:59 and
    one of Beta Bank's on 10 Nov."""
    a, w = business_a, workflow_a
    make_session(a, w, waiting_at=at(10, 10), wait=10, length=300, operator=operator_a, language="de", decision=("approve", "verified"))
    make_session(a, w, waiting_at=at(10, 11), wait=20, length=400, operator=operator_a, language="de", decision=("reject", "face_mismatch"))
    make_session(a, w, waiting_at=at(11, 9), wait=40, length=200, operator=operator_a2, language="en", decision=("retry", "poor_lighting"))
    make_session(a, w, waiting_at=at(12, 9), wait=100, length=600, operator=operator_a2, language="", decision=("approve", "verified"))
    make_session(a, w, waiting_at=at(12, 10), state=State.ABANDONED, language="de")
    make_session(a, w, waiting_at=at(13, 10), state=State.EXPIRED, language="en")
    make_session(a, w, waiting_at=at(30, 23), state=State.WAITING, language="de")
    make_session(a, w, waiting_at=at(14, 10), wait=30, operator=operator_a, language="de")
    make_session(a, w, waiting_at=datetime(2026, 10, 31, 23, 59, 59, tzinfo=timezone.utc), wait=1, length=1, operator=operator_a)
    make_session(business_b, workflow_b, waiting_at=at(10), wait=1, length=1, operator=operator_b, decision=("reject", "other"))


def test_counts_abandonment_and_service_level(month, business_a):
    figures = period_figures(business=business_a, period=NOVEMBER, sla_seconds=30)
    c = figures.counts
    assert (c.queued, c.answered, c.abandoned, c.still_waiting) == (8, 5, 2, 1)
    assert c.answered_in_time == 3  # 10, 20 and 30 s: the edge counts as in time
    assert c.abandonment_rate == pytest.approx(2 / 7)
    assert c.service_level == pytest.approx(3 / 7)


def test_wait_and_call_length_percentiles(month, business_a):
    figures = period_figures(business=business_a, period=NOVEMBER, sla_seconds=30)
    # Waits 10, 20, 30, 40, 100: median 30; p90 at rank 3.6 = 40 + 0.6 × 60.
    assert figures.wait == pytest.approx((30, 76), abs=0.01)
    # Lengths of the ended calls 200, 300, 400, 600: median 350; p90 at rank 2.7.
    assert figures.length == pytest.approx((350, 540), abs=0.01)


def test_outcomes_and_reasons(month, business_a):
    figures = period_figures(business=business_a, period=NOVEMBER, sla_seconds=30)
    assert figures.outcomes == {"approve": 2, "reject": 1, "retry": 1}
    assert figures.reasons == [("approve", "verified", 2), ("reject", "face_mismatch", 1), ("retry", "poor_lighting", 1)]


def test_per_operator(month, business_a, operator_a, operator_a2):
    rows = period_figures(business=business_a, period=NOVEMBER, sla_seconds=30).operators
    assert [(row.name, row.answered) for row in rows] == [("Alice", 3), ("Anton", 2)]
    alice, anton = rows
    assert alice.wait == pytest.approx((20, 28), abs=0.01)
    assert alice.length == pytest.approx((350, 390), abs=0.01)
    assert alice.outcomes == {"approve": 1, "reject": 1, "retry": 0}
    assert anton.wait == pytest.approx((70, 94), abs=0.01)
    assert anton.length == pytest.approx((400, 560), abs=0.01)
    assert anton.outcomes == {"approve": 1, "reject": 0, "retry": 1}


def test_per_language_by_the_first_participant(month, business_a):
    rows = period_figures(business=business_a, period=NOVEMBER, sla_seconds=30).languages
    assert [row.language for row in rows] == ["de", "en", ""]
    de, en, unknown = rows
    assert (de.counts.queued, de.counts.answered, de.counts.abandoned, de.counts.still_waiting) == (5, 3, 1, 1)
    assert de.counts.service_level == pytest.approx(3 / 4)
    assert de.wait == pytest.approx((20, 28), abs=0.01)
    assert (en.counts.queued, en.counts.answered, en.counts.abandoned) == (2, 1, 1)
    assert en.counts.service_level == 0
    assert (unknown.counts.queued, unknown.counts.answered, unknown.wait[0]) == (1, 1, pytest.approx(100, abs=0.01))


def test_days_cover_the_period_with_empty_days(month, business_a):
    days = period_figures(business=business_a, period=NOVEMBER, sla_seconds=30).days
    assert len(days) == 30 and days[0].day == date(2026, 11, 1)
    by_day = {row.day.day: row for row in days}
    assert (by_day[10].counts.queued, by_day[10].counts.answered) == (2, 2)
    assert (by_day[12].counts.queued, by_day[12].counts.answered, by_day[12].counts.abandoned) == (2, 1, 1)
    assert by_day[12].wait[0] == pytest.approx(100, abs=0.01)
    assert by_day[1].counts.queued == 0 and by_day[1].wait == (None, None)


def test_a_period_without_calls_has_no_figures(business_a):
    figures = period_figures(business=business_a, period=NOVEMBER, sla_seconds=30)
    assert figures.counts.queued == 0
    assert figures.counts.abandonment_rate is None and figures.counts.service_level is None
    assert figures.wait == (None, None) and figures.length == (None, None)
    assert figures.operators == [] and figures.languages == []


def test_python_percentile_is_postgresqls_percentile_cont():
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([7], 0.9) == 7
    assert percentile_cont([1, 2, 3, 4], 0.5) == 2.5
    assert percentile_cont([10, 20, 30, 40, 100], 0.9) == pytest.approx(76)
