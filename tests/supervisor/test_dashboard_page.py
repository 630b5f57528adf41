"""The dashboard page, its live JSON and its CSV export, through the Django
test client, over the hand-made month of test_period_figures."""

import csv
import io

import pytest
from django.test import Client
from django.utils import timezone, translation

from tests.supervisor.test_period_figures import month  # noqa: F401  (the fixture)

NOVEMBER = "?from=2026-11-01&to=2026-11-30&sla=30"


@pytest.fixture
def sam(supervisor_a, business_a) -> Client:
    # The hand-made month's answers are worked out in UTC days; the page
    # draws the business's days (test_days_in_the_business_time_zone).
    business_a.time_zone = "UTC"
    business_a.save(update_fields=["time_zone"])
    client = Client()
    client.force_login(supervisor_a)
    return client


def test_the_page_shows_each_plot_with_its_table(month, sam):  # noqa: F811
    response = sam.get("/supervisor/alpha-bank/" + NOVEMBER)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('role="img"') == 7
    assert page.count('<table class="figures"') == 7
    assert 'aria-label="Per operator"' in page and "<title>Per operator</title>" in page
    assert '<dd data-figure="queued">8</dd>' in page
    assert '<dd data-figure="abandonment_rate">28.6 %</dd>' in page
    assert '<dd data-figure="service_level">42.9 %</dd>' in page
    assert '<dd data-figure="wait_median">30</dd>' in page
    assert '<dd data-figure="wait_p90">76</dd>' in page
    assert "Answered within 30 s" in page


def test_the_page_speaks_german(month, sam):  # noqa: F811
    with translation.override("de"):
        page = sam.get("/supervisor/alpha-bank/" + NOVEMBER, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Dashboard der Teamleitung" in page
    assert "Deutsch" in page  # the language of the German calls, in German


def test_nonsense_in_the_query_falls_back_to_the_defaults(business_a, sam):
    business_a.sla_seconds = 45
    business_a.save()
    response = sam.get("/supervisor/alpha-bank/?from=yesterday&to=2026-13-45&sla=lots")
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.sla_seconds == 45
    assert (figures.period.last_day - figures.period.first_day).days == 29


def test_dates_given_backwards_are_swapped(business_a, sam):
    figures = sam.get("/supervisor/alpha-bank/?from=2026-11-30&to=2026-11-01").context["figures"]
    assert (figures.period.first_day.day, figures.period.last_day.day) == (1, 30)


def test_live_figures_as_json(month, sam):  # noqa: F811
    data = sam.get("/supervisor/alpha-bank/live").json()
    assert data["waiting"] == 1
    assert data["by_state"] == {"created": 0, "waiting": 1, "in_call": 1}
    assert data["operators"] == {"available": 0, "in_call": 1, "away": 1}


def test_the_export_has_the_periods_figures(month, sam):  # noqa: F811
    response = sam.get("/supervisor/alpha-bank/export.csv" + NOVEMBER)
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="verity-alpha-bank-2026-11-01-2026-11-30.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    figures = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert figures[("total", "", "queued")] == "8"
    assert figures[("total", "", "abandonment_rate")] == "0.29"
    assert figures[("total", "", "wait_p90_s")] == "76.00"
    assert figures[("operator", "Alice", "answered")] == "3"
    assert figures[("language", "unknown", "queued")] == "1"
    assert figures[("outcome", "approve", "decisions")] == "2"
    assert figures[("day", "2026-11-12", "abandoned")] == "1"


def test_the_export_never_hands_a_spreadsheet_a_formula(month, sam, operator_a):  # noqa: F811
    operator_a.display_name = "=HYPERLINK(\"http://evil\")"
    operator_a.save()
    content = sam.get("/supervisor/alpha-bank/export.csv" + NOVEMBER).content.decode()
    assert "'=HYPERLINK" in content
    assert "\n=HYPERLINK" not in content and ",=HYPERLINK" not in content


def test_the_period_ends_today_at_the_latest_and_spans_a_year_at_most(business_a, sam):
    figures = sam.get("/supervisor/alpha-bank/?from=0001-01-01&to=9999-12-31").context["figures"]
    today = timezone.now().date()
    assert figures.period.last_day == today
    assert (figures.period.last_day - figures.period.first_day).days == 365
    figures = sam.get("/supervisor/alpha-bank/?from=9999-01-01&to=9999-12-31").context["figures"]
    assert figures.period.first_day == figures.period.last_day == today
