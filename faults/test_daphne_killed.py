"""Scenario 2: one of the two daphne processes dies (SIGKILL) mid-call.

The customer's page is served by daphne 0 and the operator's by daphne 1,
both behind the balancer (one URL per browser). Killing daphne 0 drops the
customer's signaling socket; the page reconnects through the same URL, lands
on daphne 1, gets the whole state from the database and keeps its peer
connection (same page instance), so the call goes on.
"""

import time

import pytest
from playwright.sync_api import expect

from faults.calls import OPEN_SOCKET_JS, wait_frames_rising
from faults.report import record


@pytest.fixture()
def daphne_restored(stack):
    yield
    if not stack.daphne_alive(0):
        stack.restart_daphne(0)


def test_killing_the_customers_daphne_moves_the_customer_to_the_other_and_the_call_goes_on(
    call, stack, daphne_restored
):
    customer, operator = call.customer, call.operator
    customer_listener = stack.balancer.listeners[0]
    survivor = ("127.0.0.1", stack.server.ports[1])
    on_survivor_before = customer_listener.connections.get(survivor, 0)
    sockets_before = call.sockets(customer)
    pcs_before = (customer.evaluate("window.__pcs.length"), operator.evaluate("window.__pcs.length"))

    killed_at = time.monotonic()
    stack.server.kill(0)
    customer.wait_for_function(
        f"() => window.__sockets.length > {sockets_before} && window.__sockets.at(-1).readyState === 1"
        " && window.__sockets.at(-1).__welcomed",
        timeout=30_000,
    )
    reconnected_after = time.monotonic() - killed_at
    assert customer_listener.connections.get(survivor, 0) > on_survivor_before
    expect(customer.locator("#reconnect-banner")).to_be_hidden(timeout=10_000)

    # Media never stopped, on the same connections.
    wait_frames_rising(customer, timeout_s=10)
    wait_frames_rising(operator, timeout_s=10)
    assert (customer.evaluate("window.__pcs.length"), operator.evaluate("window.__pcs.length")) == pcs_before
    assert call.connected(customer) == 1 and call.connected(operator) == 1

    # The call goes on: a prompt reaches the customer, the customer's
    # controls reach the operator, and the operator still sees one customer.
    call.ask_for("Ask for back")
    expect(customer.locator("#prompt")).to_contain_text("show the back", timeout=10_000)
    customer.get_by_role("button", name="Turn camera off").click()
    expect(operator.locator(".tile.remote .camera-off-indicator")).to_be_visible(timeout=10_000)
    customer.get_by_role("button", name="Turn camera on").click()
    expect(operator.locator(".tile.remote .camera-off-indicator")).to_be_hidden(timeout=10_000)
    expect(operator.locator(".tile.remote")).to_have_count(1)
    call_goes_on_after = time.monotonic() - killed_at
    operator.wait_for_function(OPEN_SOCKET_JS)
    assert call.sockets(operator) == 1  # the operator's daphne never went away
    assert call.session()["state"] == "in_call"
    record(
        "2 daphne killed",
        customer_socket_back_after=reconnected_after,
        prompt_and_controls_work_after=call_goes_on_after,
    )
