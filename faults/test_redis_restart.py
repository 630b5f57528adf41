"""Scenario 1: Redis, the channel layer of both daphne processes, crashes and
comes back mid-call.

Media is peer to peer, so it never stops. The channel layer delivers at most
once and loses what was sent while it was down; the prompt the operator sends
in that moment is stored in the database first, and the customer's page
gets it from there (a reconnecting socket reads the whole state, and every
heartbeat answer carries the state's version, so a page that missed a change
asks for it).
"""

import time

from playwright.sync_api import expect

from faults.calls import OPEN_SOCKET_JS, wait_frames_rising
from faults.report import record

REDIS_DOWN_SECONDS = 3


def test_redis_restart_mid_call_keeps_media_and_the_prompt_sent_meanwhile_arrives(call, stack):
    customer, operator = call.customer, call.operator
    pcs_before = (customer.evaluate("window.__pcs.length"), operator.evaluate("window.__pcs.length"))
    version_before = call.session()["version"]

    killed_at = time.monotonic()
    stack.redis.kill()
    # Sent while Redis is down: stored, but its nudge to the customer is lost.
    call.ask_for("Ask for back")
    # Media does not go through Redis: both sides keep decoding meanwhile.
    wait_frames_rising(customer, timeout_s=10)
    wait_frames_rising(operator, timeout_s=10)
    time.sleep(max(0.0, REDIS_DOWN_SECONDS - (time.monotonic() - killed_at)))
    stack.redis.start()
    restarted_at = time.monotonic()

    expect(customer.locator("#prompt")).to_contain_text("show the back", timeout=30_000)
    prompt_after = time.monotonic() - restarted_at
    assert call.session()["version"] > version_before

    # Signaling is whole again, both ways: sockets open, events cross the
    # channel layer at once (not through a reconnect), peers stay the same.
    for page in (customer, operator):
        page.wait_for_function(OPEN_SOCKET_JS, timeout=30_000)
    sockets_back = time.monotonic() - restarted_at
    call.ask_for("Ask for front")
    expect(customer.locator("#prompt")).to_contain_text("front of your identity document", timeout=5_000)
    customer.get_by_role("button", name="Mute microphone").click()
    expect(operator.locator(".tile.remote .muted-indicator")).to_be_visible(timeout=5_000)
    customer.get_by_role("button", name="Unmute microphone").click()
    expect(operator.locator(".tile.remote .muted-indicator")).to_be_hidden(timeout=5_000)
    signaling_back = time.monotonic() - restarted_at

    assert (customer.evaluate("window.__pcs.length"), operator.evaluate("window.__pcs.length")) == pcs_before
    assert call.connected(customer) == 1 and call.connected(operator) == 1
    wait_frames_rising(customer, timeout_s=10)
    assert call.session()["state"] == "in_call"
    record(
        "1 Redis restart",
        redis_down=round(restarted_at - killed_at, 1),
        prompt_sent_while_down_arrived_after_restart=prompt_after,
        sockets_open_after_restart=sockets_back,
        live_events_after_restart=signaling_back,
        socket_reconnects_customer=call.sockets(customer) - 1,
        socket_reconnects_operator=call.sockets(operator) - 1,
    )


def test_a_change_whose_nudge_the_channel_layer_lost_arrives_with_the_next_heartbeat(call, stack):
    """The at-most-once case without any restart to hide it: a prompt stored
    by a process whose nudge reaches nobody (an in-memory channel layer of its
    own; the cache, and with it the version the heartbeats read, is the shared
    Redis as everywhere). No socket reconnects; the heartbeat's version brings it."""
    customer = call.customer
    sockets_before = call.sockets(customer)
    stored_at = time.monotonic()
    stack.django(
        "from channels.layers import InMemoryChannelLayer, channel_layers\n"
        "channel_layers.backends['default'] = InMemoryChannelLayer()  # the nudge goes nowhere\n"
        "from sessions_app import services\n"
        "from sessions_app.audit import Actor\n"
        "from sessions_app.models import Participant\n"
        f"p = Participant.objects.get(session__business__slug={call.business!r}, session__kind='one_on_one')\n"
        "services.participant_set_prompt(participant=p, prompt={'code': 'hold_still', 'text': ''}, actor=Actor.system())\n"
        "result = p.pk",
    )
    # Heartbeats leave every 10 s.
    expect(customer.locator("#prompt")).to_contain_text("Please hold still", timeout=25_000)
    arrived_after = time.monotonic() - stored_at
    assert call.sockets(customer) == sockets_before
    record("1b lost nudge, no restart", prompt_arrived_after=arrived_after)
