"""The operator sees whether a prompt reached the customer's screen: the
customer's page confirms each prompt it shows, in real Chromium."""

from playwright.sync_api import expect

from tests.e2e.flows import one_on_one_call


# The customer's page shows prompts but its confirmations are lost on the way
# (WebSocket.prototype.send drops them) until the test sets
# window.__promptShownGetsThrough.
DROP_PROMPT_SHOWN = """
(() => {
  window.__promptShownGetsThrough = false;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (!window.__promptShownGetsThrough && typeof data === "string") {
      try {
        if (JSON.parse(data).type === "prompt_shown") return;
      } catch (err) {}
    }
    return send.call(this, data);
  };
})();
"""


def call_in_progress(server, browser, *, customer_script=None):
    """An operator in a call with one customer: (operator, customer, the
    operator's prompt status line)."""
    operator, customer = one_on_one_call(
        server, browser, business=f"prompt-confirm-{id(object())}", customer_script=customer_script
    )
    return operator, customer, operator.locator(".participant-card:visible .prompt-status")


def test_the_document_front_prompt_is_shown_to_the_customer_and_the_operator_sees_it(server, browser):
    operator, customer, status = call_in_progress(server, browser)
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


def test_a_prompt_the_customers_page_never_confirms_is_flagged_and_sent_again(server, browser):
    operator, customer, status = call_in_progress(server, browser, customer_script=DROP_PROMPT_SHOWN)

    operator.get_by_role("button", name="Ask for front").click()

    expect(customer.locator("#prompt-text")).to_contain_text("front of your identity document")
    # No confirmation within 4 s: the operator is told, and offered to send it again.
    expect(status).to_have_attribute("data-state", "not-shown")
    expect(status).to_contain_text("Not shown yet — the customer's page has not confirmed it")
    customer.evaluate("() => { window.__promptShownGetsThrough = true; }")
    status.get_by_role("button", name="Send again").click()
    expect(status).to_have_text("Shown to the customer")
    expect(status).to_have_attribute("data-state", "shown")
    customer.context.close()
    operator.context.close()
