import json
import os
import shutil

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import ARTIFACTS, CHROMIUM, launch_browser, running_server

# Records every RTCPeerConnection and WebSocket a page makes, so a test can
# read getStats() and drop a socket the way a flaky network would. Test-only:
# the product exposes no hooks of its own.
INSTRUMENT = """
(() => {
  const NativePC = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new NativePC(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = NativePC.prototype;
  const NativeWS = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = function (...args) {
    const ws = new NativeWS(...args);
    // Open is not ready: the server accepts a socket before it has joined
    // the call's group, and a connect that fails there closes it again.
    // The welcome comes after the join.
    ws.__welcomed = false;
    ws.addEventListener("message", (event) => {
      if (ws.__welcomed) return;
      try {
        ws.__welcomed = JSON.parse(event.data).type === "welcome";
      } catch {}
    });
    window.__sockets.push(ws);
    return ws;
  };
  window.WebSocket.prototype = NativeWS.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
})();
"""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test shows the end of its server's log beside the
    assertion: what the server refused or raised is most of a diagnosis."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    server = item.funcargs.get("server")
    if server is not None:
        tail = "\n".join(server.logs().splitlines()[-120:])
        report.sections.append(("daphne log (last 120 lines)", tail))


@pytest.hookimpl(trylast=True)  # after pytest-django has grouped the tests by database use
def pytest_collection_modifyitems(config, items):
    # The browser tests run last: sync Playwright keeps an event loop running
    # in the main thread for the whole session, and an async test after it
    # cannot start its own ("Runner.run() cannot be called from a running
    # event loop").
    items.sort(key=lambda item: "tests/e2e/" in str(item.fspath))
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}")
        for item in items:
            if "tests/e2e/" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


# Capture integrity's false alarms: every customer page of the suite that
# reported its camera, read from each module's server before it stops.
# Modules that attack the camera on purpose say INTEGRITY_ATTACKS = True and
# are left out; the summary prints the count, the README quotes it.
INTEGRITY_CENSUS: list[dict] = []
CENSUS_CODE = """
import json
from sessions_app.integrity import integrity_panel_for_participant
from sessions_app.models import Participant
rows = []
for participant in Participant.objects.filter(audit_events__action="integrity.reported").distinct():
    reports = participant.audit_events.filter(action="integrity.reported")
    kinds = sorted({event.data.get("camera_kind") for event in reports if event.data.get("camera_kind")})
    panel = integrity_panel_for_participant(participant)
    rows.append({"camera_kinds": kinds, "level": panel["level"], "raised": panel["raised"],
                 "codes": [signal["code"] for signal in panel["signals"]]})
print(json.dumps(rows))
"""


def integrity_census(product) -> list[dict]:
    return json.loads(product.manage("shell", "-c", CENSUS_CODE).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def server(request):
    processes = int(os.environ.get("E2E_DAPHNE_PROCESSES", "1"))
    with running_server(processes) as product:
        yield product
        if not getattr(request.module, "INTEGRITY_ATTACKS", False):
            module = request.module.__name__.rsplit(".", 1)[-1]
            INTEGRITY_CENSUS.extend({**row, "module": module} for row in integrity_census(product))


def pytest_terminal_summary(terminalreporter):
    if not INTEGRITY_CENSUS:
        return
    # The browser's ordinary test camera (fake_device_N) is what a customer's
    # real camera stands in for; a file played as the camera is an injection
    # by construction (the checks' tests film a passport that way), counted
    # apart so it is not mistaken for a false alarm or hidden in one.
    ordinary = [row for row in INTEGRITY_CENSUS if "video_file" not in row["camera_kinds"]]
    from_file = [row for row in INTEGRITY_CENSUS if "video_file" in row["camera_kinds"]]
    raised = [row for row in ordinary if row["raised"]]
    summary = {
        "customer_pages": len(ordinary),
        "raised": len(raised),
        "raised_pages": raised,
        "levels": {level: sum(1 for row in ordinary if row["level"] == level) for level in ("none", "low", "elevated", "high")},
        "file_cameras": {"customer_pages": len(from_file), "raised": sum(1 for row in from_file if row["raised"])},
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "integrity-false-alarms.json").write_text(json.dumps(summary, indent=2))
    terminalreporter.write_line(
        f"capture integrity: {len(ordinary)} calls, {len(raised)} raised (false alarms); "
        f"levels {summary['levels']}; file-backed test cameras: {len(from_file)} calls, "
        f"{summary['file_cameras']['raised']} raised"
    )


@pytest.fixture(scope="module")
def browser(playwright_instance):
    browser = launch_browser(playwright_instance)
    yield browser
    browser.close()


# What a person would wait for, not what a quiet machine needs: on CI's two
# cores, busy with four Chromium processes and daphne, a camera can take
# seconds to start. Playwright's 5 s default made waits flaky, not stricter.
expect.set_options(timeout=15_000)


def new_page(browser, *, viewport=None, base_url=None, locale=None, bypass_csp=False):
    """A page in a context of its own. `locale` sets the browser's language
    (its Accept-Language); `bypass_csp` lets an accessibility audit inject
    axe-core past the pages' `script-src 'self'` (tests/e2e/accessibility.py)."""
    context = browser.new_context(
        viewport=viewport or {"width": 1280, "height": 800},
        permissions=["camera", "microphone"],
        base_url=base_url,
        locale=locale,
        bypass_csp=bypass_csp,
    )
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page
