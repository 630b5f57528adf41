"""The operator sees whether a prompt reached the customer's screen: the
customer's page confirms each prompt it shows, in real Chromium."""

from playwright.sync_api import expect

from tests.e2e.conftest import new_page
from tests.e2e.flows import (
    customer_join,
    customer_open_link_and_accept,
    operator_answer_first,
    operator_login,
    wait_decoding,
)


def test_the_document_front_prompt_is_shown_to_the_customer_and_the_operator_sees_it(server, browser):
    seed = server.seed(business=f"prompt-confirm-{id(object())}")
    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    operator_answer_first(operator)
    expect(customer.locator("#connecting-panel")).to_be_hidden()
    wait_decoding(operator)
    card = operator.locator(".participant-card:visible")
    status = card.locator(".prompt-status")
    expect(status).to_have_count(0)

    operator.get_by_role("button", name="Ask for front").click()

    expect(customer.locator("#prompt")).to_be_visible()
    expect(customer.locator("#prompt-text")).to_contain_text("front of your identity document")
    expect(status).to_have_text("Shown to the customer")
    expect(status).to_have_attribute("data-state", "shown")
    # Stored, not only pushed: the console reloaded says the same.
    operator.reload()
    expect(operator.locator(".participant-card:visible .prompt-status")).to_have_text("Shown to the customer")
    customer.context.close()
    operator.context.close()
