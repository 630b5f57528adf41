"""Flood control: a burst beyond the bucket is told to slow down; a sustained
flood loses its socket."""

import asyncio

import pytest

from sessions_app.consumers import CLOSE_FLOOD, FLOOD_STRIKES

pytestmark = pytest.mark.django_db(transaction=True)

BURST = 5


@pytest.fixture
def small_bucket(settings):
    """A bucket of five that refills slowly, so the test needs few frames and
    no refill lands mid-burst even on a slow machine."""
    settings.SIGNALING_RATE_BURST = BURST
    settings.SIGNALING_RATE_PER_SECOND = 0.2


async def test_frames_beyond_the_burst_are_rate_limited_once(sockets, answered_call, small_bucket):
    customer = await sockets.customer(answered_call.participant)

    for _ in range(BURST + 3):
        await customer.send({"type": "sync"})

    messages = await customer.drain()
    assert [m["type"] for m in messages] == ["state"] * BURST + ["error"]
    assert messages[-1]["code"] == "rate_limited"


async def test_sustained_flood_closes_the_socket(sockets, answered_call, small_bucket):
    customer = await sockets.customer(answered_call.participant)

    for _ in range(BURST + FLOOD_STRIKES):
        await customer.send({"type": "signal", "to": "nobody", "candidate": None})

    before = await customer.closed_with(CLOSE_FLOOD)
    assert [m["code"] for m in before] == ["unknown_peer"] * BURST + ["rate_limited"]


async def test_socket_is_usable_again_once_the_flood_stops(sockets, answered_call, settings):
    settings.SIGNALING_RATE_BURST = 2
    settings.SIGNALING_RATE_PER_SECOND = 20
    customer = await sockets.customer(answered_call.participant)

    for _ in range(4):
        await customer.send({"type": "signal", "to": "nobody", "candidate": None})
    assert (await customer.receive_until("error"))["code"] == "unknown_peer"
    assert (await customer.receive_until("error"))["code"] == "unknown_peer"
    assert (await customer.receive())["code"] == "rate_limited"

    await asyncio.sleep(0.2)
    assert await customer.heartbeat_answered()


async def test_binary_frames_count_against_the_bucket(sockets, answered_call, small_bucket):
    customer = await sockets.customer(answered_call.participant)

    for _ in range(BURST + FLOOD_STRIKES):
        await customer.send_bytes(b"\x00")

    before = await customer.closed_with(CLOSE_FLOOD)
    assert [m["code"] for m in before] == ["binary_not_accepted"] * BURST + ["rate_limited"]
