"""Call set-up: from the operator's Answer click to both sides decoding the
other's video, in headless Chromium, beside a bare relay.

Ours: the product's customer page (link, terms, Join: the customer waits in
the queue with camera on and socket open) and the operator's console. t0 is
the Answer click; the operator's page then posts the answer, loads the call
page, starts its camera, opens the call socket and offers.

Floor: the same two browser contexts on two tiny pages served by the bare
relay (bench/floor_relay.py): the customer page has its camera on and its
socket open; t0 is the operator page starting, which then does what the
product's call page does after loading: camera, socket, offer.

So ours minus the floor is what Verity adds: the answer request, loading
the call page, and the server's work on the socket (authorisation, roster).
Two headlines: Answer → both decoding (what the operator waits for), and
"operator's socket open → both decoding", the part after the operator's
socket is open, like for like. The camera is a 1280×720 moving picture,
the size a webcam gives for the pages' constraints (bench/common.py).

    python -m bench.call_setup [--calls 10]
"""

import argparse
import time

from bench.common import (
    BENCH_STATE_JS,
    FIGURE_HEADERS,
    bench_server,
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

NAME = "call_setup"
BUSINESS = "bench-calls"
TARGET_RATIO = 1.25

# Click Answer with the timestamp taken in the page, in the same clock as the
# timings the pages record.
CLICK_ANSWER_JS = """
() => {
  const button = document.querySelector('#queue-body button');
  const t0 = performance.timeOrigin + performance.now();
  button.click();
  return t0;
}
"""

# The console opens the call in place (no navigation): the answer request
# and the call page's fetch are read from the console's resource timings.
REQUESTS_JS = """
() => performance.getEntriesByType('resource')
  .filter((e) => /\\/answer$|\\/console\\/calls\\/[0-9a-f]+\\/$/.test(e.name))
  .map((e) => ({ name: e.name, start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + e.responseEnd }))
"""

DECODING_JS = "() => window.__bench.pcs.some((pc) => pc.decoded !== null && !pc.closed)"


def _first(items, key):
    values = [item[key] for item in items if item.get(key) is not None]
    return min(values) if values else None


def _timings(t0: float, customer: dict, operator: dict) -> dict:
    """Milliseconds from t0, from the two pages' recorded timings."""
    c_pc = [p for p in customer["pcs"] if not p["closed"]]
    o_pc = [p for p in operator["pcs"] if not p["closed"]]
    decoded = max(_first(c_pc, "decoded"), _first(o_pc, "decoded"))
    connected = max(_first(c_pc, "connected"), _first(o_pc, "connected"))
    call_socket = [s for s in operator["sockets"] if "/ws/call/" in s["url"]][-1]
    media = operator["media"][-1] if operator["media"] else {}

    requests = operator.get("requests") or []
    answered = [r["end"] for r in requests if r["name"].endswith("/answer") and r["start"] >= t0]
    fetched = [r["end"] for r in requests if not r["name"].endswith("/answer") and r["start"] >= t0]

    def after_click(mark):
        # The console opens the call in place: no page load after the click,
        # and its camera was on before it (0 ms).
        return (mark - t0) if mark is not None and mark >= t0 else None

    return {
        "decoded_ms": decoded - t0,
        "connected_ms": connected - t0,
        "operator_navigation_start_ms": after_click(operator["marks"].get("navigationStart")) or after_click(min(answered, default=None)),
        "operator_page_received_ms": after_click(operator["marks"].get("responseEnd")) or after_click(min(fetched, default=None)),
        "operator_page_loaded_ms": after_click(operator["marks"].get("dom")),
        "operator_camera_ms": max(0.0, (media.get("end") or t0) - t0),
        "operator_socket_open_ms": call_socket["open"] - t0,
        "operator_first_signal_ms": (call_socket["firstSignal"] or t0) - t0,
        "socket_open_to_decoded_ms": decoded - call_socket["open"],
        "socket_open_to_first_signal_ms": (call_socket["firstSignal"] or call_socket["open"]) - call_socket["open"],
        # Where the time from the socket opening to the first offer goes: the
        # server's frames as they reach the operator's page.
        **{
            f"socket_open_to_{kind}_ms": (received[kind] - call_socket["open"]) if kind in received else None
            for received in [call_socket.get("received") or {}]
            for kind in ("welcome", "state", "peer_joined")
        },
    }


class Bench:
    def __init__(self, browser, server, relay, seed):
        self.browser, self.server, self.relay, self.seed = browser, server, relay, seed
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

    def ours(self, customer_context, link: str) -> dict:
        page = customer_context.new_page()
        page.goto(link)
        page.get_by_role("checkbox").check()
        page.get_by_role("button", name="Accept and continue").click()
        page.get_by_role("button", name="Join").wait_for()
        page.wait_for_function("() => !document.querySelector('#btn-join').disabled")
        page.get_by_role("button", name="Join").click()
        page.wait_for_function("() => window.__bench.sockets.some((s) => s.open !== null)")
        console = self.console
        console.locator("#queue-body button").first.wait_for()
        time.sleep(0.3)  # let both pages settle: t0 should not overlap the queue push
        t0 = console.evaluate(CLICK_ANSWER_JS)
        console.wait_for_url("**/console/calls/**")
        console.wait_for_function(DECODING_JS)
        page.wait_for_function(DECODING_JS)
        console.wait_for_function("() => window.__bench.pcs.some((pc) => pc.connected !== null)")
        result = _timings(t0, page.evaluate(BENCH_STATE_JS), {**console.evaluate(BENCH_STATE_JS), "requests": console.evaluate(REQUESTS_JS)})
        page.close()
        # Back to the queue for the next call (the call itself stays open in
        # the database; nobody is connected to it any more).
        console.goto(f"{self.base}/console/")
        console.locator("#queue-title").wait_for()
        if console.get_by_label("Status").input_value() != "available":
            console.get_by_label("Status").select_option("available")
        return result

    def floor(self, customer_context) -> dict:
        self.room += 1
        room = f"call{self.room}"
        customer = customer_context.new_page()
        customer.goto(f"{self.relay.base_url}/customer.html?room={room}")
        customer.evaluate("() => window.benchStart()")
        operator = self.operator_context.new_page()
        operator.goto(f"{self.relay.base_url}/operator.html?room={room}")
        time.sleep(0.3)
        t0 = operator.evaluate("() => { const t0 = performance.timeOrigin + performance.now(); window.benchStart(); return t0; }")
        operator.wait_for_function(DECODING_JS)
        customer.wait_for_function(DECODING_JS)
        operator.wait_for_function("() => window.__bench.pcs.some((pc) => pc.connected !== null)")
        result = _timings(t0, customer.evaluate(BENCH_STATE_JS), operator.evaluate(BENCH_STATE_JS))
        # The floor's operator page was loaded before t0: no answer request,
        # no page load to compare.
        for key in ("operator_navigation_start_ms", "operator_page_received_ms", "operator_page_loaded_ms"):
            result[key] = None
        customer.close()
        operator.close()
        return result


FIGURES = [
    ("decoded_ms", "Answer → both sides decoding", True),
    # Like for like: from the moment both have what the floor's operator page
    # has at its start (page, camera) and a socket, to both decoding.
    ("socket_open_to_decoded_ms", "operator socket open → both decoding", True),
    ("connected_ms", "Answer → both sides connected", False),
    ("socket_open_to_welcome_ms", "operator socket open → welcome received", False),
    ("socket_open_to_state_ms", "operator socket open → state received", False),
    ("socket_open_to_peer_joined_ms", "operator socket open → customer introduced", False),
    ("socket_open_to_first_signal_ms", "operator socket open → first offer sent", False),
    ("operator_navigation_start_ms", "answer request done", False),
    ("operator_page_received_ms", "call page HTML received (fetched in place)", False),
    ("operator_page_loaded_ms", "call page loaded (DOMContentLoaded; none in place)", False),
    ("operator_camera_ms", "operator camera on", False),
    ("operator_socket_open_ms", "operator call socket open", False),
    ("operator_first_signal_ms", "operator's first signal sent", False),
]


def run(calls: int = 10, warmup: int = 1, database_url: str | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    load_before = load_snapshot()
    started = time.monotonic()
    runs = {"ours": [], "floor": []}
    with bench_server(1, database_url=database_url) as server:
        seed = server.seed(business=BUSINESS, multi_user=2)
        links = provision_links(server, business=BUSINESS, one_on_one=calls + warmup)["one_on_one"]
        relay = FloorRelay().start_in_thread()
        try:
            with sync_playwright() as playwright:
                browser = launch_browser(playwright)
                bench = Bench(browser, server, relay, seed)
                for number in range(calls + warmup):
                    customer_context = new_bench_context(browser)
                    # Alternate which goes first, so a slow patch of the
                    # machine does not always fall on the same one.
                    order = ["ours", "floor"] if number % 2 == 0 else ["floor", "ours"]
                    for kind in order:
                        if kind == "ours":
                            result = bench.ours(customer_context, links[number][0])
                        else:
                            result = bench.floor(customer_context)
                        if number >= warmup:
                            runs[kind].append(result)
                    customer_context.close()
                browser.close()
        finally:
            relay.stop_thread()
    figures = {}
    for key, label, _ in FIGURES:
        figures[key] = {
            "label": label,
            **compare([r[key] for r in runs["ours"]], [r[key] for r in runs["floor"]], unit="ms"),
        }
    headline = figures["decoded_ms"]
    payload = {
        "name": NAME,
        "machine": machine_info(),
        "load_before": load_before,
        "load_after": load_snapshot(),
        "parameters": {"calls": calls, "warmup": warmup, "database": server.database, "channel_layer": server.layer},
        "seconds": time.monotonic() - started,
        "figures": figures,
        "targets": {
            "decoded_ratio_max": TARGET_RATIO,
            "decoded_ratio": headline["ratio"],
            "met": headline["ratio"] is not None and headline["ratio"] <= TARGET_RATIO,
            "connected_ratio": figures["connected_ms"]["ratio"],
            "socket_open_to_decoded_ratio": figures["socket_open_to_decoded_ms"]["ratio"],
        },
        "runs": runs,
    }
    write_results(NAME, payload)
    return payload


def report(payload: dict) -> str:
    rows = []
    for key, label, headline in FIGURES:
        target = f"≤ {TARGET_RATIO}× floor" if key == "decoded_ms" else ("headline" if headline else "")
        rows.append(figure_row(label, payload["figures"][key], target=target))
    met = "met" if payload["targets"]["met"] else "NOT met"
    return (
        f"Call set-up ({payload['parameters']['calls']} calls each, alternating; target {met})\n"
        + table(FIGURE_HEADERS, rows)
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args(argv)
    print(report(run(calls=args.calls, warmup=args.warmup)))


if __name__ == "__main__":
    main()
