"""Every query the dashboard runs reads the sessions table through an index,
never by a full scan: what keeps it fast at a million sessions (the timings
are bench/dashboard_queries.py's, not a test's).

SQLite: EXPLAIN QUERY PLAN of each query names the index and the range it
searches (business, then waiting_at between the period's ends), and scans no
table whole. PostgreSQL: with sequential scans priced out (enable_seqscan
off, so a tiny test table does not make the planner prefer one), no plan
has a Seq Scan; a plan can have one then only where no index can serve."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from operators.supervisor.selectors import Period, live_figures, period_figures
from tests.supervisor.conftest import State, at, make_session

SESSIONS = "sessions_app_verificationsession"


@pytest.fixture
def dashboard_queries(business_a, workflow_a, operator_a) -> list[str]:
    make_session(business_a, workflow_a, waiting_at=at(10), wait=10, length=100, operator=operator_a, language="de", decision=("approve", "verified"))
    make_session(business_a, workflow_a, waiting_at=at(11), state=State.ABANDONED)
    with CaptureQueriesContext(connection) as captured:
        period_figures(business=business_a, period=Period(date(2026, 11, 1), date(2026, 11, 30)), sla_seconds=30)
        live_figures(business=business_a)
    return [query["sql"] for query in captured.captured_queries if query["sql"].lstrip().upper().startswith("SELECT")]


def _plan(cursor, sql: str) -> list[str]:
    if connection.vendor == "sqlite":
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return [row[-1] for row in cursor.fetchall()]
    cursor.execute("EXPLAIN " + sql)
    return [row[0] for row in cursor.fetchall()]


def test_no_dashboard_query_scans_a_table_whole(dashboard_queries):
    assert len(dashboard_queries) >= 10  # the period's and the live figures'
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in dashboard_queries:
            plan = _plan(cursor, sql)
            if connection.vendor == "sqlite":
                # "SCAN t" reads a table (or "SCAN t USING ... INDEX" an index) whole; "SEARCH" does not.
                assert not [line for line in plan if line.startswith("SCAN") and "CONSTANT ROW" not in line], (sql, plan)
            else:
                assert not [line for line in plan if "Seq Scan" in line], (sql, plan)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite plan's wording")
def test_the_period_is_a_range_search_of_the_dashboard_index(dashboard_queries):
    with connection.cursor() as cursor:
        period_queries = [sql for sql in dashboard_queries if '"waiting_at" >=' in sql or "waiting_at\" >=" in sql]
        assert len(period_queries) >= 8
        for sql in period_queries:
            plan = " | ".join(_plan(cursor, sql))
            assert f"SEARCH {SESSIONS} USING COVERING INDEX session_dashboard_period_idx (business_id=? AND waiting_at>? AND waiting_at<?)" in plan, (sql, plan)
