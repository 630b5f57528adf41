"""Every state of the operator's console and of the compliance review passes
axe-core (WCAG 2.x A/AA: no serious or critical violation) at 1440 px, in
English and German; the operator's way through a call works with the
keyboard alone, with the focus visible and kept where the operator left it.

One real call per language walks through every state of the console and is
then reviewed by a compliance reviewer who signs in with two steps: CI's two
cores cannot afford a call per state.
"""

import os
import re
import time
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import assert_labels_contain_visible_text, assert_no_serious_violations
from tests.e2e.conftest import new_page
from tests.e2e.flows import customer_join, customer_open_link_and_accept

DESKTOP = {"width": 1440, "height": 900}
# Screenshots of every audited state go here (or set AXE_SHOTS to keep them elsewhere).
SHOTS = os.environ.get("AXE_SHOTS")
COMPLIANCE_PASSWORD = "e2e-compliance-pass-1"

COMPLIANCE_USER = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from accounts.models import COMPLIANCE_GROUP
user, _ = get_user_model().objects.get_or_create(username="{username}", defaults={{"is_staff": True}})
user.is_staff = True
user.set_password("{password}")
user.save()
user.groups.add(Group.objects.get_or_create(name=COMPLIANCE_GROUP)[0])
"""

SESSION_PK = """
from sessions_app.models import VerificationSession
print(VerificationSession.objects.get(public_id="{session}").pk)
"""


def audit(page, state: str, language: str):
    """Audit the page as it is now. Every state's violations are gathered and
    reported together at the end of the test (FOUND), not only the first."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"\W+", "-", state).strip("-")
        page.screenshot(path=f"{SHOTS}/console-{language}-{slug}.png", full_page=True)
    where = f"{state}, {language}"
    for check in (assert_no_serious_violations, assert_labels_contain_visible_text):
        try:
            check(page, where)
        except AssertionError as error:
            FOUND.append(str(error))


FOUND: list[str] = []


def sign_in(page, username: str, password: str):
    """The operators' sign-in form, found by its fields (the words are translated)."""
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator(".card form button[type=submit]").click()


def audit_console(server, browser, language: str, seed: dict):
    """The operator's pages, from the sign-in to the reload of an ended call."""
    base = server.base_urls[0]
    operator = new_page(browser, locale=language, bypass_csp=True, viewport=DESKTOP)
    operator.goto(f"{base}/console/login/")
    expect(operator.locator("html")).to_have_attribute("lang", language)
    audit(operator, "the sign-in page", language)
    sign_in(operator, seed["operator"]["username"], "not-the-password")
    expect(operator.locator(".card .error[role=alert]")).to_be_visible()
    audit(operator, "the sign-in page with an error", language)
    sign_in(operator, seed["operator"]["username"], seed["operator"]["password"])
    expect(operator.locator("#queue-title")).to_be_visible()
    operator.locator("#presence").select_option("available")
    expect(operator.locator("#queue-empty")).to_be_visible()
    audit(operator, "the empty queue", language)

    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    answer = operator.locator("#queue-body button").first
    expect(answer).to_be_visible()
    audit(operator, "the queue with a waiting customer", language)

    answer.click()
    operator.wait_for_url("**/console/calls/**")
    card = operator.locator(".participant-card:visible")
    expect(operator.locator(".tile.remote.connected")).to_be_visible()
    expect(card.locator(".step-detail.kind-document [data-shortcut=capture]")).to_be_enabled()
    audit(operator, "the call at the document step", language)

    card.locator(".step-detail.kind-document [data-shortcut=capture]").click()
    expect(card.locator(".evidence-gallery img").first).to_be_visible()
    # A check result of the capture (the quality check comes first; the
    # pending line is what shows until then).
    expect(card.locator(".checks-panel .check").first).to_be_visible(timeout=60_000)
    audit(operator, "the call with a capture and its check results", language)

    card.locator(".thumb-button").first.click()
    expect(operator.locator("#evidence-dialog")).to_be_visible()
    expect(operator.locator("#evidence-dialog img").first).to_be_visible()
    audit(operator, "the evidence dialog", language)
    operator.locator("#evidence-dialog button[value=close]").click()
    expect(operator.locator("#evidence-dialog")).to_be_hidden()

    card.locator(".step-detail.kind-document .step-outcome .ok").click()
    expect(card.locator(".step-detail.kind-liveness")).to_be_visible()
    audit(operator, "the call at the liveness step", language)
    card.locator("input[name=outcome][value=approve]").check()
    card.locator("select[name=reason_code]").select_option("verified")
    card.locator("textarea[name=comment]").fill("Checked by hand.")
    override = card.locator(".override-confirm input")
    if override.is_visible():
        override.check()
    card.locator("input[name=share]").check()
    audit(operator, "the filled decision form", language)
    card.locator(".decision-form button[type=submit]").click()
    expect(card.locator(".decision-result")).to_be_visible()
    audit(operator, "the recorded decision", language)

    operator.locator("#btn-end").click()
    expect(operator.locator("#end-dialog")).to_be_visible()
    audit(operator, "the end-call dialog", language)
    operator.locator("#btn-end-confirm").click()
    expect(operator.locator("#ended-panel")).to_be_visible()
    expect(customer.locator("#ended-panel")).to_be_visible()
    # The call's recording is saved before the page says so.
    expect(operator.locator("#recording-status")).to_have_attribute("data-saved", "true", timeout=90_000)
    audit(operator, "the ended call", language)
    operator.reload()
    expect(operator.locator("#ended-panel")).to_be_visible()
    audit(operator, "the ended call after a reload", language)
    customer.context.close()
    operator.context.close()


def audit_compliance(server, browser, language: str, seed: dict):
    """A compliance reviewer turns on two-step sign-in, signs in with it and
    reviews the session: the admin's pages and the recording player."""
    base = server.base_urls[0]
    username = f"carol-{language}"
    server.manage("shell", "-c", COMPLIANCE_USER.format(username=username, password=COMPLIANCE_PASSWORD))
    page = new_page(browser, locale=language, bypass_csp=True, viewport=DESKTOP)

    page.goto(f"{base}/admin/")
    expect(page).to_have_url(re.compile(r"/console/login/"))
    audit(page, "the admin sign-in", language)
    sign_in(page, username, COMPLIANCE_PASSWORD)
    page.wait_for_url("**/admin/")
    page.goto(f"{base}/console/security/two-step")
    audit(page, "two-step sign-in off", language)
    page.locator(".card form button[type=submit]").first.click()
    expect(page.locator(".card img")).to_be_visible()
    audit(page, "two-step sign-in set-up", language)
    secret = page.locator(".card li code").first.inner_text().replace(" ", "")
    # The server takes the code of now ± one step, each step once: this
    # code now, the next step's at the sign-in.
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    page.locator(".card ol form button[type=submit]").click()
    expect(page.locator(".card input[name=action][value=disable]")).to_be_attached()
    audit(page, "two-step sign-in on", language)
    code = pyotp.TOTP(secret).at(time.time() + 30)
    page.context.clear_cookies()

    page.goto(f"{base}/admin/")
    sign_in(page, username, COMPLIANCE_PASSWORD)
    expect(page).to_have_url(re.compile(r"/console/login/code"))
    audit(page, "the sign-in code page", language)
    page.locator("input[name=code]").fill("000000")
    page.locator(".card form button[type=submit]").click()
    expect(page.locator(".card .error[role=alert]")).to_be_visible()
    audit(page, "the sign-in code page with an error", language)
    page.locator("input[name=code]").fill(code)
    page.locator(".card form button[type=submit]").click()
    page.wait_for_url("**/admin/")
    audit(page, "the admin index", language)

    page.goto(f"{base}/admin/sessions_app/verificationsession/")
    audit(page, "the sessions list", language)
    pk = server.manage("shell", "-c", SESSION_PK.format(session=seed["one_on_one"]["session"])).strip().splitlines()[-1]
    page.goto(f"{base}/admin/sessions_app/verificationsession/{pk}/review/")
    expect(page.locator(".verity-decision")).to_be_visible()
    audit(page, "the session review", language)
    page.goto(f"{base}/recordings/sessions/{seed['one_on_one']['session']}/")
    expect(page.locator("[data-recording-player]")).to_be_visible()
    audit(page, "the recording player", language)
    page.context.close()


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_console_and_review_page_state_passes_axe(server, browser, language):
    FOUND.clear()
    seed = server.seed(business=f"axe-console-{language}")
    audit_console(server, browser, language, seed)
    audit_compliance(server, browser, language, seed)
    assert not FOUND, "\n\n".join(FOUND)
