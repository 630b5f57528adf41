"""Steps of a regulated call (issue #18) as a person takes them in real
Chromium, shared by the per-rule browser tests and the whole-preset walks
(test_bafin_session.py, test_rbi_session.py): the customer's pre-call pages (terms, consent to
recording, live location), the operator's approval under four-eyes review,
the reviewer's queue, the security features and the one-time code, and the set-up each needs (a business's reviewer and
webhook, a session under chosen rules)."""

import json
import os
import re
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kyc.regulations import SECURITY_FEATURES
from tests.e2e.conftest import INSTRUMENT, new_page
from tests.e2e.flows import customer_join, customer_open_link_and_accept, operator_answer_first, operator_login, wait_decoding
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


# --- the security features and the one-time code (BaFin) -------------------------------------

# A still grabbed, encoded and uploaded by each page on a busy two-core box.
FRAME_TIMEOUT_MS = 30_000


TILT_TEXT = {"en": "Please tilt the document slowly towards you.", "de": "Bitte kippen Sie das Dokument langsam zu sich hin."}


CODE_LINE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


TAN_RULES = """
from kyc import regulations
from sessions_app.models import VerificationSession
session = VerificationSession.objects.get(public_id="{session}")
workflow = session.workflow
workflow.rules = sorted(set(workflow.rules or []) | {{{rules}}})
workflow.tan_channel = "{channel}"
workflow.save()
rule_set = workflow.rule_set()
VerificationSession.objects.filter(pk=session.pk).update(preset=rule_set.preset, rule_set=rule_set.snapshot())
"""


def session_rules_set(server, session_hex: str, *, rules=("TAN_AT_END",), channel: str = "email"):
    """Switch rules on for the seeded session's workflow and the session's own
    snapshot (a session keeps the rule set it was created under)."""
    codes = ", ".join(f"regulations.{rule}" for rule in rules)
    server.manage("shell", "-c", TAN_RULES.format(session=session_hex, rules=codes, channel=channel))


def regulated_call(server, browser, *, business: str, rules=(SECURITY_FEATURES,), customer_locale=None, customer_viewport=None):
    """The operator in a call with Max under a workflow with ``rules`` (preset
    custom; security features minimum 3): (operator, customer, the operator's
    participant card)."""
    seed = server.seed(business=business, rules=rules, preset="custom")
    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser, locale=customer_locale, viewport=customer_viewport)
    link = seed["one_on_one"]["links"][0]
    if customer_locale == "de-DE":
        customer.goto(link)
        customer.get_by_role("checkbox").check()
        customer.get_by_role("button", name="Akzeptieren und fortfahren").click()
        expect(customer.get_by_role("button", name="Beitreten")).to_be_enabled()
        customer.get_by_role("button", name="Beitreten").click()
    else:
        customer_open_link_and_accept(customer, link)
        customer_join(customer)
    operator_answer_first(operator)
    expect(customer.locator("#connecting-panel")).to_be_hidden()
    wait_decoding(operator)
    return operator, customer, operator_card(operator)


def operator_card(operator: Page):
    return operator.locator(".participant-card:visible")


def operator_sees_conditions_met(card):
    """The call conditions' box says the video and connection meet the minimum."""
    expect(card.locator(".call-conditions")).to_have_attribute("data-met", "true", timeout=30_000)


def operator_recording_arrives(operator: Page, *, streams: int = 2, timeout_ms: int = 20_000):
    """Wait until the operator's page has uploaded a recording chunk of each
    stream (a chunk every few seconds): nothing on screen says so, and the
    recording gate holds approval back until the server has one."""
    seen = set()

    def chunk_of_a_new_stream(response) -> bool:
        if "/chunks/" in response.url and response.ok:
            seen.add(response.url.rsplit("/chunks/", 1)[0])
        return len(seen) >= streams

    operator.wait_for_event("response", predicate=chunk_of_a_new_stream, timeout=timeout_ms)


def operator_opens_document_step(card):
    card.locator(".step-button", has_text="Identity document").click()
    return card.get_by_role("region", name="Identity document step")


def operator_tries_to_approve(operator, card):
    """Approve with the reason "verified", shared with the customer; returns
    the toast (shown when refused)."""
    card.get_by_label("Approved").check()
    card.get_by_label("Reason").select_option("verified")
    share = card.get_by_label("Share the result with the customer")
    if share.count() and not share.is_checked():
        share.check()
    override = card.locator(".override-confirm input")
    if override.is_visible():
        override.check()
    card.get_by_role("button", name="Record decision").click()
    return operator.locator("#toast")


def approval_refused(operator, card, message: str):
    toast = operator_tries_to_approve(operator, card)
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(message)
    expect(card.locator(".decision-result")).to_have_count(0)


def operator_approves(operator, card):
    operator_tries_to_approve(operator, card)
    expect(card.locator(".decision-result")).to_contain_text("Decided: Approved · Identity verified")


def operator_draws_security_features(step, *, document: str = "Identity card", count: int = 3):
    """The operator says which document the customer shows; the server draws ``count`` features."""
    features = step.locator(".security-features")
    features.get_by_label("Document the customer shows").select_option(label=document)
    features.get_by_role("button", name="Draw security features").click()
    expect(features.locator(".feature-list li")).to_have_count(count)
    # Each of a different category.
    categories = features.locator(".feature-list li .badge").all_inner_texts()
    assert len(set(categories)) == count, categories
    return features


def ticks_wait_for_the_tilt(features):
    expect(features.locator(".features-tilt")).to_contain_text("tick once their screen shows it")
    for button in features.get_by_role("button", name=re.compile(r"^Seen: tick ")).all():
        expect(button).to_be_disabled()


def operator_asks_to_tilt(features, customer, *, language: str = "en"):
    """The tilt prompt in the customer's frame, confirmed back to the operator."""
    features.get_by_role("button", name="Ask to tilt").click()
    expect(customer.locator("#prompt")).to_be_visible()
    expect(customer.locator("#prompt-text")).to_have_text(TILT_TEXT[language])
    expect(features.locator(".features-tilt")).to_have_text("The customer's screen shows the tilt prompt.")


def operator_ticks_features(features, *, count: int = 3):
    """Tick each feature in turn; each gets its captured frame and time in the call."""
    for number in range(count):
        item = features.locator(".feature-list li").nth(number)
        item.get_by_role("button", name=re.compile(r"^Seen: tick ")).click()
        expect(item.locator(".feature-done")).to_contain_text(re.compile(r"✓ Ticked \+\d\d:\d\d"), timeout=FRAME_TIMEOUT_MS)
        expect(item.locator("img.feature-frame")).to_have_count(1)
    expect(features.locator("h4 .badge")).to_have_text(f"{count} of {count} checked")


def feature_frames_are_served(operator, server, features):
    """Each tick's frame is served to the operator as a JPEG."""
    for src in features.locator("img.feature-frame").evaluate_all("(imgs) => imgs.map((img) => img.getAttribute('src'))"):
        response = operator.request.get(server.base_urls[0] + src)
        assert response.status == 200 and response.headers["content-type"] == "image/jpeg"


def operator_expect_approval_refused_for_code(operator: Page):
    expect(operator.locator("#toast")).to_contain_text("The customer has not confirmed the one-time code yet")
    expect(operator_card(operator).locator(".decision form")).to_be_visible()


def operator_send_one_time_code(operator: Page):
    box = operator_card(operator).locator(".one-time-code")
    box.get_by_role("button", name=re.compile("Send (one-time|a new) code")).click()
    expect(box).to_have_attribute("data-state", "sent")


def one_time_code_from_mail(server, *, to: str, after: int = 0, timeout_s: float = 15) -> str:
    """The code in the newest e-mail to ``to`` among those sent after the
    first ``after`` (the server sends it after its commit)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for mail in reversed(server.mails_sent()[after:]):
            if f"To: {to}" in mail and (match := CODE_LINE.search(mail)):
                return match.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no one-time code e-mailed to {to}")


def customer_enter_one_time_code(customer: Page, code: str):
    expect(customer.locator("#prompt")).to_have_attribute("data-code", "one_time_code")
    field = customer.locator("#one-time-code-input")
    field.fill(code)
    customer.locator("#prompt-answer button[type=submit]").click()


def customer_expect_code_refused(customer: Page, text: str):
    status = customer.locator("#prompt-answer-status")
    expect(status).to_contain_text(text)
    expect(customer.locator("#one-time-code-input")).to_have_attribute("aria-invalid", "true")


def operator_expect_code_confirmed(operator: Page):
    box = operator_card(operator).locator(".one-time-code")
    expect(box).to_have_attribute("data-state", "confirmed")
    expect(box.locator(".one-time-code-status")).to_contain_text("CONFIRMED")
