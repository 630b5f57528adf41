"""Four-eyes review through the real pages (real Chromium, real WebRTC).

A custom workflow with the rule FOUR_EYES_REVIEW: the operator approves Max
in the call and shares the result; Max is told his verification is being
reviewed (after a reload too), not that it is verified. Rita, the business's
reviewer, signs in to the admin, follows "Review queue (1)", opens the
session's review page and confirms; the business's webhook receiver gets
``participant.reviewed``, signed, and Max's page now says he is verified.
(That the operator is refused as their own reviewer is a service and view
test: tests/regulated/test_four_eyes_review.py.)

Each step is a small function a combined RBI walk can call.
Screenshots (desktop 1280, phone 390, English and German) go to
test-artifacts/ and /work/shots/review/."""

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import new_page
from tests.e2e.flows import customer_join, customer_open_link_and_accept, operator_answer_first, operator_login, wait_decoding
from tests.e2e.harness import ARTIFACTS, running_server, screenshot
from tests.webhooks.conftest import Receiver

SHOTS = Path(os.environ.get("REVIEW_SHOTS", "/work/shots/review"))
REVIEWER_PASSWORD = "e2e-reviewer-pass-1"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def server(receiver):
    """The product, allowed to post webhooks to the receiver on this machine."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEBHOOK_ALLOW_HTTP", "true")
        patch.setenv("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32")
        with running_server(1) as product:
            yield product


def shot(page: Page, name: str):
    screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTIFACTS / f"{name}.png", SHOTS / f"{name}.png")


# --- set-up: the business under the rule, its reviewer, its webhook ------------------------------------


def four_eyes_business(server, *, business: str, webhook_url: str | None = None) -> dict:
    """A seeded business whose workflow (and its seeded sessions, made before
    the rule was switched on) runs under FOUR_EYES_REVIEW, with a reviewer
    ``reviewer-<business>``: the seed's dict plus ``reviewer``."""
    seed = server.seed(business=business)
    reviewer = f"reviewer-{business}"
    server.manage("shell", "-c", (
        "from django.contrib.auth import get_user_model\n"
        "from accounts.models import Business, REVIEWERS_GROUP\n"
        "from accounts.services import business_staff_add\n"
        "from kyc import regulations\n"
        "from sessions_app.models import VerificationSession\n"
        "from workflows.models import WorkflowTemplate\n"
        f"business = Business.objects.get(slug={business!r})\n"
        f"business.webhook_url = {webhook_url or ''!r}\n"
        "business.save(update_fields=['webhook_url'])\n"
        "for workflow in WorkflowTemplate.objects.filter(business=business):\n"
        "    workflow.preset = regulations.CUSTOM\n"
        "    workflow.rules = [regulations.FOUR_EYES_REVIEW]\n"
        "    workflow.save()\n"
        "    VerificationSession.objects.filter(workflow=workflow).update(\n"
        "        preset=regulations.CUSTOM, rule_set=workflow.rule_set().snapshot())\n"
        f"user = get_user_model().objects.create_user({reviewer!r}, password={REVIEWER_PASSWORD!r}, first_name='Rita')\n"
        "business_staff_add(user=user, business=business, role=REVIEWERS_GROUP)\n"
    ))
    return {**seed, "reviewer": {"username": reviewer, "password": REVIEWER_PASSWORD}}


def staff_login(page: Page, base_url: str, username: str, password: str):
    """Staff sign in where operators do, in any language (by field name, not label)."""
    page.goto(f"{base_url}/console/login/?next=/admin/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/admin/")


# --- the steps ----------------------------------------------------------------------------------------------


def operator_approves_and_shares(operator: Page):
    """In the call: Approved, identity verified, shared with the customer."""
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


def customer_speaks(server, session_hex: str, language: str):
    """The business sets the customer's language (it wins over the browser's)."""
    server.manage("shell", "-c", (
        "from sessions_app.models import Participant\n"
        f"Participant.objects.filter(session__public_id={session_hex!r}).update(language={language!r})\n"
    ))


def wait_for_webhook(receiver, event_type: str, timeout_s: float = 60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and event_type not in receiver.types():
        time.sleep(0.5)
    found = [request for request in receiver.received if request.json["type"] == event_type]
    assert found, receiver.types()
    return found


# --- the walk -------------------------------------------------------------------------------------------------


def test_a_provisional_approval_is_confirmed_by_a_second_person(server, browser, receiver):
    seed = four_eyes_business(server, business="four-eyes", webhook_url=receiver.url)
    base = server.base_urls[0]
    session_hex = seed["one_on_one"]["session"]

    operator = new_page(browser)
    operator_login(operator, base, seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    operator_answer_first(operator)
    wait_decoding(operator)
    operator_approves_and_shares(operator)
    shot(operator, "operator-provisional-approval-desktop")
    operator_ends_call(operator)

    customer_sees_being_reviewed(customer)
    shot(customer, "customer-being-reviewed-desktop")
    customer.reload()
    customer_sees_being_reviewed(customer)
    customer.set_viewport_size(PHONE)
    shot(customer, "customer-being-reviewed-phone")
    customer_speaks(server, session_hex, "de")
    customer.reload()
    expect(customer.locator("#ended-title")).to_have_text("Ihre Identitätsprüfung wird überprüft")
    shot(customer, "customer-being-reviewed-german-phone")
    customer.set_viewport_size(DESKTOP)
    shot(customer, "customer-being-reviewed-german-desktop")
    customer_speaks(server, session_hex, "en")

    decided = wait_for_webhook(receiver, "participant.decided")[0].json
    assert decided["data"]["decision"]["provisional"] is True

    reviewer = new_page(browser)
    row = reviewer_opens_queue(reviewer, base, seed["reviewer"], session_hex=session_hex)
    shot(reviewer, "review-queue-desktop")
    reviewer.set_viewport_size(PHONE)
    shot(reviewer, "review-queue-phone")
    reviewer.set_viewport_size(DESKTOP)
    row.get_by_role("link").click()
    form = reviewer.locator(".four-eyes-form")
    form.scroll_into_view_if_needed()
    shot(reviewer, "review-form-desktop")

    # The same queue and form in German, before the review is recorded.
    german = new_page(browser, locale="de-DE")
    staff_login(german, base, seed["reviewer"]["username"], seed["reviewer"]["password"])
    german.locator("a.review-queue-link").click()
    shot(german, "review-queue-german")
    german.locator(".review-queue-row").first.get_by_role("link").click()
    german.locator(".four-eyes-form").scroll_into_view_if_needed()
    shot(german, "review-form-german")
    german.set_viewport_size(PHONE)
    german.locator(".four-eyes-form").scroll_into_view_if_needed()
    shot(german, "review-form-german-phone")
    german.context.close()

    reviewer.goto(f"{base}/admin/sessions_app/verificationsession/awaiting-review/")
    reviewer_confirms(reviewer, reviewer.locator(f'.review-queue-row[data-session="{uuid.UUID(session_hex)}"]'))
    shot(reviewer, "review-queue-after-confirm")

    [reviewed] = wait_for_webhook(receiver, "participant.reviewed")
    body = reviewed.json
    assert body["data"]["session"]["id"] == str(uuid.UUID(session_hex))
    assert body["data"]["review"]["outcome"] == "approve"
    assert body["data"]["review"]["overturned"] is False
    assert seed["reviewer"]["username"] not in reviewed.body.decode()
    assert reviewed.headers["webhook-signature"].startswith("v1,")

    customer.set_viewport_size(DESKTOP)
    customer.reload()
    expect(customer.locator("#ended-title")).to_have_text("Your identity has been verified")
