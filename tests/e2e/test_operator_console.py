"""The operator's console in real Chromium: the whole workflow of one call,
with the customer's fake camera showing a picture the test knows."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import new_page
from tests.e2e.flows import (
    customer_join,
    customer_open_link_and_accept,
    operator_answer_first,
    operator_login,
    wait_decoding,
)
from tests.e2e.harness import launch_browser, screenshot
from tests.e2e.media import HEIGHT, WIDTH, mean_colour, split_colours, write_y4m

RED = (220, 30, 30)
BLUE = (30, 60, 220)


@pytest.fixture(scope="module")
def customer_browser(playwright_instance, tmp_path_factory):
    """The customer's browser: its camera shows red on the left, blue on the right."""
    y4m = write_y4m(split_colours(RED, BLUE), tmp_path_factory.mktemp("camera") / "split.y4m")
    browser = launch_browser(playwright_instance, [f"--use-file-for-fake-video-capture={y4m}"])
    yield browser
    browser.close()


def fetch_image(page, url: str) -> Image.Image:
    """Download a capture the way the operator's browser would (its cookies)."""
    response = page.request.get(page.url.split("/console/")[0] + url)
    assert response.status == 200, response.status
    # Personal data: never kept by the browser's or a proxy's cache.
    assert {"private", "no-store"} <= {d.strip() for d in response.headers["cache-control"].split(",")}
    return Image.open(io.BytesIO(response.body()))


def close_to(colour, expected, tolerance=45):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


def step(page, label):
    return page.locator(".participant-card:visible .step-button", has_text=label)


# A code a person should never read: "look_up", "needs_review", "turn_right".
SNAKE_CASE = re.compile(r"\b[a-z]+_[a-z_]+\b")


class CaptureUploadGate:
    """Holds the customer's capture uploads while closed, so a test can look
    at the console while a capture is still on its way (on a quiet machine
    it lasts a few hundred milliseconds). One route for the whole test: the
    gate closes and opens, the route stays. What the customer's page said
    (a failed upload logs a warning and retries) is kept for a failure's
    message."""

    def __init__(self, customer):
        self.customer = customer
        self.held = []
        self.open = True
        self.console = []
        customer.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        customer.route("**/call/captures/*", self._handle)

    def _handle(self, route):
        if self.open:
            route.continue_()
        else:
            self.held.append(route)

    def close(self):
        self.open = False

    def release(self):
        self.open = True
        while self.held:
            self.held.pop(0).continue_()

    def said(self) -> str:
        return "\n".join(self.console[-20:]) or "(nothing)"


def test_operator_walks_the_whole_workflow(server, browser, customer_browser):
    seed = server.seed(business="console-walk")
    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(customer_browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    expect(operator.locator("#queue-body tr")).to_contain_text("Max Mustermann")
    operator_answer_first(operator)
    wait_decoding(customer)
    wait_decoding(operator)
    card = operator.locator(".participant-card:visible")

    # Document: prompt, then capture the front from the customer's camera.
    operator.get_by_role("button", name="Ask for front").click()
    expect(customer.locator("#prompt")).to_contain_text("front of your identity document")
    capture_front = operator.get_by_role("button", name="Capture front")
    uploads = CaptureUploadGate(customer)
    uploads.close()
    capture_front.click()
    # Busy while the customer's still is on its way: another click would ask again.
    expect(capture_front).to_have_attribute("aria-disabled", "true")
    uploads.release()
    front = card.locator(".evidence-gallery img").first
    expect(front).to_be_visible()
    expect(capture_front).not_to_have_attribute("aria-disabled", "true")
    image = fetch_image(operator, front.get_attribute("src"))
    # The customer's own camera at its full resolution, not mirrored.
    assert image.size == (WIDTH, HEIGHT)
    assert close_to(mean_colour(image, (20, 20, WIDTH // 2 - 20, HEIGHT - 20)), RED)
    assert close_to(mean_colour(image, (WIDTH // 2 + 20, 20, WIDTH - 20, HEIGHT - 20)), BLUE)

    # The back by keyboard shortcut is not the default capture; use the button,
    # and "C" re-captures the front.
    operator.get_by_role("button", name="Capture back").click()
    expect(card.locator(".evidence-gallery img")).to_have_count(2)
    operator.locator("body").press("c")
    expect(card.locator(".evidence-gallery img")).to_have_count(3)

    # Enlarge shows the customer's still beside what the operator saw.
    card.locator(".thumb-button").first.click()
    expect(operator.locator("#evidence-dialog img")).to_have_count(2)
    seen = fetch_image(operator, operator.locator("#evidence-dialog img").nth(1).get_attribute("src"))
    assert seen.size[0] > 0
    operator.get_by_role("button", name="Close").click()
    card.get_by_role("button", name="Pass", exact=True).click()
    expect(step(operator, "Document")).to_contain_text("Passed")
    # Pass moves on to the next step.
    expect(step(operator, "Liveness")).to_have_attribute("aria-current", "true")

    # Liveness: a random challenge, prompted one action at a time.
    step(operator, "Liveness").click()
    operator.get_by_role("button", name="Capture face").click()
    operator.get_by_role("button", name="Start challenge").click()
    expect(customer.locator("#prompt")).to_be_visible()
    actions = card.locator(".challenge li")
    expect(actions).to_have_count(3)
    for done in range(3):
        prompt_before = customer.locator("#prompt-text").inner_text()
        capture_action = card.get_by_role("button", name="Capture:")
        uploads.close()
        capture_action.click()
        expect(capture_action).to_have_attribute("aria-disabled", "true")
        uploads.release()
        try:
            expect(card.locator(".challenge li.done")).to_have_count(done + 1, timeout=15_000)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\nthe customer's page said:\n{uploads.said()}") from None
        if done < 2:
            expect(customer.locator("#prompt-text")).not_to_have_text(prompt_before)
            expect(capture_action).not_to_have_attribute("aria-disabled", "true")
    expect(customer.locator("#prompt")).to_be_hidden()
    # The operator reads words, never the codes behind them ("turn_right", "needs_review").
    panel_text = operator.locator(".workflow-panel").inner_text()
    assert not SNAKE_CASE.findall(panel_text), SNAKE_CASE.findall(panel_text)
    expect(card.locator(".thumb-button")).to_have_count(7)
    thumb_labels = card.locator(".thumb-button").evaluate_all("(buttons) => buttons.map((b) => b.getAttribute('aria-label'))")
    assert not SNAKE_CASE.findall(" ".join(thumb_labels)), thumb_labels
    # A step passed mid-challenge takes its instruction off the customer's screen.
    card.get_by_role("button", name="New challenge").click()
    expect(customer.locator("#prompt")).to_be_visible()
    card.get_by_role("button", name="Pass", exact=True).click()
    expect(step(operator, "Liveness")).to_contain_text("Passed")
    expect(customer.locator("#prompt")).to_be_hidden()

    # Questions, one by one, answered in the customer's frame: the demo's
    # questions come in English and German, each side reads its page's language.
    step(operator, "Questions").click()
    card.get_by_role("button", name="Start questions").click()
    expect(card.locator(".question-text")).to_have_text("What is your date of birth?")
    expect(customer.locator("#prompt-text span[lang=en]")).to_have_text("What is your date of birth?")
    expect(card.locator(".customer-answer-live")).to_have_text("Waiting for the customer's answer in their frame…")
    # The customer types it: the field has the focus and the question as its name.
    answer_field = customer.get_by_role("textbox", name="What is your date of birth?")
    expect(answer_field).to_be_focused()
    answer_field.fill("1 January 1990")
    customer.get_by_role("button", name="Send answer").click()
    expect(customer.locator("#prompt-answer-status")).to_contain_text("The operator can see your answer")
    expect(card.locator(".customer-answer-live")).to_have_text("The customer answered: 1 January 1990")
    screenshot(customer, "customer-question-typed")
    card.get_by_role("textbox", name="Your note on: What is your date of birth?").fill("matches the passport")
    card.get_by_role("button", name="Save and go on").click()
    # The next question offers its choices in the frame; the customer's choice reaches the operator.
    expect(customer.locator("#prompt-text span[lang=en]")).to_have_text("Why are you opening this account?")
    choices = customer.get_by_role("group", name="Why are you opening this account?").get_by_role("button")
    expect(choices).to_have_text(["Everyday banking", "Savings", "Business", "Something else"])
    customer.get_by_role("button", name="Savings").click()
    expect(customer.get_by_role("button", name="Savings")).to_have_attribute("aria-pressed", "true")
    expect(card.locator(".customer-answer-live")).to_have_text("The customer answered: Savings")
    screenshot(customer, "customer-question-choice")
    screenshot(operator, "operator-question-answered-in-frame")
    card.get_by_role("button", name="Save and go on").click()
    expect(card.locator(".qa")).to_contain_text("The customer answered: 1 January 1990 · Note: matches the passport")
    expect(card.locator(".qa")).to_contain_text("The customer answered: Savings")
    expect(card).to_contain_text("All questions answered.")
    expect(customer.locator("#prompt")).to_be_hidden()

    # Notes are saved as they are typed, and survive a reload of the console.
    step(operator, "Notes").click()
    card.get_by_role("textbox", name="Notes").fill("Customer calm; document looks genuine.")
    expect(card.locator(".notes-status")).to_have_text("Saved")
    screenshot(operator, "operator-console-mid-call")
    operator.reload()
    wait_decoding(operator)
    card = operator.locator(".participant-card:visible")
    expect(step(operator, "Document")).to_contain_text("Passed")
    expect(step(operator, "Liveness")).to_contain_text("Passed")
    # Front, back, front again, the face, and one thumbnail per liveness action.
    expect(card.locator(".evidence-gallery img")).to_have_count(7)
    step(operator, "Notes").click()
    expect(card.get_by_role("textbox", name="Notes")).to_have_value("Customer calm; document looks genuine.")

    # Decide, share, end: the customer sees the result.
    card.get_by_label("Rejected").check()
    # A rejection cannot give "Identity verified" as its reason.
    expect(card.locator("select[name=reason_code] option[value=verified]")).to_be_disabled()
    expect(card.get_by_label("Reason")).not_to_have_value("verified")
    card.get_by_label("Reason").select_option("document_unreadable")
    card.get_by_label("Share the result with the customer").check()
    # The panel redraws on every state push (a check result, another click); what the
    # operator has ticked in the decision form survives it.
    step(operator, "Questions").click()
    expect(card.get_by_label("Rejected")).to_be_checked()
    expect(card.get_by_label("Reason")).to_have_value("document_unreadable")
    expect(card.get_by_label("Share the result with the customer")).to_be_checked()
    card.get_by_role("button", name="Record decision").click()
    expect(card.locator(".decision-result")).to_contain_text("Decided: Rejected · Document unreadable · shared with the customer")
    # The decision finishes the notes: passed, since the operator wrote some (skipped when not).
    expect(step(operator, "Notes")).to_contain_text("Passed")
    operator.get_by_role("button", name="End the call").click()
    operator.get_by_role("button", name="End call").click()
    expect(customer.locator("#ended-title")).to_have_text("We could not verify your identity")
    customer.context.close()
    operator.context.close()


REMOTE_FRAME_JS = """
() => {
  const video = document.querySelector('.tile.remote video');
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(video, 0, 0);
  const px = (x) => Array.from(ctx.getImageData(Math.floor(canvas.width * x), Math.floor(canvas.height / 2), 1, 1).data.slice(0, 3));
  return { left: px(0.15), right: px(0.85) };
}
"""


def test_flip_mirrors_only_the_customers_own_preview(server, browser, customer_browser):
    seed = server.seed(business="flip")
    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(customer_browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    operator_answer_first(operator)
    wait_decoding(operator)
    customer.get_by_role("button", name="Mirror my preview").click()
    # The customer's preview now shows blue on the left...
    shot = Image.open(io.BytesIO(customer.locator("#local-video").screenshot()))
    width, height = shot.size
    assert close_to(mean_colour(shot, (10, height // 3, width // 5, 2 * height // 3)), BLUE, tolerance=60)
    # ...while the operator still receives red on the left.
    operator.wait_for_function("() => document.querySelector('.tile.remote video').videoWidth > 0")
    colours = operator.evaluate(REMOTE_FRAME_JS)
    assert close_to(colours["left"], RED, tolerance=60), colours
    assert close_to(colours["right"], BLUE, tolerance=60), colours
    customer.context.close()
    operator.context.close()
