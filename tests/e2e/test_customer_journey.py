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
    operator.get_by_role("button", name="Ask for front").click()
    expect(customer.locator("#prompt")).to_contain_text("front of your identity document")
    screenshot(customer, "customer-in-call-desktop")
    screenshot(operator, "operator-in-call")

    # The operator decides and shares the result, then ends the call.
    card = operator.locator(".participant-card").first
    card.get_by_label("Approved").check()
    card.get_by_label("Reason").select_option("verified")
    card.get_by_label("Share the result with the customer").check()
    card.get_by_role("button", name="Record decision").click()
    expect(card.locator(".decision-result")).to_contain_text("Decided: Approved · Identity verified")
    operator.get_by_role("button", name="End the call").click()
    operator.get_by_role("button", name="End call").click()
    expect(operator.locator("#ended-panel")).to_be_visible()
    expect(customer.locator("#ended-panel")).to_be_visible()
    expect(customer.locator("#ended-title")).to_have_text("Your identity has been verified")


def test_reload_mid_call_comes_back_into_the_call_with_the_same_prompt(call):
    customer, operator = call
    operator.get_by_role("button", name="Ask for back").click()
    expect(customer.locator("#prompt")).to_contain_text("show the back")
    customer.reload()
    # No Join click: the page goes straight back into the running call.
    expect(customer.locator("#prompt")).to_contain_text("show the back")
    expect(customer.locator("#call-duration")).to_be_visible()
    wait_decoding(customer)
    wait_decoding(operator)
    expect(operator.locator(".tile.remote")).to_have_count(1)


def test_websocket_forcibly_closed_mid_call_recovers_without_dropping_media(call):
    customer, operator = call
    sockets_before = customer.evaluate("window.__sockets.length")
    connections_before = customer.evaluate("window.__pcs.length")
    customer.evaluate("window.__sockets.at(-1).close()")
    customer.wait_for_function(
        f"() => window.__sockets.length > {sockets_before} && window.__sockets.at(-1).readyState === 1"
    )
    expect(customer.locator("#reconnect-banner")).to_be_hidden()
    # The peer connection was never torn down: no new one was made, and the
    # one there is connected and decoding (on a busy machine a consent check
    # may report it "disconnected" for a moment before it recovers).
    customer.wait_for_function("() => window.__pcs.filter((pc) => pc.connectionState === 'connected').length === 1")
    assert customer.evaluate("window.__pcs.length") == connections_before
    wait_decoding(customer)
    # Control events flow over the new socket.
    operator.get_by_role("button", name="Ask for back").click()
    expect(customer.locator("#prompt")).to_contain_text("show the back")


def test_customer_ends_the_call_with_confirmation_and_both_sides_see_it(call):
    customer, operator = call
    customer.get_by_role("button", name="End the call").click()
    # Changing one's mind keeps the call going.
    customer.get_by_role("button", name="Stay in the call").click()
    expect(customer.locator("#ended-panel")).to_be_hidden()
    customer.get_by_role("button", name="End the call").click()
    customer.get_by_role("button", name="End call").click()
    expect(customer.locator("#ended-panel")).to_be_visible()
    # No decision was shared: an honest ending that says what happens next.
    expect(customer.locator("#ended-title")).to_have_text("The call has ended")
    expect(customer.locator("#ended-text")).to_contain_text("will let you know the result")
    expect(operator.locator("#ended-panel")).to_be_visible()


def test_waiting_customer_who_leaves_disappears_from_the_queue(server, browser):
    seed = server.seed(business="queue-leave")
    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    expect(customer.locator("#queue-info")).to_contain_text("number 1 in the queue")
    expect(operator.locator("#queue-body tr")).to_have_count(1)
    expect(operator.locator("#queue-body tr")).to_contain_text("Max Mustermann")
    customer.get_by_role("button", name="Leave").click()
    expect(operator.locator("#queue-body tr")).to_have_count(0)
    # Closing the tab while waiting removes the customer too.
    customer_join(customer)
    expect(operator.locator("#queue-body tr")).to_have_count(1)
    customer.context.close()
    expect(operator.locator("#queue-body tr")).to_have_count(0, timeout=20_000)
    operator.context.close()


def test_customer_is_told_when_no_operator_is_available(server, browser):
    seed = server.seed(business="nobody-home")
    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    expect(customer.locator("#no-operator")).to_be_visible()
    customer.context.close()


def test_declining_the_terms_ends_politely(server, browser):
    seed = server.seed(business="decliner")
    customer = new_page(browser)
    customer.goto(seed["one_on_one"]["links"][0])
    customer.get_by_role("button", name="I do not accept").click()
    expect(customer.get_by_role("heading", level=1)).to_have_text("You declined the terms")
    customer.context.close()


def test_phone_layout_in_call(server, browser):
    seed = server.seed(business="phone")
    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    phone = new_page(browser, viewport={"width": 390, "height": 844})
    customer_open_link_and_accept(phone, seed["one_on_one"]["links"][0])
    screenshot(phone, "customer-device-check-phone")
    customer_join(phone)
    operator_answer_first(operator)
    wait_decoding(phone)
    operator.get_by_role("button", name="Ask for front").click()
    expect(phone.locator("#prompt")).to_be_visible()
    # Every control fits on the phone's screen.
    for name in ["Mute microphone", "Turn camera off", "Mirror my preview", "End the call"]:
        box = phone.get_by_role("button", name=name).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844, name
    # The operator's small tile keeps its picture: the name is one short line over it.
    tile = phone.locator(".tile.remote.role-operator").bounding_box()
    label = phone.locator(".tile.remote.role-operator .tile-name").bounding_box()
    assert label["height"] <= tile["height"] / 4 and label["x"] + label["width"] <= tile["x"] + tile["width"], (label, tile)
    screenshot(phone, "customer-in-call-phone")
    phone.context.close()
    operator.context.close()
