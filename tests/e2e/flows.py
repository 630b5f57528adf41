"""What a customer and an operator do, step by step, as reusable moves."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import new_page

DECODING_JS = """
async () => {
  let total = 0;
  for (const pc of window.__pcs) {
    if (pc.connectionState === 'closed') continue;
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') total += s.framesDecoded || 0;
    });
  }
  return total;
}
"""

CONNECTED_JS = "() => window.__pcs.filter((pc) => pc.connectionState === 'connected').length"


def customer_open_link_and_accept(page: Page, link: str):
    page.goto(link)
    # The token is swapped for a cookie and never stays in the address bar.
    expect(page).to_have_url(re.compile(r"/call/$"))
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Accept and continue").click()
    expect(page.locator("#device-panel")).to_be_visible()
    expect(page.get_by_role("button", name="Join")).to_be_enabled()


def customer_join(page: Page):
    page.get_by_role("button", name="Join").click()
    expect(page.locator("#connecting-panel")).to_be_visible()


def operator_login(page: Page, base_url: str, username: str, password: str):
    page.goto(f"{base_url}/console/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#queue-title")).to_be_visible()
    page.get_by_label("Status").select_option("available")


def operator_answer_first(page: Page):
    answer = page.locator("#queue-body").get_by_role("button", name="Answer").first
    expect(answer).to_be_visible()
    answer.click()
    page.wait_for_url("**/console/calls/**")


def wait_decoding(page: Page, *, connections: int = 1, timeout_ms: int = 20_000):
    """Wait until `connections` peer connections are connected and remote video
    frames are being decoded (the count rises between two reads)."""
    page.wait_for_function(f"() => window.__pcs.filter((pc) => pc.connectionState === 'connected').length >= {connections}", timeout=timeout_ms)
    first = page.evaluate(DECODING_JS)
    page.wait_for_function(f"async () => (await ({DECODING_JS})()) > {first}", timeout=timeout_ms)
    return page.evaluate(DECODING_JS)


def one_on_one_call(server, operator_browser, customer_browser=None, *, business: str, customer_script: str | None = None):
    """A newly seeded business's operator in a call with its one-on-one
    customer, video flowing: (operator page, customer page).
    ``customer_script`` runs in the customer's page before its own."""
    seed = server.seed(business=business)
    operator = new_page(operator_browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(customer_browser or operator_browser)
    if customer_script:
        customer.add_init_script(customer_script)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    operator_answer_first(operator)
    expect(customer.locator("#connecting-panel")).to_be_hidden()
    wait_decoding(operator)
    return operator, customer
