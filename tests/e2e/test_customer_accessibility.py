"""Every state of the customer's pages passes axe-core (WCAG 2.x A/AA: no
serious or critical violation) at desktop and phone widths, in English and
German; focus and live announcements follow the call; the way from the terms
to Join works with the keyboard alone.

One real call per language walks through every state and audits each at both
widths (the viewport is resized in place): CI's two cores cannot afford a
call per state, width and language.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import assert_labels_contain_visible_text, assert_no_serious_violations
from tests.e2e.conftest import new_page
from tests.e2e.flows import operator_answer_first, operator_login
from tests.e2e.harness import screenshot

WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def audit(page, state: str, language: str):
    """Audit the page as it is now at each width, ending at the desktop width."""
    for width_name, size in [*WIDTHS.items()][::-1]:
        page.set_viewport_size(size)
        screenshot(page, f"customer-{language}-{state}-{width_name}")
        assert_no_serious_violations(page, f"{state}, {width_name}, {language}")
        assert_labels_contain_visible_text(page, f"{state}, {width_name}, {language}")


def customer_strings(page) -> dict:
    """The texts the customer page's script shows, in the page's language."""
    return page.evaluate("() => JSON.parse(document.getElementById('i18n').textContent)")


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_customer_page_state_passes_axe(server, browser, language):
    seed = server.seed(business=f"axe-{language}")
    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser, locale=language, bypass_csp=True)
    link = seed["one_on_one"]["links"][0]

    # The terms. Buttons are found by their form, not their (translated) text.
    customer.goto(link)
    expect(customer).to_have_url(re.compile(r"/call/$"))
    expect(customer.locator("html")).to_have_attribute("lang", language)
    audit(customer, "the terms page", language)
    customer.get_by_role("checkbox").check()
    customer.locator(".terms-form button[type=submit]").click()

    # The device check before Join.
    expect(customer.locator("#device-panel")).to_be_visible()
    expect(customer.locator("#btn-join")).to_be_enabled()
    audit(customer, "the device check", language)

    # Waiting: focus on the waiting view's heading, the status in the live region.
    customer.locator("#btn-join").click()
    expect(customer.locator("#connecting-panel")).to_be_visible()
    expect(customer.locator("#connecting-title")).to_be_focused()
    strings = customer_strings(customer)
    place = strings["queuePosition"].replace("%(position)s", "1")
    expect(customer.locator("#queue-info")).to_contain_text(place)
    expect(customer.locator("#live-status")).to_contain_text(place)
    audit(customer, "the waiting view", language)

    # No operator available: the view says so at once, and recovers when one is.
    operator.locator("#presence").select_option("away")
    expect(customer.locator("#no-operator")).to_be_visible()
    expect(customer.locator("#connecting-title")).to_have_text(strings["waitingNoOperatorTitle"])
    audit(customer, "the waiting view with no operator available", language)
    operator.locator("#presence").select_option("available")
    expect(customer.locator("#no-operator")).to_be_hidden()

    # In the call, with the operator's prompt shown and announced.
    operator_answer_first(operator)
    expect(customer.locator("#connecting-panel")).to_be_hidden()
    expect(customer.locator(".tile.remote.role-operator.connected")).to_be_visible()
    operator.get_by_role("button", name="Ask for front").click()
    expect(customer.locator("#prompt")).to_be_visible()
    expect(customer.locator("#prompt-text")).to_have_text(strings["prompt_document_front"])
    expect(customer.locator("#live-status")).to_have_text(strings["prompt_document_front"])
    audit(customer, "the call with a prompt", language)

    # A liveness action, prompted by its own words.
    card = operator.locator(".participant-card").first
    card.locator("[data-focus-key=step-3]").click()
    card.locator("[data-focus-key='3:challenge']").click()
    expect(customer.locator("#prompt")).to_have_attribute("data-code", re.compile(r"^(turn_left|turn_right|look_up|blink|move_closer)$"))
    action = customer.locator("#prompt").get_attribute("data-code")
    expect(customer.locator("#prompt-text")).to_have_text(strings[f"prompt_{action}"])
    audit(customer, "a liveness action", language)

    # The demo's questions are answered in the frame: a field, then choices.
    card.locator("[data-focus-key=step-4]").click()
    card.locator("[data-focus-key='4:start-questions']").click()
    expect(customer.locator("#prompt-answer-input")).to_be_focused()
    audit(customer, "a question answered by typing", language)
    customer.locator("#prompt-answer-input").fill("1.1.1990")
    customer.locator("#prompt-answer button[type=submit]").click()
    expect(customer.locator("#prompt-answer-status")).to_have_text(strings["answerSent"])
    expect(customer.locator("#live-status")).to_have_text(strings["answerSent"])
    expect(card.locator(".customer-answer-live")).to_contain_text("1.1.1990")
    card.locator(".question-form button[type=submit]").click()
    choices = customer.locator(".prompt-choices button")
    expect(choices).to_have_count(4)
    choices.nth(1).click()
    expect(choices.nth(1)).to_have_attribute("aria-pressed", "true")
    audit(customer, "a question answered by a choice", language)

    # The operator shares the result and ends the call: the result is announced.
    card.get_by_label("Approved").check()
    card.get_by_label("Reason").select_option("verified")
    card.get_by_label("Share the result with the customer").check()
    card.get_by_role("button", name="Record decision").click()
    expect(card.locator(".decision-result")).to_contain_text("Decided: Approved")
    operator.get_by_role("button", name="End the call").click()
    operator.get_by_role("button", name="End call").click()
    expect(customer.locator("#ended-panel")).to_be_visible()
    expect(customer.locator("#ended-title")).to_have_text(strings["approved"])
    expect(customer.locator("#ended-title")).to_be_focused()
    expect(customer.locator("#live-status")).to_contain_text(strings["approved"])
    expect(customer.locator("#live-status")).to_contain_text(strings["approvedText"])
    audit(customer, "the end screen", language)
    customer.reload()
    expect(customer.locator("#ended-panel")).to_be_visible()
    expect(customer.locator("#ended-title")).to_have_text(strings["approved"])
    audit(customer, "the end screen after a reload", language)

    # The link again, now that its verification is finished; an unknown link.
    customer.goto(link)
    expect(customer.locator(".card.notice h1")).to_be_visible()
    audit(customer, "the link of a finished verification", language)
    assert customer.goto(f"{server.base_urls[0]}/v/not-a-real-token-at-all-xxxxxxxxxxxxxxxxxx").status == 404
    expect(customer.locator(".card.notice h1")).to_be_visible()
    audit(customer, "an unknown link", language)

    # Another customer declines the terms.
    customer.goto(seed["multi_user"]["links"][0])
    customer.locator(".decline-form button[type=submit]").click()
    expect(customer.locator(".card.notice h1")).to_be_visible()
    audit(customer, "the declined page", language)
    customer.context.close()
    operator.context.close()


def tab_to(page, selector: str, *, limit: int = 40):
    """Press Tab, as a keyboard user does, until the element has focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"{selector} was not reached with {limit} presses of Tab")


def test_customer_goes_from_the_terms_to_the_end_of_the_call_with_the_keyboard_alone(server, browser):
    seed = server.seed(business="axe-keyboard")
    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser)
    customer.goto(seed["one_on_one"]["links"][0])
    tab_to(customer, "input[name=accept]")
    customer.keyboard.press("Space")
    expect(customer.get_by_role("checkbox")).to_be_checked()
    tab_to(customer, ".terms-form button[type=submit]")
    customer.keyboard.press("Enter")
    expect(customer.locator("#device-panel")).to_be_visible()
    expect(customer.locator("#btn-join")).to_be_enabled()
    tab_to(customer, "#btn-join")
    customer.keyboard.press("Enter")
    expect(customer.locator("#connecting-panel")).to_be_visible()
    expect(customer.locator("#connecting-title")).to_be_focused()
    expect(customer.locator("#live-status")).to_contain_text("number 1 in the queue")

    # In the call: a question to type takes the focus; Enter sends it.
    operator_answer_first(operator)
    card = operator.locator(".participant-card").first
    card.locator("[data-focus-key=step-4]").click()
    card.locator("[data-focus-key='4:start-questions']").click()
    expect(customer.locator("#prompt-answer-input")).to_be_focused()
    customer.keyboard.type("1.1.1990")
    customer.keyboard.press("Enter")
    expect(customer.locator("#live-status")).to_contain_text("The operator can see your answer")
    expect(card.locator(".customer-answer-live")).to_contain_text("1.1.1990")
    # A choice is reached with Tab and chosen with Space.
    card.locator(".question-form button[type=submit]").click()
    expect(customer.locator(".prompt-choices button")).to_have_count(4)
    tab_to(customer, ".prompt-choices button:nth-child(2)")
    customer.keyboard.press("Space")
    expect(customer.locator(".prompt-choices button:nth-child(2)")).to_have_attribute("aria-pressed", "true")
    expect(card.locator(".customer-answer-live")).to_contain_text("Savings")

    # The end of the call: the end screen's heading has the focus.
    operator.get_by_role("button", name="End the call").click()
    operator.get_by_role("button", name="End call").click()
    expect(customer.locator("#ended-panel")).to_be_visible()
    expect(customer.locator("#ended-title")).to_be_focused()
    customer.context.close()
    operator.context.close()
