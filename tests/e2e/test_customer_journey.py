"""The customer's whole journey in real Chromium, against a real daphne."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import new_page
from tests.e2e.flows import (
    customer_join,
    customer_open_link_and_accept,
    operator_answer_first,
    operator_login,
    wait_decoding,
)
from tests.e2e.harness import screenshot


@pytest.fixture()
def call(server, browser):
    """A customer and an operator in a connected one-on-one call."""
    seed = server.seed(business=f"journey-{id(object())}")
    operator_base = server.base_urls[-1]  # a second daphne process when there are two
    operator = new_page(browser, base_url=operator_base)
    operator_login(operator, operator_base, seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    operator_answer_first(operator)
    expect(customer.locator("#connecting-panel")).to_be_hidden()
    wait_decoding(customer)
    wait_decoding(operator)
    yield customer, operator
    customer.context.close()
    operator.context.close()


def test_link_redirects_to_a_url_without_the_token(server, browser):
    seed = server.seed(business="tokenless")
    page = new_page(browser)
    page.goto(seed["one_on_one"]["links"][0])
    expect(page).to_have_url(re.compile(r"/call/$"))
    assert "/v/" not in page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text("verify your identity")
    page.context.close()


def test_unknown_link_gets_a_clear_page_not_a_trace(server, browser):
    page = new_page(browser)
    response = page.goto(f"{server.base_urls[0]}/v/not-a-real-token-at-all-xxxxxxxxxxxxxxxxxx")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find this link")
    page.context.close()


def test_whole_call_from_join_to_shared_result(call):
    customer, operator = call
    # Both sides decode the other's video, and the operator's tile is outlined.
    expect(customer.locator(".tile.remote.role-operator.connected")).to_be_visible()
    expect(customer.locator("#call-duration")).to_be_visible()
    expect(operator.locator("#call-duration")).to_be_visible()

    # Mute and camera off are seen on the operator's side.
    customer.get_by_role("button", name="Mute microphone").click()
    expect(operator.locator(".tile.remote .muted-indicator")).to_be_visible()
    customer.get_by_role("button", name="Unmute microphone").click()
    expect(operator.locator(".tile.remote .muted-indicator")).to_be_hidden()
    customer.get_by_role("button", name="Turn camera off").click()
    expect(operator.locator(".tile.remote .camera-off-indicator")).to_be_visible()
    customer.get_by_role("button", name="Turn camera on").click()
    expect(operator.locator(".tile.remote .camera-off-indicator")).to_be_hidden()

    # Flip mirrors only the customer's own preview.
    customer.get_by_role("button", name="Mirror my preview").click()
    expect(customer.locator("#local-video")).to_have_class(re.compile("mirrored"))
    expect(operator.locator(".tile.remote video")).not_to_have_class(re.compile("mirrored"))

    # Device settings list the devices.
    customer.get_by_role("button", name="Device settings").click()
    expect(customer.locator("#select-camera option")).not_to_have_count(0)
    expect(customer.locator("#select-microphone option")).not_to_have_count(0)
    customer.get_by_role("button", name="Done").click()

    # A prompt from the operator appears in the customer's call frame.
    operator.get_by_role("button", name="Document front").click()
    expect(customer.locator("#prompt")).to_contain_text("front of your identity document")
    screenshot(customer, "customer-in-call-desktop")
    screenshot(operator, "operator-in-call")

    # The operator decides and shares the result, then ends the call.
    card = operator.locator(".participant-card").first
    card.get_by_label("Approved").check()
    card.get_by_label("Reason").select_option("verified")
    card.get_by_label("Share the result with the customer").check()
    card.get_by_role("button", name="Record decision").click()
    expect(card.locator(".decision-result")).to_contain_text("Decided: approve")
    operator.get_by_role("button", name="End the call").click()
    operator.get_by_role("button", name="End call").click()
    expect(operator.locator("#ended-panel")).to_be_visible()
    expect(customer.locator("#ended-panel")).to_be_visible()
    expect(customer.locator("#ended-title")).to_have_text("Your identity has been verified")
