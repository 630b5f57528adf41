"""After every fault: the product's database connections are neither leaked
nor held (issue 15). PostgreSQL connections are pooled (DATABASE_POOL_*, one
pool per process); a connection that a killed request, a dropped socket or a
restarted Redis left checked out would stay open in a transaction, or the
pool would be exhausted and a request that needs the database would wait
out DATABASE_POOL_TIMEOUT_SECONDS and fail.

Runs last (``after_the_faults``), on the stack every browser scenario used:
both daphne processes (one of them killed and started again), the Celery
worker and beat. Only on PostgreSQL: the embedded SQLite stack keeps no
connection (CONN_MAX_AGE 0), and tests/consumers/test_database_connections_are_bounded.py
bounds its open files.
"""

import json
import time
import urllib.request

import psycopg
import pytest
from django.conf import settings

from faults.report import record

pytestmark = pytest.mark.after_the_faults

QUIET_SECONDS = 5  # what is still checked out this long after the last call is held, not busy
PROCESSES_WITH_POOLS = 2 + 2  # the two daphne processes, the worker and beat


def _backends(database_url: str) -> list[dict]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid, state, now() - state_change AS held, left(query, 120)"
            " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [{"pid": pid, "state": state, "held": held.total_seconds(), "query": query} for pid, state, held, query in rows]


def test_no_connection_is_left_open_in_a_transaction_or_beyond_the_pools(stack):
    database_url = stack.server.env.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        pytest.skip("the embedded SQLite stack keeps no database connection open")
    # Every daphne answers its readiness probe (a query through its pool)
    # before the pool's timeout: none is exhausted by connections the faults
    # left checked out.
    for base in stack.server.base_urls:
        started = time.monotonic()
        with urllib.request.urlopen(f"{base}/readyz", timeout=settings.DATABASE_POOL_TIMEOUT_SECONDS + 5) as page:
            assert (page.status, json.loads(page.read())) == (200, {"ready": True, "failing": []})
        assert time.monotonic() - started < settings.DATABASE_POOL_TIMEOUT_SECONDS

    time.sleep(QUIET_SECONDS)
    backends = _backends(database_url)
    held = [b for b in backends if b["state"] in ("idle in transaction", "idle in transaction (aborted)") and b["held"] > QUIET_SECONDS]
    assert held == [], f"connections left in a transaction: {held}"
    bound = PROCESSES_WITH_POOLS * settings.DATABASE_POOL_MAX_SIZE
    assert len(backends) <= bound, f"{len(backends)} connections open, more than {PROCESSES_WITH_POOLS} pools of {settings.DATABASE_POOL_MAX_SIZE}"
    record("database connections after the faults", open=len(backends), bound=bound)
