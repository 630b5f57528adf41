"""Frames per client IP across all its sockets: one address opening many
sockets, each within its own per-socket budget, is still stopped (close
4429); the address comes from kyc.net, so a forged X-Forwarded-For buys no
fresh budget; and the budget costs the relay path no database query."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db.backends.utils import CursorWrapper

from kyc import throttle
from kyc.asgi import application
from sessions_app.consumers import CLOSE_FLOOD
from tests.consumers.helpers import (
    ORIGIN,
    TIMEOUT,
    Socket,
    call_path,
    customer_session_key,
    peer_id,
    user_session_key,
)

pytestmark = pytest.mark.django_db(transaction=True)

IP = "198.51.100.23"


@pytest.fixture
def small_ip_budget(settings):
    settings.SIGNALING_IP_RATE_BURST = 12
    settings.SIGNALING_IP_RATE_PER_SECOND = 0.1
    settings.SIGNALING_IP_REPORT_EVERY = 1000  # this process's count decides here
    throttle.ip_frame_budget().buckets.clear()


async def open_from(sockets, path, key, ip, *, forwarded_for=None):
    headers = [ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())]
    if forwarded_for:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    communicator.scope["client"] = [ip, 50000]  # what daphne puts there: the TCP peer
    socket = Socket(communicator, f"{path} from {ip}")
    sockets.opened.append(socket)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return socket


async def customer_and_operator(sockets, call, operator, *, operator_ip=IP, customer_ip=IP, forwarded_for=None):
    operator_key = await database_sync_to_async(user_session_key)(operator.user)
    customer_key = await database_sync_to_async(customer_session_key)(call.participant)
    op = await (await open_from(sockets, call_path(call.session), operator_key, operator_ip, forwarded_for=forwarded_for)).joined()
    customer = await (await open_from(sockets, call_path(call.session), customer_key, customer_ip)).joined()
    await op.peers_joined(1)
    await customer.peers_joined(1)
    return op, customer


async def test_many_sockets_of_one_address_share_one_budget(sockets, answered_call, operator_a, small_ip_budget):
    """Each socket stays far below its own limit (burst 200); together they
    exhaust the address's 12 frames and the next one speaking is closed."""
    op, customer = await customer_and_operator(sockets, answered_call, operator_a)
    for _ in range(6):
        await op.send({"type": "sync"})
        await customer.send({"type": "sync"})
    await op.drain()
    await customer.drain()

    await customer.send({"type": "sync"})

    await customer.closed_with(CLOSE_FLOOD)


async def test_forged_forwarded_for_does_not_open_a_fresh_budget(sockets, answered_call, operator_a, small_ip_budget):
    op, _customer = await customer_and_operator(sockets, answered_call, operator_a, forwarded_for="203.0.113.9")
    for i in range(12):
        await op.send({"type": "sync"})
    await op.drain()
    await op.send({"type": "sync"})
    await op.closed_with(CLOSE_FLOOD)


async def test_other_addresses_keep_their_own_budget(sockets, answered_call, operator_a, small_ip_budget):
    op, customer = await customer_and_operator(sockets, answered_call, operator_a, customer_ip="203.0.113.50")
    for _ in range(12):
        await op.send({"type": "sync"})
    await op.drain()
    await op.send({"type": "sync"})
    await op.closed_with(CLOSE_FLOOD)
    assert await customer.heartbeat_answered()


async def test_the_shared_count_stops_an_address_spread_over_processes(sockets, answered_call, operator_a, settings):
    """Another process already reported this window's frames of the address
    to the shared cache: this process's own bucket is full, yet the address
    is over its budget."""
    settings.SIGNALING_IP_RATE_BURST = 10
    settings.SIGNALING_IP_RATE_PER_SECOND = 1
    settings.SIGNALING_IP_WINDOW_SECONDS = 60
    settings.SIGNALING_IP_REPORT_EVERY = 1
    budget = throttle.ip_frame_budget()
    budget.buckets.clear()
    # Windows are fixed (a minute here): the frame may land in the next one
    # (it did in a full run: set at :59, sent at :00), which the other process has
    # filled just the same.
    now_key = throttle._window_key("ws", IP, budget.window)
    prefix, _, number = now_key.rpartition(":")
    keys = [now_key, f"{prefix}:{int(number) + 1}"]
    for key in keys:
        await throttle.cache.aset(key, budget.shared_limit(), timeout=120)
    try:
        op, _customer = await customer_and_operator(sockets, answered_call, operator_a)
        await op.send({"type": "sync"})
        await op.closed_with(CLOSE_FLOOD)
    finally:
        for key in keys:
            await throttle.cache.adelete(key)


async def test_relaying_a_signal_makes_no_database_query(sockets, answered_call, operator_a, settings):
    """Counted in every thread (database_sync_to_async runs elsewhere), with
    the shared counter reported on every frame, its most expensive setting."""
    settings.SIGNALING_IP_REPORT_EVERY = 1
    op, customer = await customer_and_operator(sockets, answered_call, operator_a)
    queries = []
    original = CursorWrapper.execute

    def counting(self, sql, params=None):
        queries.append((threading.current_thread().name, sql))
        return original(self, sql, params)

    CursorWrapper.execute = counting
    try:
        for i in range(20):
            await op.send({"type": "signal", "to": peer_id(answered_call.participant), "candidate": {"candidate": f"c{i}"}})
        received = [await customer.receive_until("signal") for _ in range(20)]
        await asyncio.sleep(0.1)
        relay_queries = list(queries)
        await op.send({"type": "sync"})  # the instrument works: a resync does query
        await op.receive_until("state")
    finally:
        CursorWrapper.execute = original

    assert [m["candidate"]["candidate"] for m in received] == [f"c{i}" for i in range(20)]
    assert relay_queries == []
    assert queries != []


async def test_the_queue_socket_shares_the_addresses_budget(sockets, answered_call, operator_a, small_ip_budget):
    """The console's queue socket counts against the same per-address budget."""
    from tests.consumers.helpers import QUEUE_PATH

    key = await database_sync_to_async(user_session_key)(operator_a.user)
    queue = await open_from(sockets, QUEUE_PATH, key, IP)
    assert (await queue.receive())["type"] == "queue"
    for _ in range(12):
        await queue.send({"type": "heartbeat"})
    await queue.drain()

    await queue.send({"type": "heartbeat"})

    await queue.closed_with(CLOSE_FLOOD)
