"""Benchmark: the free slots of a busy business (sessions_app.scheduling.free_slots).

What the customer's "Book a time" page and GET /api/v1/slots compute on
every request: a business with OPERATORS operators, each working 08:00-18:00
on weekdays, 30-minute slots, a 14-day horizon, and BOOKINGS calls already
booked in it. Runs on a throw-away SQLite database (migrated here, in a
temporary directory), so it never touches the project's own.

Target: the page's slots in under 200 ms (median) at 50 operators and 3,000
bookings. Prints a table and writes bench/results/booking_slots.json.

    python bench/booking_slots.py                       # 50 operators, 3,000 bookings
    python bench/booking_slots.py --operators 200 --bookings 10000
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results"))
TARGET_MS = 200


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--bookings", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=15)
    options = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="verity-bench-slots-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyc.settings")
    import django

    django.setup()
    from datetime import time as clock
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Business, Operator, WorkingHours
    from sessions_app.models import Booking, VerificationSession
    from sessions_app.scheduling import free_slots
    from workflows.models import WorkflowTemplate

    call_command("migrate", verbosity=0)
    business = Business.objects.create(name="Bench Bank", slug="bench-bank")
    workflow = WorkflowTemplate.objects.create(business=business, name="Bench", steps=[])
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"bench-op-{i}") for i in range(options.operators)]
    )
    operators = Operator.objects.bulk_create(
        [Operator(user=user, business=business, display_name=user.username) for user in users]
    )
    WorkingHours.objects.bulk_create(
        [WorkingHours(operator=op, weekday=d, start=clock(8), end=clock(18)) for op in operators for d in range(5)]
    )
    slots = free_slots(business)
    sessions = VerificationSession.objects.bulk_create(
        [VerificationSession(business=business, workflow=workflow) for _ in range(options.bookings)]
    )
    bookings = []
    for index, session in enumerate(sessions):
        slot = slots[index % len(slots)]
        bookings.append(
            Booking(
                session=session, operator_id=slot.operator_ids[(index // len(slots)) % len(slot.operator_ids)],
                starts_at=slot.starts_at, ends_at=slot.ends_at, ical_uid=f"bench-{index}@verity",
            )
        )
    Booking.objects.bulk_create(bookings)

    timings = []
    for _ in range(options.repeats):
        started = time.perf_counter()
        result = free_slots(business, now=timezone.now())
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    payload = {
        "operators": options.operators,
        "bookings": options.bookings,
        "slots_offered": len(result),
        "median_ms": round(median, 1),
        "max_ms": round(max(timings), 1),
        "target_ms": TARGET_MS,
        "met": median <= TARGET_MS,
        "horizon_days": business.booking_horizon_days,
        "free_capacity_first_slot": result[0].free if result else 0,
        "measured_at": timezone.now().isoformat(),
        "note": "SQLite, one process; " + str(timedelta(days=business.booking_horizon_days)) + " horizon",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "booking_slots.json").write_text(json.dumps(payload, indent=2))
    print(
        f"free_slots: {options.operators} operators, {options.bookings} bookings, {len(result)} slots offered: "
        f"median {median:.1f} ms, max {max(timings):.1f} ms (target ≤ {TARGET_MS} ms: "
        f"{'met' if payload['met'] else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
