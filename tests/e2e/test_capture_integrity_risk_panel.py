"""The operator's capture-integrity risk panel in real Chromium: a customer
whose camera is replaced by a canvas stream, one whose getUserMedia a script
wrapped, and one whose camera is named like a virtual camera each raise it
with the reason in words; a customer with the browser's ordinary test camera
does not (its machine-regular timing is noted, never a warning on its own).

The virtual-camera name comes from Chromium itself: its file-backed fake
camera (--use-file-for-fake-video-capture) is labelled with the file's path,
so a file named "OBS-Virtual-Camera.y4m" gives a camera whose label the page
reads as "/…/OBS-Virtual-Camera.y4m", as OBS's own driver would say "OBS
Virtual Camera". Nothing in the page is patched for that case."""

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import one_on_one_call
from tests.e2e.harness import launch_browser, screenshot
from tests.e2e.media import moving_scene, write_y4m

# This module attacks on purpose: left out of the suite's false-alarm count
# (tests/e2e/conftest.py).
INTEGRITY_ATTACKS = True

# The customer's camera is swapped for a canvas the page's script paints,
# as a face-swap injector hands the call its own frames. The microphone is
# the real one.
CANVAS_CAMERA = """
(() => {
  const native = MediaDevices.prototype.getUserMedia;
  MediaDevices.prototype.getUserMedia = async function (constraints) {
    const stream = await native.call(this, constraints);
    if (!constraints || !constraints.video) return stream;
    const canvas = document.createElement("canvas");
    canvas.width = 640;
    canvas.height = 480;
    const context = canvas.getContext("2d");
    let n = 0;
    setInterval(() => {
      context.fillStyle = `hsl(${(n += 3) % 360}, 60%, 50%)`;
      context.fillRect(0, 0, 640, 480);
    }, 40);
    const injected = canvas.captureStream(25);
    for (const track of stream.getVideoTracks()) track.stop();
    for (const track of stream.getAudioTracks()) injected.addTrack(track);
    return injected;
  };
})();
"""

# getUserMedia wrapped by a script that still returns the real camera: what
# an injection kit does before it starts swapping frames.
WRAPPED_GET_USER_MEDIA = """
(() => {
  const native = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => native(constraints);
})();
"""


@pytest.fixture(scope="module")
def virtual_camera_browser(playwright_instance, tmp_path_factory):
    """A browser whose one camera is labelled like OBS's virtual camera."""
    y4m = write_y4m(moving_scene((640, 480), frames=10), tmp_path_factory.mktemp("camera") / "OBS-Virtual-Camera.y4m")
    browser = launch_browser(playwright_instance, [f"--use-file-for-fake-video-capture={y4m}"])
    yield browser
    browser.close()


def call_with(server, customer_browser, operator_browser, *, business, customer_script=None):
    """A call in progress: (operator page, customer page, the operator's panel)."""
    operator, customer = one_on_one_call(
        server, operator_browser, customer_browser, business=business, customer_script=customer_script
    )
    return operator, customer, operator.locator(".participant-card:visible .integrity-panel")


def reasons(panel):
    return panel.locator(".integrity-reason-label")


def test_a_camera_replaced_by_a_canvas_stream_raises_the_panel(server, browser):
    operator, customer, panel = call_with(server, browser, browser, business="integrity-canvas", customer_script=CANVAS_CAMERA)

    expect(panel).to_have_attribute("data-raised", "true")
    expect(panel.locator(".integrity-status")).to_contain_text("High risk")
    # Both signs, each on its own: the track is a canvas's, and the page's
    # getUserMedia is not the browser's.
    expect(reasons(panel)).to_contain_text(["The video is made by the page, not by a camera"])
    expect(panel).to_contain_text("The page's camera functions were replaced")
    expect(panel).to_contain_text("Replaced: getUserMedia.")
    expect(panel.locator('[data-code="synthetic_track"] .badge')).to_have_text("strong sign")
    # It says what to ask, and the challenges' buttons say it too.
    expect(panel.locator(".integrity-suggested")).to_have_text("Suggested challenges: Cover half your face, Hand across the face.")
    challenges = operator.locator(".participant-card:visible .challenges")
    expect(challenges.locator("button.suggested")).to_have_count(2)
    expect(challenges.locator('button[data-challenge="cover_half_face"]')).to_contain_text("Suggested")
    expect(challenges.locator('button[data-challenge="document_edge_on"]')).not_to_contain_text("Suggested")
    # Kept, not only pushed: the console reloaded shows the same.
    operator.reload()
    panel = operator.locator(".participant-card:visible .integrity-panel")
    expect(panel).to_have_attribute("data-raised", "true")
    expect(panel).to_contain_text("The video is made by the page, not by a camera")
    screenshot(operator, "operator-capture-integrity-canvas-raised", full_page=True)
    customer.context.close()
    operator.context.close()


def test_a_wrapped_get_user_media_raises_the_panel_with_the_real_camera(server, browser):
    operator, customer, panel = call_with(
        server, browser, browser, business="integrity-wrapped", customer_script=WRAPPED_GET_USER_MEDIA
    )

    expect(panel).to_have_attribute("data-raised", "true")
    expect(panel).to_contain_text("The page's camera functions were replaced")
    expect(panel).to_contain_text("Replaced: getUserMedia.")
    expect(panel.locator(".integrity-status")).to_contain_text("Elevated risk")
    # The picture itself still comes from the camera device.
    expect(panel.locator('[data-code="synthetic_track"]')).to_have_count(0)
    customer.context.close()
    operator.context.close()


def test_a_camera_named_like_a_virtual_camera_raises_the_panel(server, browser, virtual_camera_browser):
    operator, customer, panel = call_with(server, virtual_camera_browser, browser, business="integrity-virtual")

    expect(panel).to_have_attribute("data-raised", "true")
    expect(panel).to_contain_text("The camera is named like a virtual camera")
    expect(panel).to_contain_text("Named: OBS Virtual Camera.")
    expect(panel.locator('[data-code="api_replaced"]')).to_have_count(0)
    expect(panel.locator('[data-code="synthetic_track"]')).to_have_count(0)
    # The raw label (a file path here, a person's device name elsewhere) is
    # never shown, nor sent to the console.
    expect(operator.locator("body")).not_to_contain_text("OBS-Virtual-Camera.y4m")
    operator.set_viewport_size({"width": 390, "height": 844})
    # A full-page picture needs no scrolling; scrolling to the panel could
    # race a state push that draws the panel again (seen on two daphne
    # processes: "not attached to the DOM").
    screenshot(operator, "operator-capture-integrity-virtual-camera-phone", full_page=True)
    customer.context.close()
    operator.context.close()


def test_the_browsers_ordinary_test_camera_raises_nothing(server, browser):
    operator, customer, panel = call_with(server, browser, browser, business="integrity-normal")
    # The call's own report comes a few seconds into the call (it measures
    # frame timing first): wait for it to be stored, then look.
    expect(panel.locator('[data-code="browser_test_camera"]')).to_have_count(1)
    customer.wait_for_timeout(4000)

    expect(panel).to_have_attribute("data-raised", "false")
    expect(panel.locator(".integrity-status")).to_have_text("No warning signs")
    expect(panel.locator(".integrity-suggested")).to_have_count(0)
    expect(operator.locator(".participant-card:visible .challenges button")).to_have_count(3)
    expect(operator.locator(".participant-card:visible .challenges button.suggested")).to_have_count(0)
    for code in ("synthetic_track", "api_replaced", "virtual_camera_name", "video_file_camera"):
        expect(panel.locator(f'[data-code="{code}"]')).to_have_count(0)
    screenshot(operator, "operator-capture-integrity-none", full_page=True)
    customer.context.close()
    operator.context.close()
