"""A supervisor watches the floor, through the real page.

A business has a month of seeded call history (seed_dashboard) and its
supervisor signs in: the dashboard shows a plot per section, each with its
table, and the figures on it agree with a count made straight from the
database here (not through the dashboard's selectors). A customer who starts
waiting shows up in "Calls waiting" without a reload (the page polls). The
CSV export downloads the same totals. Screenshots: desktop and phone, English
and German, in test-artifacts/screens/."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import new_page
from tests.e2e.harness import ARTIFACTS, screenshot

PASSWORD = "e2e-supervisor-pass-1"
BUSINESS = "supervised"
SCREENS = ARTIFACTS / "screens"
PHONE = {"width": 390, "height": 844}
# Tall enough that the README's picture shows the tiles and the first plots.
DESKTOP = {"width": 1280, "height": 1300}

# A direct count: plain ORM filters and Python arithmetic, none of
# operators.supervisor's code. Days are the business's (its time zone), the
# last 30 including today.
DIRECT_COUNT = """
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo
from django.db.models import Count
from accounts.models import Business
from operators.models import Decision
from sessions_app.models import VerificationSession
zone = ZoneInfo(Business.objects.get(slug=%(slug)r).time_zone)
today = datetime.now(zone).date()
start = datetime.combine(today - timedelta(days=29), time.min, tzinfo=zone)
rows = list(VerificationSession.objects.filter(business__slug=%(slug)r, waiting_at__gte=start)
            .values("state", "answered_at", "waiting_at", "operator__display_name"))
answered = [r for r in rows if r["answered_at"]]
abandoned = [r for r in rows if not r["answered_at"] and r["state"] != "waiting"]
per_operator = {}
for r in answered:
    per_operator[r["operator__display_name"]] = per_operator.get(r["operator__display_name"], 0) + 1
outcomes = dict(Decision.objects.filter(participant__session__business__slug=%(slug)r,
                participant__session__waiting_at__gte=start).values_list("outcome").annotate(n=Count("pk")))
print(json.dumps({"queued": len(rows), "answered": len(answered), "abandoned": len(abandoned),
                  "per_operator": per_operator, "outcomes": outcomes}))
"""

START_WAITING = """
from sessions_app.models import VerificationSession
from sessions_app.services import participant_accept_terms, participant_join
session = VerificationSession.objects.get(public_id=%(sid)r)
participant = session.participants.get(position=0)
participant_accept_terms(participant=participant, ip_address="192.0.2.1", user_agent="e2e")
participant_join(participant=participant)
print("ok")
"""


def number(text: str) -> int:
    return int(text.replace(",", "").replace(".", "").replace("\u202f", "").replace("\xa0", "").strip())


@pytest.fixture(scope="module")
def seeded(server):
    demo = server.seed(business=BUSINESS)
    out = server.manage(
        "seed_dashboard", "--json", "--business", BUSINESS, "--username", "sup-supervised", "--password", PASSWORD,
        "--days", "30", "--per-day", "30",
    )
    seeded = json.loads(out.strip().splitlines()[-1])
    counted = json.loads(server.manage("shell", "-c", DIRECT_COUNT % {"slug": BUSINESS}).strip().splitlines()[-1])
    return {"demo": demo, "seeded": seeded, "counted": counted}


def supervisor_login(page, base_url: str):
    page.goto(f"{base_url}/console/login/?next=/supervisor/")
    page.locator("input[name=username]").fill("sup-supervised")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"**/supervisor/{BUSINESS}/")


def shoot(page, name: str):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_supervisor_sees_the_month_and_the_numbers_agree_with_the_database(server, browser, seeded):
    page = new_page(browser, base_url=server.base_urls[0])
    supervisor_login(page, server.base_urls[0])
    expect(page.get_by_role("heading", name="Supervisor dashboard")).to_be_visible()

    # A plot per section, each a labelled image with its table beside it.
    charts = page.locator("svg.chart[role=img]")
    expect(charts).to_have_count(7)
    for label in ("Calls per day", "Wait and call length (seconds)", "Outcomes", "Reasons", "Per operator", "Per language"):
        expect(page.locator(f"svg.chart[aria-label='{label}']")).to_be_visible()
    expect(page.locator("table.figures")).to_have_count(7)

    counted = seeded["counted"]
    assert counted["queued"] == seeded["seeded"]["sessions"] > 500
    summary = page.locator("#summary")
    assert number(summary.locator("[data-figure=queued]").inner_text()) == counted["queued"]
    assert number(summary.locator("[data-figure=answered]").inner_text()) == counted["answered"]
    assert number(summary.locator("[data-figure=abandoned]").inner_text()) == counted["abandoned"]
    rate = summary.locator("[data-figure=abandonment_rate]").inner_text()
    assert rate == f"{counted['abandoned'] / (counted['answered'] + counted['abandoned']) * 100:.1f} %"

    outcomes = page.locator("table[data-section=outcomes] tbody tr")
    shown = {row.locator("th").text_content().strip(): number(row.locator("td").inner_text()) for row in outcomes.all()}
    assert shown == {
        "Approved": counted["outcomes"].get("approve", 0),
        "Rejected": counted["outcomes"].get("reject", 0),
        "Retry": counted["outcomes"].get("retry", 0),
    }
    operators = page.locator("table[data-section=operators] tbody tr")
    shown = {row.locator("th").text_content().strip(): number(row.locator("td").first.inner_text()) for row in operators.all()}
    assert shown == counted["per_operator"]

    # The floor now: a customer starts waiting; the page shows it without a reload.
    expect(page.locator("[data-live=waiting]")).to_have_text("0")
    server.manage("shell", "-c", START_WAITING % {"sid": seeded["demo"]["one_on_one"]["session"]})
    expect(page.locator("[data-live=waiting]")).to_have_text("1", timeout=20_000)
    expect(page.locator("[data-live='by_state.waiting']")).to_have_text("1")
    shoot(page, "supervisor-dashboard-desktop-en")

    # The export: the same totals as the page.
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert f"total,,queued,{counted['queued'] + 1}" in text  # the customer who started waiting just now
    assert f"total,,abandoned,{counted['abandoned']}" in text
    page.context.close()


def test_the_dashboard_on_a_phone_and_in_german(server, browser, seeded):
    for locale, suffix in (("en", "en"), ("de", "de")):
        for viewport, kind in ((DESKTOP, "desktop"), (PHONE, "phone")):
            page = new_page(browser, base_url=server.base_urls[0], viewport=viewport, locale=locale)
            supervisor_login(page, server.base_urls[0])
            heading = "Supervisor dashboard" if locale == "en" else "Dashboard der Teamleitung"
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            # Nothing wider than the screen: the charts scale to it.
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{kind} {locale}: {overflow}px wider than the screen"
            shoot(page, f"supervisor-dashboard-{kind}-{suffix}")
            screenshot(page, f"supervisor-{suffix}-the-dashboard-over-a-month-{kind}")  # the gallery's (make screenshots)
            page.context.close()
