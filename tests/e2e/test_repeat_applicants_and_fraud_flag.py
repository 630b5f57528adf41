"""A repeat applicant and a fraud flag, through the real pages.

Max Mustermann verifies with business "repeat" once: the operator captures
his passport (the customer's fake camera films it) and his face (a second
browser of his, whose camera films him); the real checks read the MRZ and
describe the face. Later he comes back in a new session of the same
business, with the same passport and face: as soon as the checks of the
second session read them, the operator's panel says "Seen before: 1
session" with the first session, matched on the document number, the name
and birth date, and the face. The operator flags the session; compliance's
queue lists it as flagged, and the business's webhook receiver gets
``session.flagged``, signed.

Screenshots of the panel and the flag dialog (desktop, 390 px, German) go to
test-artifacts/ and /tmp/shots-f19-b/."""

import os
import re
import shutil
import time
import uuid
from pathlib import Path

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
from tests.e2e.harness import ARTIFACTS, running_server, screenshot
from tests.e2e.test_checks_in_operator_panel import (  # noqa: F401  (the two cameras, module fixtures)
    CHECK_TIMEOUT_MS,
    DOCUMENT_NUMBER,
    face_browser,
    passport_browser,
)
from tests.e2e.test_recording import staff_login
from tests.webhooks.conftest import Receiver

SHOTS = Path(os.environ.get("F19B_SHOTS", "/tmp/shots-f19-b"))


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def server(receiver):
    """The product, allowed to post webhooks to the receiver on this machine
    (as a developer sets it up: kyc/settings.py WEBHOOK_ALLOW_HTTP)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEBHOOK_ALLOW_HTTP", "true")
        patch.setenv("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32")
        with running_server(1) as product:
            yield product


def shot(page, name: str):
    screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTIFACTS / f"{name}.png", SHOTS / f"{name}.png")


def scroll_to_seen_before(page):
    # In one step: the panel is drawn anew on every state push, and a
    # locator's scroll can find its element replaced halfway.
    page.evaluate("document.querySelector('.participant-card:not([hidden]) .seen-before').scrollIntoView()")


def verify_in_a_call(operator, link, passport_browser, face_browser):
    """The customer joins from the passport camera, the operator captures the
    front, then the face from the customer's second device."""
    customer = new_page(passport_browser)
    customer_open_link_and_accept(customer, link)
    customer_join(customer)
    operator_answer_first(operator)
    wait_decoding(customer)
    card = operator.locator(".participant-card:visible")
    operator.get_by_role("button", name="Capture front").click()
    expect(card.locator(".check[data-kind=mrz]")).to_have_attribute("data-status", "passed", timeout=CHECK_TIMEOUT_MS)
    face = new_page(face_browser)
    face.goto(link)
    expect(face.locator("#call-duration")).to_be_visible()
    wait_decoding(face)
    operator.locator(".participant-card:visible .step-button", has_text="Liveness").click()
    operator.get_by_role("button", name="Capture face").click()
    expect(card.locator(".check[data-kind=face_match]")).to_have_attribute(
        "data-status", "passed", timeout=CHECK_TIMEOUT_MS
    )
    return card, [customer, face]


def end_call(operator, pages):
    operator.locator("#btn-end").click()
    operator.locator("#btn-end-confirm").click()
    expect(operator.locator("#ended-panel")).to_be_visible()
    for page in pages:
        page.context.close()


def test_repeat_applicant_is_seen_and_a_flag_reaches_compliance_and_the_webhook(
    server, browser, passport_browser, face_browser, receiver
):
    first = server.seed(business="repeat")
    second = server.seed(business="repeat")  # the same business, a new session for Max
    server.manage("shell", "-c", (
        "from accounts.models import Business; "
        f"Business.objects.filter(slug={first['business']!r}).update(webhook_url={receiver.url!r})"
    ))

    operator = new_page(browser)
    operator_login(operator, server.base_urls[0], first["operator"]["username"], first["operator"]["password"])
    card, pages = verify_in_a_call(operator, first["one_on_one"]["links"][0], passport_browser, face_browser)
    # Nobody seen before in the business's first session: quiet.
    expect(card.locator(".seen-before")).to_have_text("Not seen before.")
    end_call(operator, pages)

    operator.goto(f"{server.base_urls[0]}/console/")
    operator.get_by_label("Status").select_option("available")
    card, pages = verify_in_a_call(operator, second["one_on_one"]["links"][0], passport_browser, face_browser)
    seen = card.locator(".seen-before")
    expect(seen.locator(".seen-before-summary")).to_have_text("Seen before: 1 session.")
    [earlier] = seen.locator(".seen-before-sessions li").all()
    expect(earlier).to_have_attribute("data-session", first["one_on_one"]["session"])
    expect(earlier).to_contain_text("same document number, name and date of birth, face")
    expect(earlier).to_contain_text("No decision yet")
    expect(earlier.get_by_role("link")).to_have_attribute(
        "href", re.compile(r"^/admin/sessions_app/verificationsession/\d+/review/$")
    )
    shot(operator, "operator-seen-before-desktop")

    # The operator flags the session: a real dialog with a reason and a note.
    operator.get_by_role("button", name="Flag this session").click()
    dialog = operator.get_by_role("dialog", name="Flag this session for compliance")
    expect(dialog).to_be_visible()
    dialog.locator("select[name=reason]").select_option("second_face_or_voice")
    dialog.locator("textarea[name=note]").fill("Somebody off camera read out the answers.")
    shot(operator, "operator-flag-dialog-desktop")
    dialog.get_by_role("button", name="Flag session").click()
    expect(dialog).to_be_hidden()
    expect(operator.locator("#flag-status")).to_have_text("Flagged for compliance: A second face or voice.")

    operator.set_viewport_size({"width": 390, "height": 844})
    scroll_to_seen_before(operator)
    shot(operator, "operator-seen-before-phone")

    # The same panel in German: the operator opens the call in a German
    # browser (the call moves to the newest window) and ends it there.
    operator.context.close()
    german = new_page(browser, locale="de-DE")
    german.goto(f"{server.base_urls[0]}/console/login/")
    german.locator("input[name=username]").fill(first["operator"]["username"])
    german.locator("input[name=password]").fill(first["operator"]["password"])
    german.locator("form button[type=submit]").click()
    expect(german.locator("#queue-title")).to_be_visible()
    german.goto(f"{server.base_urls[0]}/console/calls/{second['one_on_one']['session']}/")
    expect(german.locator(".seen-before-summary")).to_have_text("Schon gesehen: 1 Sitzung.")
    expect(german.locator(".seen-before-sessions li").first).to_contain_text(
        "Übereinstimmung bei Dokumentnummer, Name und Geburtsdatum, Gesicht"
    )
    shot(german, "operator-seen-before-german")
    german.get_by_role("button", name="Diese Sitzung melden").click()
    expect(german.get_by_role("dialog")).to_be_visible()
    shot(german, "operator-flag-dialog-german")
    german.keyboard.press("Escape")
    german.set_viewport_size({"width": 390, "height": 844})
    scroll_to_seen_before(german)
    shot(german, "operator-seen-before-german-phone")
    german.set_viewport_size({"width": 1280, "height": 800})
    end_call(german, pages)
    german.context.close()

    # Compliance's queue: the flagged session, with its badge.
    compliance = new_page(browser)
    staff_login(compliance, server.base_urls[0], first["compliance"]["username"], first["compliance"]["password"])
    compliance.goto(f"{server.base_urls[0]}/admin/sessions_app/verificationsession/?flagged=open")
    rows = compliance.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(str(uuid.UUID(second["one_on_one"]["session"])))
    expect(rows.first.locator(".badge.flagged")).to_have_text("Flagged")
    shot(compliance, "compliance-flagged-queue")
    rows.first.get_by_role("link", name="Review").click()
    expect(compliance.locator("body")).to_contain_text("Seen before: 1 session, 0 rejected.")
    expect(compliance.locator("body")).to_contain_text("A second face or voice")
    shot(compliance, "compliance-review-seen-before")

    # The business's webhook: session.flagged, with the flag and no note.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "session.flagged" not in receiver.types():
        time.sleep(0.5)
    flagged = [request for request in receiver.received if request.json["type"] == "session.flagged"]
    assert len(flagged) == 1, receiver.types()
    body = flagged[0].json
    assert body["data"]["session"]["id"] == str(uuid.UUID(second["one_on_one"]["session"]))
    assert body["data"]["flag"]["reason"] == "second_face_or_voice"
    assert "off camera" not in flagged[0].body.decode()
    assert flagged[0].headers["webhook-signature"].startswith("v1,")
    assert DOCUMENT_NUMBER not in flagged[0].body.decode()
