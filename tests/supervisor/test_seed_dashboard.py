"""The seeded month: the demo's and the browser test's history."""

import json
from datetime import timedelta
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Business
from accounts.selectors import supervisor_scope
from operators.models import Decision
from operators.supervisor.seed import dashboard_sessions_seed
from operators.supervisor.selectors import period_default, period_figures
from sessions_app.models import VerificationSession


def test_a_month_of_ended_varied_calls(business_a, workflow_a, operator_a, operator_a2):
    now = timezone.now()
    count = dashboard_sessions_seed(business=business_a, workflow=workflow_a, operators=[operator_a, operator_a2], days=30, per_day=20, now=now)
    sessions = VerificationSession.objects.filter(business=business_a)
    assert sessions.count() == count > 300
    # All ended before now, so none waits in an operator's queue.
    assert not sessions.exclude(state__in=VerificationSession.ENDED_STATES).exists()
    assert not sessions.filter(ended_at__gt=now).exists()
    assert sessions.order_by("waiting_at").first().waiting_at >= now - timedelta(days=30)
    figures = period_figures(business=business_a, period=period_default(), sla_seconds=60)
    assert figures.counts.queued == count
    assert 0.02 < figures.counts.abandonment_rate < 0.25
    assert 0.5 < figures.counts.service_level < 1
    assert figures.wait[0] < figures.wait[1] and figures.length[0] < figures.length[1]
    assert {row.language for row in figures.languages} == {"de", "en", "fr", ""}
    assert all(figures.outcomes[o] > 0 for o in Decision.Outcome.values)
    assert {row.name for row in figures.operators} == {"Alice", "Anton"}
    assert len([row for row in figures.days if row.counts.queued]) >= 28


def test_the_same_seed_gives_the_same_month(business_a, workflow_a, operator_a, business_b, workflow_b, operator_b):
    now = timezone.now()
    a = dashboard_sessions_seed(business=business_a, workflow=workflow_a, operators=[operator_a], days=5, per_day=10, now=now, seed=3)
    b = dashboard_sessions_seed(business=business_b, workflow=workflow_b, operators=[operator_b], days=5, per_day=10, now=now, seed=3)
    assert a == b
    waits = lambda business: list(VerificationSession.objects.filter(business=business).order_by("waiting_at").values_list("waiting_at", flat=True))  # noqa: E731
    assert waits(business_a) == waits(business_b)


def test_the_command_seeds_and_makes_a_supervisor(db):
    call_command("seed_demo", "--password", "correct-horse-battery-1", "--json", stdout=StringIO())
    out = StringIO()
    call_command("seed_dashboard", "--days", "3", "--per-day", "5", "--password", "correct-horse-battery-1", "--json", stdout=out)
    result = json.loads(out.getvalue())
    business = Business.objects.get(slug="demo-bank")
    supervisor = get_user_model().objects.get(username=result["supervisor"]["username"])
    assert supervisor_scope(supervisor).business_id == business.pk
    assert supervisor.check_password("correct-horse-battery-1")
    assert result["sessions"] == VerificationSession.objects.filter(business=business, business_reference__startswith="SEED-").count() > 0


def test_the_command_seeds_a_month_once(db):
    """`make run` runs it at every start."""
    call_command("seed_demo", "--password", "correct-horse-battery-1", "--json", stdout=StringIO())
    for _ in range(2):
        call_command("seed_dashboard", "--days", "2", "--per-day", "5", "--json", stdout=StringIO())
    business = Business.objects.get(slug="demo-bank")
    first = VerificationSession.objects.filter(business=business, business_reference__startswith="SEED-").count()
    call_command("seed_dashboard", "--days", "2", "--per-day", "5", "--json", stdout=StringIO())
    assert VerificationSession.objects.filter(business=business, business_reference__startswith="SEED-").count() == first
