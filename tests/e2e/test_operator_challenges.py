"""Operator challenges in real Chromium over real WebRTC: the operator presses
a challenge in the call's panel, the customer's frame shows the instruction
and "keep going" while their camera takes the burst, the burst appears in
the operator's panel, and the instruction the challenge interrupted (a
liveness action) is back on the customer's screen."""

import re

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
from workflows.challenges import CHALLENGE_BURST_FRAMES

PHONE = {"width": 390, "height": 844}
# A burst's frames grabbed, encoded and uploaded by a page sharing two cores with
# the operator's page and the server: seconds each when the machine is busy.
BURST_TIMEOUT_MS = 60_000


def call_with_liveness_running(
    server, browser, *, business: str, customer_locale=None, customer_viewport=None, operator_german=False
):
    """Alice in a call with Max, the liveness challenge started: (operator,
    customer, Alice's panel, the liveness instruction on Max's screen)."""
    seed = server.seed(business=business)
    operator = new_page(browser, locale="de-DE" if operator_german else None)
    if operator_german:
        operator.goto(f"{server.base_urls[0]}/console/login/")
        operator.get_by_label("Benutzername").fill(seed["operator"]["username"])
        operator.get_by_label("Passwort").fill(seed["operator"]["password"])
        operator.get_by_role("button", name="Anmelden").click()
        operator.get_by_label("Status").select_option("available")
    else:
        operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser, locale=customer_locale, viewport=customer_viewport)
    customer_open_link_and_accept_any_language(customer, seed["one_on_one"]["links"][0], german=customer_locale == "de-DE")
    if operator_german:
        operator.locator("#queue-body").get_by_role("button", name="Annehmen").first.click()
        operator.wait_for_url("**/console/calls/**")
    else:
        operator_answer_first(operator)
    expect(customer.locator("#connecting-panel")).to_be_hidden()
    wait_decoding(operator)
    card = operator.locator(".participant-card:visible")
    card.locator(".step-button", has_text="Lebendigkeit" if operator_german else "Liveness").click()
    card.get_by_role("button", name="Aufgabe starten" if operator_german else "Start challenge").click()
    expect(customer.locator("#prompt")).to_be_visible()
    instruction = customer.locator("#prompt-text")
    expect(instruction).not_to_have_text("")
    return operator, customer, card, instruction.inner_text()


def customer_open_link_and_accept_any_language(page, link: str, *, german: bool):
    if not german:
        customer_open_link_and_accept(page, link)
        customer_join(page)
        return
    page.goto(link)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Akzeptieren und fortfahren").click()
    expect(page.get_by_role("button", name="Beitreten")).to_be_enabled()
    page.get_by_role("button", name="Beitreten").click()
    expect(page.locator("#connecting-panel")).to_be_visible()


def test_cover_half_face_is_prompted_captured_and_the_liveness_action_comes_back(server, browser):
    operator, customer, card, liveness_instruction = call_with_liveness_running(
        server, browser, business="challenge-cover"
    )
    challenges = card.get_by_role("region", name="Challenges")
    expect(challenges.get_by_role("button")).to_have_count(3)
    cover = challenges.get_by_role("button", name="Ask the customer: Cover half your face")

    cover.click()

    expect(customer.locator("#prompt-text")).to_have_text("Cover half of your face with your hand.")
    notice = customer.locator("#prompt-burst")
    expect(notice).to_be_visible()
    expect(notice).to_have_text("Keep going: taking pictures…")
    # One burst at a time: the challenge buttons wait for this one.
    expect(cover).to_have_attribute("aria-disabled", "true")
    screenshot(customer, "customer-challenge-cover-half-face")
    screenshot(operator, "operator-challenge-asked")

    # The burst arrives in the operator's panel, named by the challenge.
    thumb = card.get_by_role("button", name="Enlarge: Challenge frame · Cover half your face")
    expect(thumb).to_be_visible(timeout=BURST_TIMEOUT_MS)
    # At the customer's camera's own resolution, like every capture.
    expect(card.locator(".evidence-gallery figcaption", has_text="Cover half your face")).to_have_text(
        re.compile(r"Challenge frame · Cover half your face · \d{3,4}×\d{3,4}")
    )
    image = thumb.locator("img")
    response = operator.request.get(server.base_urls[0] + image.get_attribute("src"))
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"

    # Max is back where he was once the whole burst is in: the liveness
    # action, not the challenge. (A loaded machine takes seconds per frame.)
    expect(customer.locator("#prompt-text")).to_have_text(liveness_instruction, timeout=BURST_TIMEOUT_MS)
    expect(notice).to_be_hidden()
    expect(cover).not_to_have_attribute("aria-disabled", "true")
    expect(card.locator(".challenge li.current")).to_have_count(1)
    expect(card.locator(".challenge li.done")).to_have_count(0)
    # The panel is redrawn on every state push: scroll by what is there now.
    operator.evaluate("() => document.querySelector('.participant-card:not([hidden]) .evidence-gallery').scrollIntoView()")
    screenshot(operator, "operator-challenge-burst-in-panel")

    # Enlarged, the burst shows the movement frame by frame, each with its time.
    thumb.click()
    dialog = operator.locator("#evidence-dialog")
    expect(dialog.locator("img")).to_have_count(CHALLENGE_BURST_FRAMES)
    expect(dialog.locator("figcaption").first).to_have_text(
        re.compile(rf"Frame 1 of {CHALLENGE_BURST_FRAMES} · \d{{1,2}}:\d\d:\d\d"))
    # Different pictures, each served to the operator.
    assert len(set(dialog.locator("img").evaluate_all("(imgs) => imgs.map((img) => img.src)"))) == CHALLENGE_BURST_FRAMES
    operator.wait_for_function(
        "() => [...document.querySelectorAll('#evidence-dialog img')].every((img) => img.complete && img.naturalWidth > 0)"
    )
    screenshot(operator, "operator-challenge-burst-enlarged")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    customer.context.close()
    operator.context.close()


def test_a_german_customer_on_a_phone_reads_the_challenge_in_german(server, browser):
    """Both in German: the operator's challenges group and the customer's frame."""
    operator, customer, card, liveness_instruction = call_with_liveness_running(
        server,
        browser,
        business="challenge-phone-de",
        customer_locale="de-DE",
        customer_viewport=PHONE,
        operator_german=True,
    )
    challenges = card.get_by_role("region", name="Kontrollaufgaben")
    expect(challenges.get_by_role("button")).to_have_text(
        ["Halbes Gesicht verdecken", "Hand über das Gesicht", "Dokumentkante zeigen"]
    )

    challenges.get_by_role("button", name="Kundin oder Kunde bitten: Hand über das Gesicht").click()

    prompt = customer.locator("#prompt")
    expect(customer.locator("#prompt-text")).to_have_text("Bitte führen Sie Ihre Hand langsam über Ihr Gesicht.")
    expect(customer.locator("#prompt-burst")).to_have_text("Weitermachen: Bilder werden aufgenommen…")
    box = prompt.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    screenshot(customer, "customer-challenge-phone-de")

    expect(
        card.get_by_role("button", name="Vergrößern: Einzelbild einer Kontrollaufgabe · Hand über das Gesicht")
    ).to_be_visible(timeout=BURST_TIMEOUT_MS)
    expect(customer.locator("#prompt-text")).to_have_text(liveness_instruction, timeout=BURST_TIMEOUT_MS)
    expect(customer.locator("#prompt-burst")).to_be_hidden()
    operator.evaluate("() => document.querySelector('.participant-card:not([hidden]) .challenges').scrollIntoView()")
    screenshot(operator, "operator-challenges-de")
    customer.context.close()
    operator.context.close()
