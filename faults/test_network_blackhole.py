"""Scenario 3: the network goes silent.

Both browsers run in a network namespace of their own (faults/netns.py), so
an iptables rule inside it is a true blackhole: packets vanish, nobody is
told. Ten seconds without UDP cut the media between the browsers (signaling
carries on): ICE restarts and the same connection decodes again. Silence of
everything for longer than the resume window ends the call as interrupted,
with its webhook, and both pages say so once they can hear the server again.
"""

import time

import pytest
from playwright.sync_api import expect

from faults.calls import wait_frames_rising
from faults.report import record
from faults.services import wait_until
from faults.stack import RESUME_WINDOW_SECONDS

SHORT_BLACKHOLE_SECONDS = 10
# Celery beat sweeps every 15 s and a heartbeat leaves every 10 s: the call
# ends at most this long after the last thing was heard.
SWEEP_INTERVAL_SECONDS = 15
HEARTBEAT_SECONDS = 10


@pytest.fixture(autouse=True)
def _namespace(stack):
    if stack.namespace is None:
        pytest.skip(f"no network namespace for a true blackhole: {stack.namespace_missing}")
    yield
    stack.namespace.unblock()


CONNECTED_AGAIN_JS = (
    "() => window.__pcs.filter((pc) => pc.connectionState !== 'closed')"
    ".every((pc) => ['connected', 'completed'].includes(pc.iceConnectionState))"
)


def test_ten_seconds_without_media_restarts_ice_and_the_same_connection_decodes_again(call, stack):
    customer, operator = call.customer, call.operator
    pcs_before = (customer.evaluate("window.__pcs.length"), operator.evaluate("window.__pcs.length"))

    stack.namespace.block_media()
    blocked_at = time.monotonic()
    customer.wait_for_function(
        "() => window.__pcs.some((pc) => ['disconnected', 'failed'].includes(pc.iceConnectionState))", timeout=15_000
    )
    noticed = time.monotonic() - blocked_at
    # The impolite side (the operator) restarts ICE 3 s after "disconnected".
    operator.wait_for_function("() => window.__iceRestarts > 0", timeout=15_000)
    time.sleep(max(0.0, SHORT_BLACKHOLE_SECONDS - (time.monotonic() - blocked_at)))
    stack.namespace.unblock()
    restored_at = time.monotonic()

    for page in (customer, operator):
        page.wait_for_function(CONNECTED_AGAIN_JS, timeout=30_000)
        wait_frames_rising(page, timeout_s=30)
    media_back = time.monotonic() - restored_at
    # Recovered in place: no new RTCPeerConnection on either side.
    assert (customer.evaluate("window.__pcs.length"), operator.evaluate("window.__pcs.length")) == pcs_before
    # The call itself never noticed: still in the call, prompts still arrive.
    call.ask_for("Ask for back")
    expect(customer.locator("#prompt")).to_contain_text("show the back")
    assert call.session()["state"] == "in_call"
    record(
        "3a media blackhole 10 s",
        disconnected_noticed_after=noticed,
        ice_restarts_operator=operator.evaluate("window.__iceRestarts"),
        ice_restarts_customer=customer.evaluate("window.__iceRestarts"),
        media_back_after_unblock=media_back,
    )


def test_silence_longer_than_the_resume_window_ends_the_call_as_interrupted_with_its_webhook(call, stack):
    customer, operator = call.customer, call.operator
    session_id = call.session()["id"]

    stack.namespace.block_everything()
    blocked_at = time.monotonic()
    bound = RESUME_WINDOW_SECONDS + SWEEP_INTERVAL_SECONDS + HEARTBEAT_SECONDS + 15
    ended = wait_until(
        lambda: (s := call.session())["state"] != "in_call" and s, timeout=bound, interval=2,
        message="call ended by the housekeeping sweep",
    )
    ended_after = time.monotonic() - blocked_at
    assert ended["state"] == "abandoned"  # nobody had a decision yet
    # Not before the window: counted from the last heartbeat heard, which left
    # at most one heartbeat interval before the blackhole began.
    assert ended_after >= RESUME_WINDOW_SECONDS - HEARTBEAT_SECONDS - 1

    hook = wait_until(
        lambda: [h for h in stack.receiver.delivered("session.abandoned") if h.body["data"]["session"]["id"] == session_id],
        timeout=30, message="session.abandoned webhook delivered",
    )
    assert len(hook) == 1
    assert hook[0].body["data"]["reason"] == "interrupted"
    webhook_after = time.monotonic() - blocked_at

    stack.namespace.unblock()
    restored_at = time.monotonic()
    # Both pages learn it from the server once they hear it again (their
    # sockets reconnect, or the close the server sent gets through).
    expect(customer.locator("#ended-panel")).to_be_visible(timeout=60_000)
    expect(operator.locator("#ended-panel")).to_be_visible(timeout=60_000)
    pages_told_after = time.monotonic() - restored_at
    assert customer.evaluate("window.__pcs.every((pc) => pc.connectionState === 'closed')")
    # Exactly one ending, reported once.
    events = [e["type"] for e in call.session()["events"] if e["type"].startswith("session.") and e["type"] != "session.created"]
    assert events.count("session.abandoned") == 1
    assert "session.completed" not in events
    record(
        "3b blackhole beyond the resume window",
        resume_window=RESUME_WINDOW_SECONDS,
        call_ended_after=ended_after,
        webhook_delivered_after=webhook_after,
        pages_show_ended_after_unblock=pages_told_after,
    )
