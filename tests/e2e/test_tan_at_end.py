"""The one-time code at the end of the call (rule TAN_AT_END), in real
Chromium over real WebRTC: approval is refused before the code, the operator
sends it, the customer types a wrong one (told so), then the one the server
e-mailed; the operator sees it confirmed and the approval goes through.

The steps are small functions a longer walk (a whole BaFin session) reuses."""

import re
import time

from playwright.sync_api import Page, expect

from tests.e2e.conftest import new_page
from tests.e2e.flows import customer_join, customer_open_link_and_accept, operator_answer_first, operator_login, wait_decoding
from tests.e2e.harness import screenshot

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


def operator_card(operator: Page):
    return operator.locator(".participant-card:visible")


def operator_try_approve(operator: Page):
    """Fill the decision form with an approval and submit it."""
    card = operator_card(operator)
    card.locator("input[name=outcome][value=approve]").check()
    card.locator("select[name=reason_code]").select_option("verified")
    card.locator("textarea[name=comment]").fill("Identity checked in the call.")
    override = card.locator(".override-confirm input")
    if override.is_visible():
        override.check()
    card.locator(".decision-form button[type=submit]").click()


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


def test_the_customer_confirms_the_one_time_code_before_the_operator_may_approve(server, browser):
    seed = server.seed(business=f"tan-{id(object())}")
    session_rules_set(server, seed["one_on_one"]["session"])
    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser, viewport={"width": 390, "height": 844})
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    operator_answer_first(operator)
    expect(customer.locator("#connecting-panel")).to_be_hidden()
    wait_decoding(operator)

    box = operator_card(operator).locator(".one-time-code")
    expect(box).to_contain_text("By e-mail to m***@example.com")
    screenshot(operator, "operator-one-time-code-not-sent")
    operator_try_approve(operator)
    operator_expect_approval_refused_for_code(operator)

    mails_before = len(server.mails_sent())
    operator_send_one_time_code(operator)
    expect(box).to_contain_text("Sent to m***@example.com")
    expect(customer.locator("#prompt-text")).to_have_text("Enter the code we sent to m***@example.com")
    code = one_time_code_from_mail(server, to="max@example.com", after=mails_before)
    screenshot(customer, "customer-one-time-code-asked")

    wrong = str((int(code) + 1) % 10**6).zfill(6)
    customer_enter_one_time_code(customer, wrong)
    customer_expect_code_refused(customer, "That code is not right. 4 attempts left.")
    expect(box).to_contain_text("Attempts left: 4")
    screenshot(customer, "customer-one-time-code-wrong")

    customer_enter_one_time_code(customer, code)
    operator_expect_code_confirmed(operator)
    expect(customer.locator("#prompt")).to_be_hidden()
    screenshot(operator, "operator-one-time-code-confirmed")

    operator_try_approve(operator)
    expect(operator_card(operator).locator(".decision-result")).to_contain_text("Approved")
    customer.context.close()
    operator.context.close()
