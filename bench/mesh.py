"""Mesh: a four-way call (three customers and the operator) in headless
Chromium, beside the same four pages meshed through a bare relay.

Ours: a multi-user session of three. Customers 1 and 2 join, the operator
answers, and the three mesh (each decoding the others); then customer 3,
camera already on from the device check, clicks Join. t0 is that click; the
figure is the time until every one of the six connections decodes video on
both ends (each page has three decoding connections), and until all are
connected. Then the browser's CPU and memory with the four-way call running.

Floor: four tiny pages on the bare relay (bench/floor_relay.py) in the same
four browser contexts, joining in the same order (1, 2, the operator, then 3,
whose camera is on before t0).

    python -m bench.mesh [--runs 3]
"""

import argparse
import statistics
import time

from bench.common import (
    BENCH_STATE_JS,
    FIGURE_HEADERS,
    bench_server,
    browser_usage,
    compare,
    figure_row,
    launch_browser,
    load_snapshot,
    machine_info,
    new_bench_context,
    provision_links,
    table,
    write_results,
)
from bench.floor_relay import FloorRelay

NAME = "mesh"
BUSINESS = "bench-mesh"
TARGET_RATIO = 1.5
PEERS = 3  # connections each page has in a four-way mesh

CLICK_JOIN_JS = """
() => {
  const t0 = performance.timeOrigin + performance.now();
  document.querySelector('#btn-join').click();
  return t0;
}
"""


# Experiments for finding what delays a new connection's first frame: each
# switches one thing off in every page of both sides (`--without tune`...).
EXPERIMENTS = {
    # The call engine's setParameters on connect (bitrate, scale, degradation preference).
    "tune": "RTCRtpSender.prototype.setParameters = function () { return Promise.resolve(); };",
    # The operator page's MediaRecorder per stream.
    "recorder": "window.MediaRecorder = undefined;",
    # Played remote audio: every remote element muted.
    "audio": "HTMLMediaElement.prototype.play = function () { this.muted = true; return Promise.resolve(); };",
}


def _decoding(count: int) -> str:
    return f"() => window.__bench.pcs.filter((pc) => !pc.closed && pc.decoded !== null).length >= {count}"


def _connected(count: int) -> str:
    return f"() => window.__bench.pcs.filter((pc) => !pc.closed && pc.connected !== null).length >= {count}"


def _timeline(t0: float, states: list[dict]) -> list:
    """Per page, ms from t0: when its socket opened, and each connection's
    creation, connection and first decoded frame (for reading a slow run)."""
    def rel(value):
        return round(value - t0) if value is not None else None

    return [
        {
            "socket_open": [rel(s["open"]) for s in state["sockets"] if "/ws/call/" in s["url"]],
            "pcs": [[rel(p["created"]), rel(p["connected"]), rel(p["decoded"])] for p in state["pcs"] if not p["closed"]],
        }
        for state in states
    ]


def _mesh_times(t0: float, states: list[dict]) -> dict:
    decoded, connected, first_frame = [], [], []
    for state in states:
        pcs = [pc for pc in state["pcs"] if not pc["closed"]]
        decoded += [pc["decoded"] for pc in pcs if pc["decoded"] is not None]
        connected += [pc["connected"] for pc in pcs if pc["connected"] is not None]
        # The connections the last Join made: from connected to the first
        # decoded frame, the wait the issue is about.
        first_frame += [(pc["decoded"] - pc["connected"]) / 1000 for pc in pcs
                        if pc["created"] >= t0 and pc["decoded"] is not None and pc["connected"] is not None]
    return {"decoded_s": (max(decoded) - t0) / 1000, "connected_s": (max(connected) - t0) / 1000,
            "connected_to_decoded_s": statistics.median(first_frame) if first_frame else None,
            "connected_to_decoded_max_s": max(first_frame) if first_frame else None,
            "timeline_ms": _timeline(t0, states)}


def _customer_ready(page, link: str):
    page.goto(link)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Accept and continue").click()
    page.get_by_role("button", name="Join").wait_for()
    page.wait_for_function("() => !document.querySelector('#btn-join').disabled")


class Bench:
    def __init__(self, browser, server, relay, seed, usage_window_s: float):
        self.browser, self.server, self.relay = browser, server, relay
        self.usage_window_s = usage_window_s
        self.base = server.base_urls[0]
        self.operator_context = new_bench_context(browser, base_url=self.base)
        self.console = self.operator_context.new_page()
        self.console.goto(f"{self.base}/console/login/")
        self.console.get_by_label("Username").fill(seed["operator"]["username"])
        self.console.get_by_label("Password").fill(seed["operator"]["password"])
        self.console.get_by_role("button", name="Sign in").click()
        self.console.locator("#queue-title").wait_for()
        self.console.get_by_label("Status").select_option("available")
        self.room = 0

    def ours(self, contexts, links: list[str]) -> dict:
        pages = [context.new_page() for context in contexts]
        for page, link in zip(pages[:2], links[:2]):
            _customer_ready(page, link)
            page.get_by_role("button", name="Join").click()
            page.wait_for_function("() => window.__bench.sockets.some((s) => s.open !== null)")
        console = self.console
        console.locator("#queue-body button").first.wait_for()
        console.locator("#queue-body button").first.click()
        console.wait_for_url("**/console/calls/**")
        for page in [console, *pages[:2]]:
            page.wait_for_function(_decoding(2), timeout=60_000)
        _customer_ready(pages[2], links[2])
        time.sleep(0.5)
        t0 = pages[2].evaluate(CLICK_JOIN_JS)
        everyone = [console, *pages]
        for page in everyone:
            page.wait_for_function(_decoding(PEERS), timeout=60_000)
            page.wait_for_function(_connected(PEERS), timeout=60_000)
        result = _mesh_times(t0, [page.evaluate(BENCH_STATE_JS) for page in everyone])
        result.update(_usage(self.usage_window_s))
        for page in pages:
            page.close()
        console.goto(f"{self.base}/console/")
        console.locator("#queue-title").wait_for()
        if console.get_by_label("Status").input_value() != "available":
            console.get_by_label("Status").select_option("available")
        return result

    def floor(self, contexts) -> dict:
        self.room += 1
        room = f"mesh{self.room}"
        # Same contexts, same order: customers 1 and 2, the operator, then 3.
        order = [(contexts[0], "c1"), (contexts[1], "c2"), (self.operator_context, "operator"), (contexts[2], "c3")]
        pages = []
        for n, (context, peer) in enumerate(order):
            page = context.new_page()
            page.goto(f"{self.relay.base_url}/{peer}.html?room={room}")
            pages.append(page)
            if n < 3:
                page.evaluate("() => window.benchStart()")
                for earlier in pages:
                    earlier.wait_for_function(_decoding(n), timeout=60_000)
        last = pages[-1]
        last.evaluate("() => window.benchMedia()")
        time.sleep(0.5)
        t0 = last.evaluate("() => { const t0 = performance.timeOrigin + performance.now(); window.benchJoin(); return t0; }")
        for page in pages:
            page.wait_for_function(_decoding(PEERS), timeout=60_000)
            page.wait_for_function(_connected(PEERS), timeout=60_000)
        result = _mesh_times(t0, [page.evaluate(BENCH_STATE_JS) for page in pages])
        result.update(_usage(self.usage_window_s))
        for page in pages:
            page.close()
        return result


def _usage(window_s: float) -> dict:
    usage = browser_usage(window_s)
    return {"browser_cpu_cores": usage["cpu_cores"], "browser_pss_mib": usage["pss_mib"]}


FIGURES = [
    ("decoded_s", "last Join → all 6 connections decoding", "s"),
    ("connected_s", "last Join → all 6 connections connected", "s"),
    ("connected_to_decoded_s", "a new connection: connected → first frame (median)", "s"),
    ("connected_to_decoded_max_s", "a new connection: connected → first frame (slowest)", "s"),
    ("browser_cpu_cores", "browser CPU, 4-way call running", "cores"),
    ("browser_pss_mib", "browser memory (PSS), 4-way call", "MiB"),
]


def run(runs: int = 3, warmup: int = 1, usage_window_s: float = 5.0, without: tuple = ()) -> dict:
    from playwright.sync_api import sync_playwright

    load_before = load_snapshot()
    started = time.monotonic()
    results = {"ours": [], "floor": []}
    with bench_server(1) as server:
        seed = server.seed(business=BUSINESS, multi_user=3)
        links = provision_links(server, business=BUSINESS, multi_user=runs + warmup, participants=3)["multi_user"]
        relay = FloorRelay().start_in_thread()
        try:
            with sync_playwright() as playwright:
                # One browser, one context per person (BROWSER_TESTING.md:
                # lighter than a browser each).
                browser = launch_browser(playwright)
                bench = Bench(browser, server, relay, seed, usage_window_s)
                for name in without:
                    bench.operator_context.add_init_script(EXPERIMENTS[name])
                for number in range(runs + warmup):
                    contexts = [new_bench_context(browser) for _ in range(3)]
                    for context in contexts:
                        for name in without:
                            context.add_init_script(EXPERIMENTS[name])
                    order = ["ours", "floor"] if number % 2 == 0 else ["floor", "ours"]
                    for kind in order:
                        result = bench.ours(contexts, links[number]) if kind == "ours" else bench.floor(contexts)
                        if number >= warmup:
                            results[kind].append(result)
                        time.sleep(1.0)  # let the closed calls' media threads wind down
                    for context in contexts:
                        context.close()
                browser.close()
        finally:
            relay.stop_thread()
    figures = {}
    for key, label, unit in FIGURES:
        figures[key] = {"label": label, **compare([r[key] for r in results["ours"]], [r[key] for r in results["floor"]], unit=unit)}
    decoded = figures["decoded_s"]
    payload = {
        "name": NAME,
        "machine": machine_info(),
        "load_before": load_before,
        "load_after": load_snapshot(),
        "parameters": {"runs": runs, "warmup": warmup, "usage_window_s": usage_window_s, "without": list(without), "database": server.database,
                       "channel_layer": server.layer, "browsers": "one Chromium, one context per person"},
        "seconds": time.monotonic() - started,
        "figures": figures,
        "targets": {"decoded_ratio_max": TARGET_RATIO, "decoded_ratio": decoded["ratio"],
                    "met": decoded["ratio"] is not None and decoded["ratio"] <= TARGET_RATIO},
        "runs": results,
    }
    write_results(NAME, payload)
    return payload


def report(payload: dict) -> str:
    rows = []
    for key, label, _ in FIGURES:
        rows.append(figure_row(label, payload["figures"][key], digits=2 if key.endswith("_s") or "cpu" in key else 0,
                               target=f"≤ {TARGET_RATIO}× floor" if key == "decoded_s" else ""))
    met = "met" if payload["targets"]["met"] else "NOT met"
    return f"Mesh, 4-way ({payload['parameters']['runs']} runs each, alternating; target {met})\n" + table(FIGURE_HEADERS, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--usage-window", type=float, default=5.0)
    parser.add_argument("--without", action="append", default=[], choices=sorted(EXPERIMENTS),
                        help="an experiment: switch this off in every page (repeatable)")
    args = parser.parse_args(argv)
    print(report(run(runs=args.runs, warmup=args.warmup, usage_window_s=args.usage_window, without=tuple(args.without))))


if __name__ == "__main__":
    main()
