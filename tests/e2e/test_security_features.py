"""Document security features in real Chromium over real WebRTC (BaFin: three
features of different categories, chosen at random for the call, checked
while the customer tilts the document): approval is refused before; the
operator draws the features for the document shown, asks the customer to
tilt (the customer's frame says so), ticks three features, each bound to a
captured frame; the approval then goes through.

The steps are small functions of their own: a BaFin walk (the one-time code,
the features, then the approval) calls them in its order."""

import re

from playwright.sync_api import expect

from kyc.regulations import SECURITY_FEATURES
from tests.e2e.conftest import new_page
from tests.e2e.flows import (
    customer_join,
    customer_open_link_and_accept,
    operator_answer_first,
    operator_login,
    wait_decoding,
)
from tests.e2e.harness import screenshot

PHONE = {"width": 390, "height": 844}
# A still grabbed, encoded and uploaded by each page on a busy two-core box.
FRAME_TIMEOUT_MS = 30_000
TILT_TEXT = {"en": "Please tilt the document slowly towards you.", "de": "Bitte kippen Sie das Dokument langsam zu sich hin."}


def regulated_call(server, browser, *, business: str, rules=(SECURITY_FEATURES,), customer_locale=None, customer_viewport=None):
    """The operator in a call with Max under a workflow with ``rules`` (preset
    custom; security features minimum 3): (operator, customer, the operator's
    participant card)."""
    seed = server.seed(business=business, rules=rules, preset="custom")
    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser, locale=customer_locale, viewport=customer_viewport)
    link = seed["one_on_one"]["links"][0]
    if customer_locale == "de-DE":
        customer.goto(link)
        customer.get_by_role("checkbox").check()
        customer.get_by_role("button", name="Akzeptieren und fortfahren").click()
        expect(customer.get_by_role("button", name="Beitreten")).to_be_enabled()
        customer.get_by_role("button", name="Beitreten").click()
    else:
        customer_open_link_and_accept(customer, link)
        customer_join(customer)
    operator_answer_first(operator)
    expect(customer.locator("#connecting-panel")).to_be_hidden()
    wait_decoding(operator)
    return operator, customer, operator.locator(".participant-card:visible")


def operator_opens_document_step(card):
    card.locator(".step-button", has_text="Identity document").click()
    return card.get_by_role("region", name="Identity document step")


def operator_tries_to_approve(operator, card):
    """Approve with the reason "verified"; returns the toast (shown when refused)."""
    card.get_by_label("Approved").check()
    card.get_by_label("Reason").select_option("verified")
    card.get_by_role("button", name="Record decision").click()
    return operator.locator("#toast")


def approval_refused(operator, card, message: str):
    toast = operator_tries_to_approve(operator, card)
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(message)
    expect(card.locator(".decision-result")).to_have_count(0)


def operator_draws_security_features(step, *, document: str = "Identity card", count: int = 3):
    """The operator says which document the customer shows; the server draws ``count`` features."""
    features = step.locator(".security-features")
    features.get_by_label("Document the customer shows").select_option(label=document)
    features.get_by_role("button", name="Draw security features").click()
    expect(features.locator(".feature-list li")).to_have_count(count)
    # Each of a different category.
    categories = features.locator(".feature-list li .badge").all_inner_texts()
    assert len(set(categories)) == count, categories
    return features


def ticks_wait_for_the_tilt(features):
    expect(features.locator(".features-tilt")).to_contain_text("tick once their screen shows it")
    for button in features.get_by_role("button", name=re.compile(r"^Seen: tick ")).all():
        expect(button).to_be_disabled()


def operator_asks_to_tilt(features, customer, *, language: str = "en"):
    """The tilt prompt in the customer's frame, confirmed back to the operator."""
    features.get_by_role("button", name="Ask to tilt").click()
    expect(customer.locator("#prompt")).to_be_visible()
    expect(customer.locator("#prompt-text")).to_have_text(TILT_TEXT[language])
    expect(features.locator(".features-tilt")).to_have_text("The customer's screen shows the tilt prompt.")


def operator_ticks_features(features, *, count: int = 3):
    """Tick each feature in turn; each gets its captured frame and time in the call."""
    for number in range(count):
        item = features.locator(".feature-list li").nth(number)
        item.get_by_role("button", name=re.compile(r"^Seen: tick ")).click()
        expect(item.locator(".feature-done")).to_contain_text(re.compile(r"✓ Ticked \+\d\d:\d\d"), timeout=FRAME_TIMEOUT_MS)
        expect(item.locator("img.feature-frame")).to_have_count(1)
    expect(features.locator("h4 .badge")).to_have_text(f"{count} of {count} checked")


def operator_approves(operator, card):
    operator_tries_to_approve(operator, card)
    expect(card.locator(".decision-result")).to_contain_text("Decided: Approved · Identity verified")


def test_three_security_features_ticked_after_the_tilt_prompt_then_approval(server, browser):
    operator, customer, card = regulated_call(
        server, browser, business="security-features", customer_locale="de-DE", customer_viewport=PHONE
    )
    step = operator_opens_document_step(card)
    approval_refused(operator, card, "0 of 3 security features checked.")

    features = operator_draws_security_features(step)
    ticks_wait_for_the_tilt(features)
    screenshot(operator, "operator-security-features-drawn")

    operator_asks_to_tilt(features, customer, language="de")
    box = customer.locator("#prompt").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    screenshot(customer, "customer-tilt-prompt-phone-de")

    operator_ticks_features(features)
    # Each tick's frame is served to the operator.
    for src in features.locator("img.feature-frame").evaluate_all("(imgs) => imgs.map((img) => img.getAttribute('src'))"):
        response = operator.request.get(server.base_urls[0] + src)
        assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    operator.evaluate("() => document.querySelector('.participant-card:not([hidden]) .security-features').scrollIntoView()")
    screenshot(operator, "operator-security-features-ticked")

    operator_approves(operator, card)
    customer.context.close()
    operator.context.close()
