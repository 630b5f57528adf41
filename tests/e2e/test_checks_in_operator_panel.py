"""The automated checks during a real call: the customer's fake camera shows
a synthetic passport, the operator captures the document front, and the
operator's workflow panel shows the MRZ result (passed, with the document
number read) and the system recommendation while the call goes on. Then
the customer's face: Chromium's fake camera plays one file for the whole
browser process, so the customer opens their link again in a second
browser whose camera films them (the call moves to the newest window, as
it does when a customer switches devices), the operator captures the face,
and the panel shows the face matched with the passport's portrait."""

import datetime as dt
from pathlib import Path

import numpy as np
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

# The seeded customer is Max Mustermann (operators' seed_demo); his passport.
DOCUMENT_NUMBER = "C01X00T47"
# The OCR loads its models on the first capture of the server's life, then
# reads in about a second: generous for a loaded 2-core machine.
CHECK_TIMEOUT_MS = 60_000


def write_y4m(rgb: np.ndarray, path: Path) -> Path:
    """One 4:2:0 frame at the picture's own size (the fake camera's
    resolution), full-range YCbCr as C420jpeg says."""
    height, width = rgb.shape[:2]
    ycbcr = np.asarray(Image.fromarray(rgb).convert("YCbCr"))
    planes = [ycbcr[:, :, 0]]
    for channel in (1, 2):
        planes.append(ycbcr[:, :, channel].reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3)).astype(np.uint8))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        out.write(b"FRAME\n")
        out.write(b"".join(plane.tobytes() for plane in planes))
    return path


@pytest.fixture(scope="module")
def face_browser(playwright_instance, tmp_path_factory):
    """The same customer's second device: its camera films her face (the astronaut, 640×480)."""
    from tests.checks import testdata as td

    y4m = write_y4m(td.live_frame(td.astronaut(), seed=5), tmp_path_factory.mktemp("camera") / "face.y4m")
    browser = launch_browser(playwright_instance, [f"--use-file-for-fake-video-capture={y4m}"])
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def passport_browser(playwright_instance, tmp_path_factory):
    """The customer's browser: its camera films Max Mustermann's passport on a table (1280×720)."""
    from tests.checks import testdata as td

    today = dt.date.today()
    holder = td.DocumentHolder(
        surname="MUSTERMANN",
        given_names="MAX",
        document_number=DOCUMENT_NUMBER,
        nationality="D",
        birth_date=dt.date(1980, 5, 17),
        sex="M",
        expiry_date=today.replace(year=today.year + 5, day=min(today.day, 28)),
        optional_data="",
    )
    image, _ = td.document_capture(holder, "TD3", portrait=td.astronaut(), seed=3)
    y4m = write_y4m(image, tmp_path_factory.mktemp("camera") / "passport.y4m")
    browser = launch_browser(playwright_instance, [f"--use-file-for-fake-video-capture={y4m}"])
    yield browser
    browser.close()


def test_operator_sees_the_check_results_of_passport_and_face_during_the_call(
    server, browser, passport_browser, face_browser
):
    seed = server.seed(business="checks-panel")
    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    link = seed["one_on_one"]["links"][0]
    customer = new_page(passport_browser)
    customer_open_link_and_accept(customer, link)
    customer_join(customer)
    operator_answer_first(operator)
    wait_decoding(customer)
    card = operator.locator(".participant-card:visible")
    checks = card.locator(".checks-panel")
    expect(checks).to_contain_text("No check results yet.")

    operator.get_by_role("button", name="Capture front").click()
    expect(card.locator(".evidence-gallery img").first).to_be_visible()

    try:
        mrz = checks.locator(".check[data-kind=mrz]")
        expect(mrz).to_have_attribute("data-status", "passed", timeout=CHECK_TIMEOUT_MS)
        expect(mrz).to_contain_text("Document MRZ")
        expect(mrz).to_contain_text("Passed")
        expect(mrz.locator(".check-facts")).to_contain_text(DOCUMENT_NUMBER)
        expect(mrz.locator(".check-facts")).to_contain_text("MAX MUSTERMANN")
        expect(mrz.locator(".check-score")).to_contain_text("score 0.")
        # The customer's full-resolution still is good enough: no retake advice.
        quality = checks.locator(".check[data-kind=quality][data-source=customer_device]").filter(has_text="Document, front")
        expect(quality).to_have_attribute("data-status", "passed", timeout=CHECK_TIMEOUT_MS)
        # Advice, and failing closed: the face and the liveness are still to come.
        recommendation = checks.locator(".recommendation")
        expect(recommendation).to_contain_text("System recommendation (advice, you decide)")
        expect(recommendation.locator(".recommendation-decision")).to_have_text("Review")
        # Still in the call, and the decision is still the operator's.
        expect(operator.get_by_role("button", name="Capture front")).to_be_enabled()
        expect(card.locator(".decision form")).to_be_visible()

        # The face, from the customer's second device.
        face = new_page(face_browser)
        face.goto(link)
        expect(face.locator("#call-duration")).to_be_visible()
        wait_decoding(face)
        operator.locator(".participant-card:visible .step-button", has_text="Liveness").click()
        operator.get_by_role("button", name="Capture face").click()
        match = checks.locator(".check[data-kind=face_match]")
        expect(match).to_have_attribute("data-status", "passed", timeout=CHECK_TIMEOUT_MS)
        expect(match).to_contain_text("Face match")
        expect(match.locator(".check-facts")).to_contain_text("Distance")
        face_quality = checks.locator(".check[data-kind=quality][data-source=customer_device]").filter(has_text="Face")
        expect(face_quality).to_have_attribute("data-status", "passed", timeout=CHECK_TIMEOUT_MS)
        # The liveness challenge has not been done: still a review.
        expect(recommendation.locator(".recommendation-decision")).to_have_text("Review")
        expect(recommendation).to_contain_text("Liveness has no result")

        # Approving against that "Review" asks for a confirmation and a comment.
        override = card.locator(".override-confirm")
        expect(override).to_be_hidden()
        card.get_by_label("Approved").check()
        expect(override).to_be_visible()
        expect(override).to_contain_text("The system recommends “Review”. I decide against it")
        screenshot(operator, "decision-override-operator")
        # Without the confirmation and the comment the form does not submit.
        expect(card.locator(".decision form input[name=override]:invalid")).to_have_count(1)
        expect(card.locator(".decision form textarea[name=comment]:invalid")).to_have_count(1)
        card.get_by_role("button", name="Record decision").click()
        expect(card.locator(".decision form")).to_be_visible()
        override.get_by_role("checkbox").check()
        card.get_by_role("textbox", name="Comment").fill("Liveness seen live on the call; the challenge was not run.")
        card.get_by_role("button", name="Record decision").click()
        expect(card.locator(".decision-result")).to_have_text("Decided: Approved · Identity verified")
    finally:
        screenshot(operator, "checks-panel-operator")
