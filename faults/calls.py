"""Setting up a call through the stack, and what a fault test reads off it."""

import time
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from faults.stack import CallStack
from tests.e2e.conftest import new_page
from tests.e2e.flows import (
    CONNECTED_JS,
    DECODING_JS,
    customer_join,
    customer_open_link_and_accept,
    operator_answer_first,
    operator_login,
    wait_decoding,
)

# Open and welcomed: the server sends the welcome once the socket has joined
# the call's group, so events reach it from then on (an open socket whose
# connect then fails on the channel layer closes again).
OPEN_SOCKET_JS = (
    "() => window.__sockets.length > 0 && window.__sockets.at(-1).readyState === 1"
    " && window.__sockets.at(-1).__welcomed"
)


@dataclass
class LiveCall:
    stack: CallStack
    business: str
    customer: Page
    operator: Page

    def close(self):
        for page in (self.customer, self.operator):
            try:
                page.context.close()
            except Exception:  # the browser may already be gone after a failure
                pass

    def frames_decoded(self, page: Page) -> int:
        return page.evaluate(DECODING_JS)

    def connected(self, page: Page) -> int:
        return page.evaluate(CONNECTED_JS)

    def sockets(self, page: Page) -> int:
        # Call sockets only: an operator's call opens in the console's page
        # (static/js/console-queue.js), whose stopped queue socket stays listed.
        return page.evaluate("window.__sockets.filter((ws) => ws.url.includes('/ws/call/')).length")

    def ask_for(self, button: str):
        self.operator.get_by_role("button", name=button).click()

    def session(self) -> dict:
        return self.stack.session_of(self.business)


def start_call(stack: CallStack, browser, business: str) -> LiveCall:
    from faults.conftest import COUNT_ICE_RESTARTS

    seed = stack.seed(business)
    operator = new_page(browser, base_url=stack.operator_url)
    operator.context.add_init_script(COUNT_ICE_RESTARTS)
    customer = new_page(browser, base_url=stack.customer_url)
    customer.context.add_init_script(COUNT_ICE_RESTARTS)
    live = LiveCall(stack, business, customer, operator)
    try:
        operator_login(operator, stack.operator_url, seed["operator"]["username"], seed["operator"]["password"])
        customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
        customer_join(customer)
        operator_answer_first(operator)
        expect(customer.locator("#connecting-panel")).to_be_hidden()
        wait_decoding(customer)
        wait_decoding(operator)
    except Exception:
        live.close()
        raise
    return live


def wait_frames_rising(page: Page, *, timeout_s: float) -> float:
    """Seconds until this page decodes new remote video frames."""
    started = time.monotonic()
    first = page.evaluate(DECODING_JS)
    page.wait_for_function(f"async () => (await ({DECODING_JS})()) > {first}", timeout=timeout_s * 1000)
    return time.monotonic() - started
