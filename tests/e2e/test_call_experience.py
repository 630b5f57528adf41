"""What the operator and the customer see of the call itself, in real
Chromium: the whole frame of every customer, a clean ending on both sides,
a waiting view that follows the operators, and the call's controls."""

import re

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
from tests.e2e.harness import launch_browser

OPERATOR_VIEWPORT = {"width": 1440, "height": 900}
# Six engineers' browsers share two cores here: a navigation can take a minute.
SLOW_MACHINE_TIMEOUT_MS = 90_000


def page_for(browser, **kwargs):
    page = new_page(browser, **kwargs)
    page.set_default_timeout(SLOW_MACHINE_TIMEOUT_MS)
    return page

# Per remote tile: the element boxes, the picture's own size and how it is fitted.
TILE_GEOMETRY_JS = """
() => [...document.querySelectorAll('.tile.remote')].map((tile) => {
  const video = tile.querySelector('video');
  const box = (el) => { const r = el.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  return {
    peer: tile.dataset.peerId, featured: tile.classList.contains('featured'),
    tile: box(tile), video: box(video), fit: getComputedStyle(video).objectFit,
    videoWidth: video.videoWidth, videoHeight: video.videoHeight,
  };
})
"""

INBOUND_WIDTHS_JS = """
async () => {
  const widths = [];
  for (const pc of window.__pcs) {
    if (pc.connectionState !== 'connected') continue;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video' && s.frameWidth) widths.push(s.frameWidth);
    });
  }
  return widths;
}
"""


def rect(page, selector):
    return page.evaluate(
        "(s) => { const r = document.querySelector(s).getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; }",
        selector,
    )


def intersects(a, b) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def two_customers_in_call(server, browser, business):
    """An operator at 1440 px answering a multi-user session of two customers."""
    seed = server.seed(business=business, multi_user=2)
    operator = page_for(browser, viewport=OPERATOR_VIEWPORT)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customers = []
    for link in seed["multi_user"]["links"]:
        page = page_for(browser, viewport={"width": 1280, "height": 800})
        customer_open_link_and_accept(page, link)
        customer_join(page)
        customers.append(page)
    expect(operator.locator("#queue-body tr")).to_contain_text("2 of 2 ready")
    operator_answer_first(operator)
    for page in [operator, *customers]:
        wait_decoding(page, connections=2, timeout_ms=40_000)
    return seed, operator, customers


def test_operator_sees_each_customers_whole_frame_at_the_cameras_resolution(server, browser):
    seed, operator, customers = two_customers_in_call(server, browser, "whole-frame")
    expect(operator.locator(".tile.remote")).to_have_count(2)
    operator.wait_for_function(
        "() => [...document.querySelectorAll('.tile.remote video')].every((v) => v.videoWidth > 0)"
    )
    tiles = operator.evaluate(TILE_GEOMETRY_JS)
    for tile in tiles:
        # Letterboxed: the element fills its tile (nothing clipped by the
        # tile), and the picture is fitted inside it whole.
        assert tile["fit"] == "contain", tile
        assert abs(tile["video"]["w"] - tile["tile"]["w"]) < 1 and abs(tile["video"]["h"] - tile["tile"]["h"]) < 1, tile
        scale = min(tile["video"]["w"] / tile["videoWidth"], tile["video"]["h"] / tile["videoHeight"])
        assert tile["videoWidth"] * scale <= tile["video"]["w"] + 0.5
        assert tile["videoHeight"] * scale <= tile["video"]["h"] + 0.5
    # The addressed customer (the selected tab) gets the most room.
    featured = [t for t in tiles if t["featured"]]
    others = [t for t in tiles if not t["featured"]]
    assert len(featured) == 1 and len(others) == 1
    area = lambda t: t["tile"]["w"] * t["tile"]["h"]  # noqa: E731
    assert area(featured[0]) > 4 * area(others[0])
    active = operator.locator("#participant-tabs [aria-selected=true]").get_attribute("id").removeprefix("tab-")
    assert featured[0]["peer"] == active
    # Choosing the other customer's tab makes their tile the large one.
    operator.locator("#participant-tabs [aria-selected=false]").first.click()
    expect(operator.locator(f'.tile.remote[data-peer-id="{others[0]["peer"]}"]')).to_have_class(re.compile(r"\bfeatured\b"))
    # The operator's own view never covers a customer.
    self_view = rect(operator, "#local-tile")
    for tile in operator.evaluate(TILE_GEOMETRY_JS):
        assert not intersects(self_view, tile["tile"]), (self_view, tile)
    # The fake camera gives 1280×720: the operator receives it at (near)
    # that resolution, not Chromium's downscaled loopback default.
    operator.wait_for_function(
        f"async () => {{ const w = await ({INBOUND_WIDTHS_JS})(); return w.length >= 2 && w.every((x) => x >= 640); }}",
        timeout=30_000,
    )
    for page in [operator, *customers]:
        page.context.close()


# Every camera and microphone track a page opened (test-only, like INSTRUMENT).
RECORD_TRACKS = """
(() => {
  window.__tracks = [];
  const native = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (...args) => {
    const stream = await native(...args);
    window.__tracks.push(...stream.getTracks());
    return stream;
  };
})();
"""
LIVE_TRACKS_JS = "() => window.__tracks.filter((t) => t.readyState !== 'ended').length"


def one_customer_in_call(server, browser, business):
    seed = server.seed(business=business)
    operator = page_for(browser, viewport=OPERATOR_VIEWPORT)
    operator.context.add_init_script(RECORD_TRACKS)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = page_for(browser, viewport={"width": 390, "height": 844})
    customer.context.add_init_script(RECORD_TRACKS)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    operator_answer_first(operator)
    wait_decoding(customer)
    wait_decoding(operator)
    return seed, operator, customer


def test_after_end_both_sides_see_a_clean_end_screen_also_after_a_reload(server, browser):
    seed, operator, customer = one_customer_in_call(server, browser, "clean-ending")
    expect(operator.locator("#recording-badge")).to_be_visible()
    expect(customer.locator("#recording-badge")).to_be_visible()
    # Every text the operator's recording status shows, in order.
    operator.evaluate(
        """() => { window.__statusTexts = []; const status = document.getElementById('recording-status');
        new MutationObserver(() => window.__statusTexts.push(status.textContent))
          .observe(status, { childList: true, characterData: true, subtree: true }); }"""
    )
    operator.get_by_role("button", name="End the call").click()
    operator.get_by_role("button", name="End call").click()

    for page in (operator, customer):
        expect(page.locator("#ended-panel")).to_be_visible()
        expect(page.locator("#recording-badge")).to_be_hidden()
        expect(page.locator(".tile.remote")).to_have_count(0)
        expect(page.locator("#local-tile")).to_be_hidden()
        expect(page.locator("#btn-devices")).to_be_hidden()
        page.wait_for_function(LIVE_TRACKS_JS + " === 0")
        assert page.evaluate("window.__tracks.length") >= 2  # the camera and microphone were opened, then stopped
    # The operator's page: no live figures, no clock (neither running nor frozen).
    expect(operator.locator("#connection-badge")).to_have_text("")
    expect(operator.locator("#quality")).to_be_hidden()
    for page in (operator, customer):
        expect(page.locator("#call-duration")).to_be_hidden()
    # Free at once: back to the queue while the server composes the recording
    # (a background thread in embedded mode), its progress on screen.
    expect(operator.get_by_role("link", name="Back to the queue")).to_be_visible()
    # While the server composes: the page says so, and how far it has got.
    composing = re.compile(r"you can take the next call|Composing the recording… \d+ %")
    expect(operator.locator("#recording-status")).to_have_text(composing, timeout=60_000)
    queue = operator.context.new_page()
    queue.goto(f"{server.base_urls[0]}/console/")
    expect(queue.locator("#queue-title")).to_be_visible()
    queue.close()
    expect(operator.locator("#recording-status")).to_have_text("The recording is ready.", timeout=180_000)
    shown = operator.evaluate("window.__statusTexts")
    assert shown.index("The recording is ready.") > 0 and any(composing.search(text) for text in shown), shown

    # The customer reads that the call ended and what happens next, and the
    # same after a reload: no black page with a stray "You".
    ended_title = customer.locator("#ended-title")
    expect(ended_title).to_have_text("The call has ended")
    expect(customer.locator("#ended-text")).to_contain_text("will let you know the result")
    customer.reload()
    expect(customer.locator("#ended-panel")).to_be_visible()
    expect(ended_title).to_have_text("The call has ended")
    expect(customer.locator("#local-tile")).to_be_hidden()
    expect(customer.locator("#btn-fullscreen")).to_be_hidden()
    expect(customer.locator("#recording-badge")).to_be_hidden()
    assert customer.evaluate(LIVE_TRACKS_JS) == 0
    operator.reload()
    expect(operator.locator("#ended-panel")).to_be_visible()
    expect(operator.locator("#recording-status")).to_have_text("The recording is ready.")
    for page in (operator, customer):
        page.context.close()


def test_waiting_customer_follows_the_operators_presence_without_a_reload(server, browser):
    seed = server.seed(business="presence-live")
    customer = page_for(browser, viewport={"width": 390, "height": 844})
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    # Nobody can answer: the page says so, and nothing contradicts it.
    expect(customer.locator("#connecting-title")).to_have_text("No operator is free right now")
    expect(customer.locator("#no-operator")).to_be_visible()
    expect(customer.locator("#queue-info")).to_have_text("You are number 1 in the queue.")
    navigations = []
    customer.on("framenavigated", lambda frame: navigations.append(frame.url))

    # The operator signs in, and does nothing else: signed in to take calls
    # means available.
    operator = page_for(browser, viewport=OPERATOR_VIEWPORT)
    operator.goto(f"{server.base_urls[0]}/console/login/")
    operator.get_by_label("Username").fill(seed["operator"]["username"])
    operator.get_by_label("Password").fill(seed["operator"]["password"])
    operator.get_by_role("button", name="Sign in").click()
    expect(operator.get_by_label("Status")).to_have_value("available")
    # The waiting customer's page follows within seconds, by a push.
    expect(customer.locator("#connecting-title")).to_have_text("Connecting you to an operator…", timeout=10_000)
    expect(customer.locator("#no-operator")).to_be_hidden()
    expect(customer.locator("#queue-info")).to_contain_text("You are number 1 in the queue.")
    # Away again (once the console's queue socket is open): the customer reads it too.
    expect(operator.locator("#queue-status")).not_to_have_text("Connecting…")
    operator.get_by_label("Status").select_option("away")
    expect(customer.locator("#no-operator")).to_be_visible(timeout=10_000)
    assert navigations == []
    for page in (operator, customer):
        page.context.close()


# Three calls of the business ended today, each answered four minutes
# before it ended: enough history (QUEUE_ESTIMATE_MIN_CALLS) for a median.
CALL_HISTORY = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import Business
from sessions_app.models import VerificationSession
business = Business.objects.get(slug={slug!r})
workflow = business.workflows.first()
now = timezone.now()
for minutes_ago in (30, 60, 90):
    ended = now - timedelta(minutes=minutes_ago)
    VerificationSession.objects.create(
        business=business, workflow=workflow, state="completed", answered_at=ended - timedelta(minutes=4), ended_at=ended
    )
"""


def test_the_waiting_customers_read_their_estimated_wait_from_recent_calls(server, browser):
    seed = server.seed(business="estimate-live")
    server.manage("shell", "-c", CALL_HISTORY.format(slug="estimate-live"))
    operator = page_for(browser, viewport=OPERATOR_VIEWPORT)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    first = page_for(browser, viewport={"width": 390, "height": 844})
    customer_open_link_and_accept(first, seed["one_on_one"]["links"][0])
    customer_join(first)
    expect(first.locator("#queue-info")).to_have_text("You are number 1 in the queue. You are next.")
    # The second in the queue waits one call of the median length (4 minutes) with one operator available.
    second = page_for(browser)
    customer_open_link_and_accept(second, seed["multi_user"]["links"][0])
    customer_join(second)
    expect(second.locator("#queue-info")).to_have_text("You are number 2 in the queue. Estimated wait: about 4 min.")
    # With nobody available there is no honest figure: the page says so instead.
    operator.get_by_label("Status").select_option("away")
    expect(second.locator("#queue-info")).to_have_text("You are number 2 in the queue.")
    expect(second.locator("#no-operator")).to_be_visible()
    for page in (operator, first, second):
        page.context.close()


@pytest.fixture(scope="module")
def two_camera_browser(playwright_instance):
    """Chromium with two fake cameras: neither reports facingMode, like most
    desktop webcams (BROWSER_TESTING.md)."""
    browser = launch_browser(playwright_instance, ["--use-fake-device-for-media-stream=device-count=2"])
    yield browser
    browser.close()


CAMERA_ID_JS = "() => document.getElementById('local-video').srcObject.getVideoTracks()[0].getSettings().deviceId"
# The camera each of the page's connections sends (the harness keeps them in window.__pcs).
SENT_CAMERA_ID_JS = """() => window.__pcs.filter((pc) => pc.connectionState !== 'closed').flatMap((pc) => pc.getSenders())
  .filter((sender) => sender.track && sender.track.kind === 'video').map((sender) => sender.track.getSettings().deviceId)"""


def test_controls_switch_cameras_join_from_the_panel_and_the_operator_rejoins(server, browser, two_camera_browser):
    seed = server.seed(business="controls")
    operator = page_for(browser, viewport=OPERATOR_VIEWPORT)
    operator_login(operator, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    customer = page_for(two_camera_browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    # Join sits in the bottom panel, beside Audio, Video, Flip and Switch.
    join = customer.locator(".bottom-panel").get_by_role("button", name="Join")
    expect(join).to_be_enabled()
    # Switch cycles through the cameras when there is no front or back.
    first_camera = customer.evaluate(CAMERA_ID_JS)
    switch = customer.locator("#btn-switch")
    expect(switch).to_be_visible()
    switch.click()
    customer.wait_for_function(f"() => ({CAMERA_ID_JS})() !== {first_camera!r}")
    second_camera = customer.evaluate(CAMERA_ID_JS)
    switch.click()
    customer.wait_for_function(f"() => ({CAMERA_ID_JS})() !== {second_camera!r}")
    assert customer.evaluate(CAMERA_ID_JS) == first_camera  # and round again
    # The full-screen control says what it does now.
    customer.locator("#btn-fullscreen").click()
    expect(customer.locator("#btn-fullscreen")).to_have_text("Exit full screen")
    customer.locator("#btn-fullscreen").click()
    expect(customer.locator("#btn-fullscreen")).to_have_text("Full screen")

    join.click()
    expect(join).to_be_hidden()
    operator_answer_first(operator)
    wait_decoding(customer)
    # During the call too: the operator receives the other camera (what the
    # customer's connection sends, not only the preview, changes).
    assert customer.evaluate(SENT_CAMERA_ID_JS) == [first_camera]
    switch.click()
    customer.wait_for_function(f"() => ({CAMERA_ID_JS})() !== {first_camera!r}")
    customer.wait_for_function(f"() => ({SENT_CAMERA_ID_JS})().every((id) => id === ({CAMERA_ID_JS})())")
    assert customer.evaluate(SENT_CAMERA_ID_JS) == [second_camera]

    # The operator's browser is lost; in a new one the console leads back in.
    operator.context.close()
    again = page_for(browser, viewport=OPERATOR_VIEWPORT)
    operator_login(again, server.base_urls[0], seed["operator"]["username"], seed["operator"]["password"])
    history = again.locator(".history-table tbody tr").first
    expect(history).to_contain_text("In call")
    history.get_by_role("link", name="Rejoin").click()
    again.wait_for_url("**/console/calls/**")
    wait_decoding(again)
    wait_decoding(customer)
    for page in (again, customer):
        page.context.close()
