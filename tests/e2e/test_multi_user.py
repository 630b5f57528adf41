"""A multi-user session in real Chromium: three customers and an operator in
a full mesh, each customer with their own verification."""

import io

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
from tests.e2e.media import HEIGHT, WIDTH, mean_colour, write_y4m

# Each customer's camera shows one solid colour, so a capture tells whose it is.
CAMERA_COLOURS = [(200, 40, 40), (40, 180, 60), (40, 70, 200)]


@pytest.fixture(scope="module")
def camera_browsers(playwright_instance, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cameras")
    browsers = []
    for number, colour in enumerate(CAMERA_COLOURS, start=1):
        y4m = write_y4m(Image.new("RGB", (WIDTH, HEIGHT), colour), folder / f"customer{number}.y4m")
        browsers.append(launch_browser(playwright_instance, [f"--use-file-for-fake-video-capture={y4m}"]))
    yield browsers
    for browser in browsers:
        browser.close()


def close_to(colour, expected, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


def connected_count(page) -> int:
    return page.evaluate("window.__pcs.filter((pc) => pc.connectionState === 'connected').length")


def test_three_customers_and_an_operator_each_with_their_own_verification(server, browser, camera_browsers):
    seed = server.seed(business="joint-account", multi_user=3)
    links = seed["multi_user"]["links"]
    operator = new_page(browser)
    operator_login(operator, server.base_urls[-1], seed["operator"]["username"], seed["operator"]["password"])

    customers = []
    for number, link in enumerate(links):
        page = new_page(camera_browsers[number], viewport={"width": 1100, "height": 760})
        customer_open_link_and_accept(page, link)
        customer_join(page)
        customers.append(page)
        if number == 0:
            # The queue shows who is in and who is missing.
            expect(operator.locator("#queue-body tr")).to_contain_text("1 of 3 ready")
            expect(page.locator("#waiting-others")).to_contain_text("Ben Schmidt")
        if number == 1:
            # Early joiners already see and hear each other while they wait.
            wait_decoding(customers[0])
            wait_decoding(customers[1])
    expect(operator.locator("#queue-body tr")).to_contain_text("3 of 3 ready")
    operator_answer_first(operator)
    for page in [operator, *customers]:
        wait_decoding(page, connections=3, timeout_ms=40_000)
        expect(page.locator(".tile.remote")).to_have_count(3)
    expect(customers[0].locator(".tile.remote.role-operator.connected")).to_have_count(1)
    screenshot(customers[0], "multi-user-customer")
    screenshot(operator, "multi-user-operator")

    # A prompt and a capture addressed to participant 2 only.
    operator.get_by_role("tab", name="Ben Schmidt").click()
    card = operator.locator(".participant-card:visible")
    expect(card.locator(".participant-name")).to_have_text("Ben Schmidt")
    card.get_by_role("button", name="Ask for front").click()
    expect(customers[1].locator("#prompt")).to_be_visible()
    expect(customers[0].locator("#prompt")).to_be_hidden()
    expect(customers[2].locator("#prompt")).to_be_hidden()
    card.get_by_role("button", name="Capture front").click()
    thumb = card.locator(".evidence-gallery img").first
    # The customer's page grabs and uploads the still (seen taking 5 s on a
    # loaded machine); a state push lost on the way is made good by the next
    # heartbeat (10 s): the bound is their sum, not a quiet machine's second.
    expect(thumb).to_be_visible(timeout=30_000)
    response = operator.request.get(server.base_urls[-1] + thumb.get_attribute("src"))
    image = Image.open(io.BytesIO(response.body()))
    assert close_to(mean_colour(image, (40, 40, WIDTH - 40, HEIGHT - 40)), CAMERA_COLOURS[1])
    for other in ["Anna Schmidt", "Clara Schmidt"]:
        operator.get_by_role("tab", name=other).click()
        expect(operator.locator(".participant-card:visible .evidence-gallery img")).to_have_count(0)

    # Participant 3 drops; the others go on undisturbed; they come back with their link.
    customers[2].context.close()
    for page in [operator, customers[0], customers[1]]:
        # At once when the goodbye arrives; if it is lost, presence expiry
        # (PRESENCE_TIMEOUT_SECONDS after the last heartbeat) is the bound.
        expect(page.locator(".tile.remote")).to_have_count(2, timeout=45_000)
    assert connected_count(customers[0]) >= 2  # to the operator and to participant 2
    rejoined = new_page(camera_browsers[2], viewport={"width": 1100, "height": 760})
    rejoined.goto(links[2])
    expect(rejoined.locator("#call-duration")).to_be_visible()  # straight back into the call
    customers[2] = rejoined
    for page in [operator, *customers]:
        expect(page.locator(".tile.remote")).to_have_count(3, timeout=30_000)
        wait_decoding(page, connections=3, timeout_ms=40_000)

    # A different decision for each participant; each customer sees only their own.
    decisions = [("Anna Schmidt", "Approved", "verified", True), ("Ben Schmidt", "Retry", "poor_lighting", True), ("Clara Schmidt", "Rejected", "face_mismatch", False)]
    for name, outcome, reason, share in decisions:
        operator.get_by_role("tab", name=name).click()
        card = operator.locator(".participant-card:visible")
        card.get_by_label(outcome).check()
        card.get_by_label("Reason").select_option(reason)
        if share:
            card.get_by_label("Share the result with the customer").check()
        card.get_by_role("button", name="Record decision").click()
        expect(card.locator(".decision-result")).to_be_visible()
    operator.get_by_role("button", name="End the call").click()
    operator.get_by_role("button", name="End call").click()
    expected_titles = ["Your identity has been verified", "We will contact you", "The call has ended"]  # Clara's result was not shared
    for page, title in zip(customers, expected_titles):
        expect(page.locator("#ended-panel")).to_be_visible()  # the hidden panel holds a default title
        expect(page.locator("#ended-title")).to_have_text(title)
    for page in [operator, *customers]:
        page.context.close()
