"""Steps of a regulated call (issue #18) as a person takes them in real
Chromium, shared by the per-rule browser tests and the whole-preset walks
(test_rbi_session.py): the customer's pre-call pages (terms, consent to
recording, live location), the operator's approval under four-eyes review,
the reviewer's queue, and the set-up each needs (a business's reviewer and
webhook, a session under chosen rules)."""

import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import INSTRUMENT
from tests.e2e.harness import ARTIFACTS, screenshot

MUMBAI = {"latitude": 19.0760, "longitude": 72.8777, "accuracy": 15}
BERLIN = {"latitude": 52.5200, "longitude": 13.4050, "accuracy": 15}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
REVIEWER_PASSWORD = "e2e-reviewer-pass-1"


@contextmanager
def environment(**values: str):
    """The test server's environment for one module (read when it starts)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in values.items():
            patch.setenv(name, value)
        yield


# Webhooks to the receiver on this machine; a private address has no country,
# and this one is India's for the browser's 127.0.0.1 (production never assumes one).
WEBHOOKS_TO_THIS_MACHINE = {"WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}
INDIA_FOR_LOOPBACK = {"GEO_PRIVATE_NETWORK_COUNTRY": "IN"}


def shot(page: Page, name: str, folder: str, *, full_page: bool = False):
    """A screenshot for the gallery (tests/e2e/harness.screenshot), copied to /work/shots/<folder>/."""
    screenshot(page, name, full_page=full_page)
    shots = Path(os.environ.get("REGULATED_SHOTS", "/work/shots")) / folder
    try:
        shots.mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / f"{name}.png", shots / f"{name}.png")
    except OSError:
        pass  # CI has no /work: test-artifacts/ keeps them


# --- set-up -----------------------------------------------------------------------------------------------------


REGULATED_SESSION = """
import json
from sessions_app.audit import Actor
from sessions_app.models import VerificationSession
from sessions_app.services import ParticipantSpec, session_create
from workflows.models import WorkflowTemplate
workflow = WorkflowTemplate.objects.get(business__slug=%(business)r, name="Standard video identification")
workflow.rules = sorted(%(rules)r)
workflow.allowed_countries = %(allowed)r
workflow.save()
created = session_create(
    business=workflow.business, workflow=workflow, kind=VerificationSession.Kind.ONE_ON_ONE,
    participants=[ParticipantSpec(name="Priya Sharma", business_reference="CUST-IN-1")], actor=Actor.system(),
)
print(json.dumps({"session": created.session.public_id.hex, "link": created.links[0][1]}))
"""


def regulated_session(server, business: str, *, rules=(), allowed=("IN",)) -> dict:
    """A new one-on-one session of ``business``'s seeded workflow under ``rules``."""
    rules = rules or ("allowed_countries", "live_location", "recording_consent")
    code = REGULATED_SESSION % {"business": business, "rules": list(rules), "allowed": list(allowed)}
    return json.loads(server.manage("shell", "-c", code).strip().splitlines()[-1])


def business_reviewer_add(server, *, business: str, webhook_url: str | None = None) -> dict:
    """A reviewer ``reviewer-<business>`` (a second staff member) for a seeded
    business, and its webhook when ``webhook_url`` is given: the reviewer's
    credentials."""
    reviewer = f"reviewer-{business}"
    server.manage("shell", "-c", (
        "from django.contrib.auth import get_user_model\n"
        "from accounts.models import Business, REVIEWERS_GROUP\n"
        "from accounts.services import business_staff_add\n"
        f"business = Business.objects.get(slug={business!r})\n"
        f"business.webhook_url = {webhook_url or ''!r}\n"
        "business.save(update_fields=['webhook_url'])\n"
        f"user = get_user_model().objects.create_user({reviewer!r}, password={REVIEWER_PASSWORD!r}, first_name='Rita')\n"
        "business_staff_add(user=user, business=business, role=REVIEWERS_GROUP)\n"
    ))
    return {"username": reviewer, "password": REVIEWER_PASSWORD}


def customer_speaks(server, session_hex: str, language: str):
    """The business sets the customer's language (it wins over the browser's)."""
    server.manage("shell", "-c", (
        "from sessions_app.models import Participant\n"
        f"Participant.objects.filter(session__public_id={session_hex!r}).update(language={language!r})\n"
    ))


def wait_for_webhook(receiver, event_type: str, timeout_s: float = 60):
    """The receiver's deliveries of ``event_type`` (the server posts after its commit, from a worker with Redis)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and event_type not in receiver.types():
        time.sleep(0.5)
    found = [request for request in receiver.received if request.json["type"] == event_type]
    assert found, receiver.types()
    return found


# --- the customer's pre-call pages -------------------------------------------------------------------------------


def customer_page(browser, *, where: dict | None, locale: str = "en-GB", viewport=None) -> Page:
    """The customer's browser at ``where`` (Chromium's geolocation override),
    location allowed; ``where=None``: the browser never shares a position."""
    context = browser.new_context(
        viewport=viewport or DESKTOP,
        permissions=["camera", "microphone"] + (["geolocation"] if where else []),
        geolocation=where,
        locale=locale,
    )
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def customer_accept_terms(page: Page, link: str, *, accept: str = "Accept and continue"):
    page.goto(link)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name=accept).click()


def customer_consent_to_recording(page: Page, *, agree: str = "I agree and continue", shot: str = ""):
    expect(page.locator("#consent-title")).to_be_visible()
    if shot:
        screenshot(page, shot, full_page=True)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name=agree).click()


def customer_share_location(page: Page, *, share: str = "Share my location", shot: str = ""):
    expect(page.locator("#location-title")).to_be_visible()
    if shot:
        screenshot(page, shot, full_page=True)
    page.get_by_role("button", name=share).click()


def customer_at_the_call_page(page: Page):
    expect(page.locator("#device-panel")).to_be_visible()
    expect(page.get_by_role("button", name="Join")).to_be_enabled()


# --- the operator in the call --------------------------------------------------------------------------------------


def operator_sees_the_location(operator: Page, *, coordinates: str, country: str):
    panel = operator.locator(".participant-card:visible .location-panel, .location-panel:visible").first
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(coordinates)
    expect(panel).to_contain_text(country)
    return panel


def operator_approves_and_shares(operator: Page):
    """In the call: Approved, identity verified, shared with the customer; provisional under four-eyes review."""
    card = operator.locator(".participant-card:visible")
    card.get_by_label("Approved").check()
    card.get_by_label("Reason").select_option("verified")
    card.get_by_label("Share the result with the customer").check()
    card.get_by_role("button", name="Record decision").click()
    expect(card.locator(".decision-result")).to_contain_text("Decided: Approved")
    expect(card.locator(".decision-provisional")).to_contain_text("a second person reviews this approval")
    return card


def operator_ends_call(operator: Page):
    operator.get_by_role("button", name="End the call").click()
    operator.get_by_role("button", name="End call").click()
    expect(operator.locator("#ended-panel")).to_be_visible()


def customer_sees_being_reviewed(customer: Page):
    expect(customer.locator("#ended-panel")).to_be_visible()
    expect(customer.locator("#ended-title")).to_have_text("Your verification is being reviewed")
    expect(customer.locator("#ended-text")).to_contain_text("A second person checks every verification")


# --- the reviewer ----------------------------------------------------------------------------------------------------


def staff_login(page: Page, base_url: str, username: str, password: str):
    """Staff sign in where operators do, in any language (by field name, not label)."""
    page.goto(f"{base_url}/console/login/?next=/admin/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/admin/")


def reviewer_opens_queue(page: Page, base_url: str, reviewer: dict, *, session_hex: str):
    """Signs in, follows the admin's "Review queue" link, finds the session."""
    staff_login(page, base_url, reviewer["username"], reviewer["password"])
    page.locator("a.review-queue-link").click()
    row = page.locator(f'.review-queue-row[data-session="{uuid.UUID(session_hex)}"]')
    expect(row).to_be_visible()
    return row


def reviewer_confirms(page: Page, row):
    row.get_by_role("link").click()
    form = page.locator(".four-eyes-form")
    expect(form).to_be_visible()
    form.get_by_label("Confirm the approval").check()
    form.get_by_role("button", name="Record review").click()
    expect(page.locator(".messagelist")).to_contain_text("Decision confirmed")
    expect(page.locator(".review-queue-empty")).to_be_visible()


def reviewed_webhook_says_confirmed(receiver, *, session_hex: str, reviewer: dict):
    """``participant.reviewed`` delivered, signed, without the reviewer's name."""
    [reviewed] = wait_for_webhook(receiver, "participant.reviewed")
    body = reviewed.json
    assert body["data"]["session"]["id"] == str(uuid.UUID(session_hex))
    assert body["data"]["review"]["outcome"] == "approve"
    assert body["data"]["review"]["overturned"] is False
    assert reviewer["username"] not in reviewed.body.decode()
    assert reviewed.headers["webhook-signature"].startswith("v1,")
    return body
