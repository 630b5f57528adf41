"""The supervisor dashboard's queries over a million sessions.

Generates a table of a million sessions (ten businesses over a year, the
largest with 40 % of them; a first participant each with a language, a
decision for each completed call) with SQL in the database itself
(generate_series on PostgreSQL, a recursive CTE on SQLite), ANALYZEs it, then
times every query the dashboard runs for the largest business: the period
figures over the last 30 days and over the last year, and the live figures.
Each is run `--repeat` times; the median is reported. A query's own time is
what the database took to execute it; SQLite produces rows as they are
fetched, so there the page's total (which includes the fetching and the
Python percentiles) is the figure to read. It also records the
plan of the period's main query (which index it uses).

    python bench/dashboard_queries.py                     # SQLite, and PostgreSQL if it answers
    python bench/dashboard_queries.py --sessions 200000 --backend sqlite
    make bench NAME=dashboard_queries

Prints a table and writes bench/results/dashboard_queries.json. The target:
the 30-day page's queries together under 1 s on either database (a page a
supervisor reloads; the live figures, polled every 5 s, under 50 ms).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BUSINESSES = 10
OPERATORS_PER_BUSINESS = 5
TARGET_PAGE_S = 1.0
TARGET_LIVE_S = 0.05
# The order period_figures runs its queries in (operators/supervisor/selectors.py):
# on PostgreSQL each group's counts and percentiles are one query; on SQLite
# the values for the percentiles are a second query.
PERIOD_QUERIES = {
    "postgresql": ["totals and percentiles", "decisions (outcomes, reasons, per operator)", "per operator",
                   "operators' names", "per language", "per day"],
    "sqlite": ["totals", "totals: values for percentiles", "decisions (outcomes, reasons, per operator)", "per operator",
               "per operator: values", "operators' names", "per language", "per language: values", "per day",
               "per day: values"],
}


# --- inside the product's environment (a subprocess per database) ---------------------------


def _sql(vendor: str, sessions: int, now: int, first_business: int, first_operator: int, workflow: int) -> list[str]:
    """INSERT … SELECT statements that write the table in the database."""
    if vendor == "postgresql":
        series = f"generate_series(1::bigint, {sessions}) AS g(i)"  # i * 7919 passes int4
        ts = "to_timestamp({})"
        uid = "md5(({})::text)::uuid"
        token = "md5({0}::text) || md5(({0} + 7)::text)"
        false = "false"
        with_ = ""
    else:
        series = "g"
        ts = "strftime('%Y-%m-%d %H:%M:%f', {}, 'unixepoch')"
        uid = "printf('%032x', {})"
        token = "printf('%064x', {})"
        false = "0"
        with_ = f"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {sessions}) "
    year = 365 * 86400
    # Business: 40 % the first, the rest spread over the other nine.
    business = f"(CASE WHEN i % 10 < 4 THEN 0 ELSE i % 10 - 3 END)"
    waiting = f"({now} - ((i * 7919) % {year}) - 60)"
    wait = "(5 + (i * 31) % 150)"
    length = "(120 + (i * 17) % 700)"
    abandoned = "(i % 13 = 0)"
    sessions_sql = (
        f"{with_}INSERT INTO sessions_app_verificationsession (public_id, kind, state, business_reference, redirect_url, "
        "created_at, waiting_at, answered_at, ended_at, state_changed_at, state_version, business_id, operator_id, workflow_id) "
        f"SELECT {uid.format('i')}, 'one_on_one', CASE WHEN {abandoned} THEN 'abandoned' ELSE 'completed' END, "
        f"'BENCH-' || i, '', {ts.format(waiting + ' - 120')}, {ts.format(waiting)}, "
        f"CASE WHEN {abandoned} THEN NULL ELSE {ts.format(waiting + ' + ' + wait)} END, "
        f"{ts.format(waiting + ' + ' + wait + ' + ' + length)}, {ts.format(waiting + ' + ' + wait + ' + ' + length)}, 0, "
        f"{first_business} + {business}, "
        f"CASE WHEN {abandoned} THEN NULL ELSE {first_operator} + {business} * {OPERATORS_PER_BUSINESS} + (i * 3) % {OPERATORS_PER_BUSINESS} END, "
        f"{workflow} FROM {series}"
    )
    participants_sql = (
        "INSERT INTO sessions_app_participant (public_id, position, name, email, business_reference, language, state, "
        "state_changed_at, link_token_hash, link_expires_at, media_state, created_at, session_id) "
        f"SELECT {uid.format('id + 1000000000')}, 0, 'Customer', '', '', "
        "CASE id % 10 WHEN 0 THEN 'en' WHEN 1 THEN 'en' WHEN 2 THEN 'en' WHEN 3 THEN '' WHEN 4 THEN 'fr' ELSE 'de' END, "
        "CASE WHEN state = 'completed' THEN 'decided' ELSE 'left' END, ended_at, "
        f"{token.format('id')}, ended_at, '{{}}', created_at, id FROM sessions_app_verificationsession"
    )
    decisions_sql = (
        "INSERT INTO operators_decision (outcome, reason_code, comment, shared_with_customer, created_at, participant_id, operator_id) "
        "SELECT CASE WHEN p.id % 8 = 0 THEN 'reject' WHEN p.id % 8 = 1 THEN 'retry' ELSE 'approve' END, "
        "CASE WHEN p.id % 8 = 0 THEN 'face_mismatch' WHEN p.id % 8 = 1 THEN 'poor_lighting' ELSE 'verified' END, "
        f"'', {false}, s.ended_at, p.id, s.operator_id "
        "FROM sessions_app_participant p JOIN sessions_app_verificationsession s ON s.id = p.session_id WHERE s.state = 'completed'"
    )
    return [sessions_sql, participants_sql, decisions_sql]


def inner(sessions: int, repeat: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyc.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Business, Operator
    from accounts.services import operator_create
    from django.contrib.auth import get_user_model
    from operators.supervisor.selectors import Period, live_figures, period_default, period_figures
    from workflows.models import WorkflowTemplate

    call_command("migrate", "--no-input", "-v0")
    vendor = connection.vendor
    started = time.monotonic()
    with transaction.atomic():
        businesses = [Business.objects.create(name=f"Bench {n}", slug=f"bench-{n}") for n in range(BUSINESSES)]
        workflow = WorkflowTemplate.objects.create(business=businesses[0], name="Bench", steps=[{"kind": "notes"}])
        operators = [
            operator_create(user=get_user_model().objects.create_user(username=f"bench-{b.pk}-{n}"), business=b, display_name=f"Operator {n}")
            for b in businesses
            for n in range(OPERATORS_PER_BUSINESS)
        ]
    ids = [b.pk for b in businesses]
    op_ids = [o.pk for o in operators]
    assert ids == list(range(ids[0], ids[0] + BUSINESSES)) and op_ids == list(range(op_ids[0], op_ids[0] + len(op_ids)))
    now = int(time.time())
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in _sql(vendor, sessions, now, ids[0], op_ids[0], workflow.pk):
            cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    generated_s = time.monotonic() - started
    business = businesses[0]
    # The business's days, as the page draws them (Europe/Berlin: two DST
    # changes in the year's period).
    month = period_default(zone=business.time_zone)
    year = Period(
        first_day=month.last_day.replace(year=month.last_day.year - 1), last_day=month.last_day, zone=business.time_zone
    )

    def timed(run) -> tuple[float, list[float], object]:
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            result = run()
            total = time.perf_counter() - t0
        return total, [float(q["time"]) for q in captured.captured_queries], result

    figures = {}
    for name, run in (
        ("period_30_days", lambda: period_figures(business=business, period=month, sla_seconds=60)),
        ("period_365_days", lambda: period_figures(business=business, period=year, sla_seconds=60)),
        ("live", lambda: live_figures(business=business)),
    ):
        totals, per_query, result = [], [], None
        for _ in range(repeat):
            total, queries, result = timed(run)
            totals.append(total)
            per_query.append(queries)
        medians = [statistics.median(q[i] for q in per_query) for i in range(len(per_query[0]))]
        known = PERIOD_QUERIES[vendor] if name.startswith("period") else ["by state", "longest wait", "operators in a call", "operators"]
        labels = known if len(known) == len(medians) else [f"query {i + 1}" for i in range(len(medians))]
        figures[name] = {
            "total_s": {"median": statistics.median(totals), "min": min(totals), "max": max(totals)},
            "queries_s": dict(zip(labels, medians)),
            "calls_queued": getattr(getattr(result, "counts", None), "queued", None),
        }
    with connection.cursor() as cursor:
        sql = (
            "SELECT COUNT(*) FROM sessions_app_verificationsession WHERE business_id = %s AND waiting_at >= %s AND waiting_at < %s"
        )
        params = [business.pk, month.start, month.end]
        if vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [row[-1] for row in cursor.fetchall()]
        else:
            cursor.execute("EXPLAIN " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
    return {
        "vendor": vendor,
        "sessions": sessions,
        "generated_s": round(generated_s, 1),
        "figures": figures,
        "plan_of_the_period": plan,
    }


# --- the driver --------------------------------------------------------------------------------


def run_backend(backend: str, sessions: int, repeat: int) -> dict:
    from bench.common import postgres_database

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="kyc.settings", DEBUG="false")
    env.pop("DATABASE_URL", None)
    args = [sys.executable, str(Path(__file__)), "--inner", "--sessions", str(sessions), "--repeat", str(repeat)]
    with tempfile.TemporaryDirectory(prefix="verity-bench-dash-") as folder:
        env["VERITY_VAR_DIR"] = folder
        env["SQLITE_PATH"] = str(Path(folder) / "db.sqlite3")
        if backend == "postgresql":
            with postgres_database() as url:
                env["DATABASE_URL"] = url
                out = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        else:
            out = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{backend}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(payload: dict) -> str:
    from bench.common import table

    lines = []
    for result in payload["results"]:
        figures = result["figures"]
        rows = []
        for name in ("period_30_days", "period_365_days", "live"):
            f = figures[name]
            rows.append([name, f"{f['total_s']['median'] * 1000:,.1f}", f"{f['total_s']['max'] * 1000:,.1f}", f["calls_queued"] or ""])
            for label, seconds in f["queries_s"].items():
                rows.append([f"  {label}", f"{seconds * 1000:,.1f}", "", ""])
        lines.append(
            f"{result['vendor']}: {result['sessions']:,} sessions generated in {result['generated_s']} s; "
            f"period plan: {' / '.join(line.strip() for line in result['plan_of_the_period'][:2])}"
        )
        lines.append(table(["figures (largest business)", "median ms", "max ms", "calls"], rows))
        lines.append("")
    lines.append(
        f"targets: the 30-day page ≤ {TARGET_PAGE_S * 1000:.0f} ms, live ≤ {TARGET_LIVE_S * 1000:.0f} ms: "
        + ("met" if payload["targets"]["met"] else "NOT met")
    )
    return "\n".join(lines)


def run(sessions: int = 1_000_000, repeat: int = 5, backends: list[str] | None = None) -> dict:
    from bench.common import machine_info, postgres_available

    backends = backends or (["sqlite", "postgresql"] if postgres_available() else ["sqlite"])
    results = [run_backend(backend, sessions, repeat) for backend in backends]
    met = all(
        r["figures"]["period_30_days"]["total_s"]["median"] <= TARGET_PAGE_S
        and r["figures"]["live"]["total_s"]["median"] <= TARGET_LIVE_S
        for r in results
    )
    return {
        "machine": machine_info(),
        "results": results,
        "targets": {"page_s": TARGET_PAGE_S, "live_s": TARGET_LIVE_S, "met": met},
        "headline": "; ".join(
            f"{r['vendor']} 30-day page {r['figures']['period_30_days']['total_s']['median'] * 1000:.0f} ms" for r in results
        ),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default=None)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        print(json.dumps(inner(args.sessions, args.repeat), default=str))
        return 0
    from bench.common import write_results

    backends = None if args.backend is None else (["sqlite", "postgresql"] if args.backend == "both" else [args.backend])
    payload = run(args.sessions, args.repeat, backends)
    print(report(payload), flush=True)
    path = write_results("dashboard_queries", payload)
    print(f"written to {path.relative_to(ROOT)}")
    return 0 if payload["targets"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
