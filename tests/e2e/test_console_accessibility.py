"""Every state of the operator's console and of the compliance review passes
axe-core (WCAG 2.x A/AA: no serious or critical violation) at 1440 px, in
English and German; the operator's way through a call works with the
keyboard alone, with the focus visible and kept where the operator left it.

One real call per language walks through every state of the console and is
then reviewed by a compliance reviewer who signs in with two steps: CI's two
cores cannot afford a call per state.
"""

import re
import time
import uuid

import pyotp
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.accessibility import assert_labels_contain_visible_text, assert_no_serious_violations
from tests.e2e.conftest import new_page
from tests.e2e.flows import customer_join, customer_open_link_and_accept
from tests.e2e.harness import screenshot

DESKTOP = {"width": 1440, "height": 900}
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


def audit(page, state: str, language: str, *, who: str):
    """Audit the page as it is now. Every state's violations are gathered and
    reported together at the end of the test (FOUND), not only the first.
    ``who`` ("operator", "compliance") sees the page: the screenshot's name
    says so first, and the gallery files it under them (tests/e2e/gallery.py);
    the URL cannot tell (the compliance reviewer's two-step pages and the
    recording player are not under /admin/)."""
    screenshot(page, f"{who}-{language}-{state}", full_page=True)
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
    audit(operator, "the sign-in page", language, who="operator")
    sign_in(operator, seed["operator"]["username"], "not-the-password")
    expect(operator.locator(".card .error[role=alert]")).to_be_visible()
    audit(operator, "the sign-in page with an error", language, who="operator")
    sign_in(operator, seed["operator"]["username"], seed["operator"]["password"])
    expect(operator.locator("#queue-title")).to_be_visible()
    operator.locator("#presence").select_option("available")
    expect(operator.locator("#queue-empty")).to_be_visible()
    audit(operator, "the empty queue", language, who="operator")

    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    answer = operator.locator("#queue-body button").first
    expect(answer).to_be_visible()
    audit(operator, "the queue with a waiting customer", language, who="operator")

    answer.click()
    operator.wait_for_url("**/console/calls/**")
    card = operator.locator(".participant-card:visible")
    expect(operator.locator(".tile.remote.connected")).to_be_visible()
    expect(card.locator(".step-detail.kind-document [data-shortcut=capture]")).to_be_enabled()
    audit(operator, "the call at the document step", language, who="operator")

    card.locator(".step-detail.kind-document [data-shortcut=capture]").click()
    expect(card.locator(".evidence-gallery img").first).to_be_visible()
    # A check result of the capture (the quality check comes first; the
    # pending line is what shows until then).
    expect(card.locator(".checks-panel .check").first).to_be_visible(timeout=60_000)
    audit(operator, "the call with a capture and its check results", language, who="operator")

    card.locator(".thumb-button").first.click()
    expect(operator.locator("#evidence-dialog")).to_be_visible()
    expect(operator.locator("#evidence-dialog img").first).to_be_visible()
    audit(operator, "the evidence dialog", language, who="operator")
    operator.locator("#evidence-dialog button[value=close]").click()
    expect(operator.locator("#evidence-dialog")).to_be_hidden()

    card.locator(".step-detail.kind-document .step-outcome .ok").click()
    expect(card.locator(".step-detail.kind-liveness")).to_be_visible()
    audit(operator, "the call at the liveness step", language, who="operator")

    # A question the customer answers in their frame, the answer beside the operator's note.
    card.locator("[data-focus-key=step-4]").click()
    card.locator("[data-focus-key='4:start-questions']").click()
    expect(card.locator(".customer-answer-live")).to_be_visible()
    audit(operator, "a question waiting for the customer's answer", language, who="operator")
    customer.locator("#prompt-answer-input").fill("1.1.1990")
    customer.locator("#prompt-answer button[type=submit]").click()
    expect(card.locator(".customer-answer-live")).to_contain_text("1.1.1990")
    audit(operator, "a question with the customer's answer", language, who="operator")
    card.locator("input[name=outcome][value=approve]").check()
    card.locator("select[name=reason_code]").select_option("verified")
    card.locator("textarea[name=comment]").fill("Checked by hand.")
    override = card.locator(".override-confirm input")
    if override.is_visible():
        override.check()
    card.locator("input[name=share]").check()
    audit(operator, "the filled decision form", language, who="operator")
    card.locator(".decision-form button[type=submit]").click()
    expect(card.locator(".decision-result")).to_be_visible()
    audit(operator, "the recorded decision", language, who="operator")

    operator.locator("#btn-end").click()
    expect(operator.locator("#end-dialog")).to_be_visible()
    audit(operator, "the end-call dialog", language, who="operator")
    operator.locator("#btn-end-confirm").click()
    expect(operator.locator("#ended-panel")).to_be_visible()
    expect(customer.locator("#ended-panel")).to_be_visible()
    # The call's recording is saved before the page says so.
    expect(operator.locator("#recording-status")).to_have_attribute("data-saved", "true", timeout=90_000)
    audit(operator, "the ended call", language, who="operator")
    operator.reload()
    expect(operator.locator("#ended-panel")).to_be_visible()
    audit(operator, "the ended call after a reload", language, who="operator")
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
    audit(page, "the admin sign-in", language, who="compliance")
    sign_in(page, username, COMPLIANCE_PASSWORD)
    page.wait_for_url("**/admin/")
    page.goto(f"{base}/console/security/two-step")
    audit(page, "two-step sign-in off", language, who="compliance")
    page.locator(".card form button[type=submit]").first.click()
    expect(page.locator(".card img")).to_be_visible()
    audit(page, "two-step sign-in set-up", language, who="compliance")
    secret = page.locator(".card li code").first.inner_text().replace(" ", "")
    # The server takes the code of now ± one step, each step once: this
    # code now, the next step's at the sign-in.
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    page.locator(".card ol form button[type=submit]").click()
    expect(page.locator(".card input[name=action][value=disable]")).to_be_attached()
    audit(page, "two-step sign-in on", language, who="compliance")
    code = pyotp.TOTP(secret).at(time.time() + 30)
    page.context.clear_cookies()

    page.goto(f"{base}/admin/")
    sign_in(page, username, COMPLIANCE_PASSWORD)
    expect(page).to_have_url(re.compile(r"/console/login/code"))
    audit(page, "the sign-in code page", language, who="compliance")
    page.locator("input[name=code]").fill("000000")
    page.locator(".card form button[type=submit]").click()
    expect(page.locator(".card .error[role=alert]")).to_be_visible()
    audit(page, "the sign-in code page with an error", language, who="compliance")
    page.locator("input[name=code]").fill(code)
    page.locator(".card form button[type=submit]").click()
    page.wait_for_url("**/admin/")
    audit(page, "the admin index", language, who="compliance")

    page.goto(f"{base}/admin/sessions_app/verificationsession/")
    audit(page, "the sessions list", language, who="compliance")
    # The API names a session by its public id: searching it finds that one session.
    page.locator("#searchbar").fill(seed["one_on_one"]["session"])
    page.locator("#searchbar").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody tr")).to_contain_text(str(uuid.UUID(seed["one_on_one"]["session"])))
    audit(page, "the sessions list searched by public id", language, who="compliance")
    pk = server.manage("shell", "-c", SESSION_PK.format(session=seed["one_on_one"]["session"])).strip().splitlines()[-1]
    page.goto(f"{base}/admin/sessions_app/verificationsession/{pk}/review/")
    expect(page.locator(".verity-decision")).to_be_visible()
    audit(page, "the session review", language, who="compliance")
    # The player with the composed recording (the server composes it right
    # after the call: a few seconds on a busy machine).
    deadline = time.monotonic() + 60
    while True:
        page.goto(f"{base}/recordings/sessions/{seed['one_on_one']['session']}/")
        if page.locator("[data-recording-player] video").count() or time.monotonic() > deadline:
            break
        time.sleep(1)
    expect(page.locator("[data-recording-player] video")).to_be_visible()
    audit(page, "the recording player", language, who="compliance")
    page.context.close()


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_console_and_review_page_state_passes_axe(server, browser, language):
    FOUND.clear()
    seed = server.seed(business=f"axe-console-{language}")
    audit_console(server, browser, language, seed)
    audit_compliance(server, browser, language, seed)
    assert not FOUND, "\n\n".join(FOUND)


# What has the keyboard focus, and whether the operator can see it.
FOCUSED_JS = """
() => {
  const node = document.activeElement;
  const style = getComputedStyle(node);
  return {
    element: node.outerHTML.slice(0, 160),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== "none",
  };
}
"""


def focus_is_on(page, selector: str):
    """The focus is on the element, and it shows (an outline or a shadow)."""
    try:
        page.wait_for_function("(selector) => document.activeElement.matches(selector)", arg=selector, timeout=15_000)
    except PlaywrightTimeoutError:
        raise AssertionError(f"the focus is not on {selector} but on {page.evaluate(FOCUSED_JS)['element']}") from None
    focused = page.evaluate(FOCUSED_JS)
    assert focused["outline"] or focused["shadow"], f"no visible focus on {focused['element']}"


def tab_to(page, selector: str, *, backwards: bool = False, limit: int = 60):
    """Press Tab (or Shift+Tab), as a keyboard user does, until the element has focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            focus_is_on(page, selector)
            return
    raise AssertionError(f"{selector} was not reached with {limit} presses of {'Shift+Tab' if backwards else 'Tab'}")


def test_operator_takes_a_call_from_sign_in_to_end_with_the_keyboard_alone(server, browser):
    seed = server.seed(business="axe-console-keyboard")
    operator = new_page(browser, viewport=DESKTOP)
    operator.goto(f"{server.base_urls[0]}/console/login/")

    # Sign in: the username field has the focus.
    focus_is_on(operator, "input[name=username]")
    operator.keyboard.type(seed["operator"]["username"])
    operator.keyboard.press("Tab")
    focus_is_on(operator, "input[name=password]")
    operator.keyboard.type(seed["operator"]["password"])
    operator.keyboard.press("Enter")
    expect(operator.locator("#queue-title")).to_be_visible()

    # Status: available, with the arrow keys on the closed list.
    tab_to(operator, "#presence")
    for _ in range(3):
        if operator.locator("#presence").input_value() == "available":
            break
        operator.keyboard.press("ArrowUp")
    expect(operator.locator("#presence")).to_have_value("available")

    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    answer = operator.locator("#queue-body button").first
    expect(answer).to_be_visible()
    tab_to(operator, "#queue-body button")
    operator.keyboard.press("Enter")
    operator.wait_for_url("**/console/calls/**")

    # The document's front: captured, and the focus stays on the button
    # through the panel's redraws (busy, then done).
    card = operator.locator(".participant-card:visible")
    capture = card.locator(".step-detail.kind-document [data-shortcut=capture]")
    expect(capture).to_be_enabled()
    expect(operator.locator(".tile.remote.connected")).to_be_visible()
    tab_to(operator, ".step-detail.kind-document [data-shortcut=capture]")
    operator.keyboard.press("Enter")
    expect(card.locator(".evidence-gallery img").first).to_be_visible()
    expect(capture).to_be_enabled()
    focus_is_on(operator, ".step-detail.kind-document [data-shortcut=capture]")

    # The capture, enlarged and closed again: the focus goes back to its thumbnail.
    tab_to(operator, ".thumb-button")
    operator.keyboard.press("Enter")
    expect(operator.locator("#evidence-dialog img").first).to_be_visible()
    focus_is_on(operator, "#evidence-dialog button[value=close]")
    # Meanwhile the customer mutes: the state push redraws the panel (and the
    # thumbnail) behind the dialog.
    customer.locator("#btn-audio").click()
    expect(operator.locator(".tile.remote .muted-indicator")).to_be_visible()
    operator.keyboard.press("Escape")
    expect(operator.locator("#evidence-dialog")).to_be_hidden()
    focus_is_on(operator, ".thumb-button")

    # Pass: the next step shows, the focus on its heading.
    tab_to(operator, ".step-detail.kind-document .step-outcome .ok", backwards=True)
    operator.keyboard.press("Enter")
    expect(card.locator(".step-detail.kind-liveness")).to_be_visible()
    expect(card.locator(".step-button.state-passed")).to_have_count(3)  # terms, device check, document
    focus_is_on(operator, ".step-detail.kind-liveness .step-title")

    # The decision: outcome with the arrow keys, reason, comment, share, record.
    tab_to(operator, "input[name=outcome]")
    for _ in range(4):
        if operator.evaluate("() => document.activeElement.value") == "approve":
            break
        operator.keyboard.press("ArrowDown")
    operator.keyboard.press("Space")
    expect(card.locator("input[name=outcome][value=approve]")).to_be_checked()
    operator.keyboard.press("Tab")
    focus_is_on(operator, "select[name=reason_code]")
    for _ in range(10):
        if card.locator("select[name=reason_code]").input_value() == "verified":
            break
        operator.keyboard.press("ArrowDown")
    expect(card.locator("select[name=reason_code]")).to_have_value("verified")
    operator.keyboard.press("Tab")
    focus_is_on(operator, "textarea[name=comment]")
    operator.keyboard.type("Document and face checked by hand.")
    if card.locator(".override-confirm").is_visible():
        # Approving against the system's advice asks for a confirmation.
        tab_to(operator, "input[name=override]")
        operator.keyboard.press("Space")
        expect(card.locator("input[name=override]")).to_be_checked()
    tab_to(operator, "input[name=share]")
    operator.keyboard.press("Space")
    expect(card.locator("input[name=share]")).to_be_checked()
    tab_to(operator, ".decision-form button[type=submit]")
    operator.keyboard.press("Enter")
    expect(card.locator(".decision-result")).to_be_visible()
    focus_is_on(operator, ".decision-result")

    # End the call: the dialog offers to stay first; then the end panel has the focus.
    tab_to(operator, "#btn-end", backwards=True)
    operator.keyboard.press("Enter")
    expect(operator.locator("#end-dialog")).to_be_visible()
    focus_is_on(operator, "#end-dialog button[value=cancel]")
    tab_to(operator, "#btn-end-confirm")
    operator.keyboard.press("Enter")
    expect(operator.locator("#ended-panel")).to_be_visible()
    focus_is_on(operator, "#ended-title")
    expect(customer.locator("#ended-panel")).to_be_visible()
    customer.context.close()
    operator.context.close()
