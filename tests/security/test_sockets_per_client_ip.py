"""Open sockets per client IP, counted across processes in the cache.
Reproduces the finding that 200 anonymous sockets from one address were all
accepted: past SIGNALING_MAX_SOCKETS_PER_IP the next is told why and closed
with CLOSE_TOO_MANY_SOCKETS."""

import json

import pytest

from kyc import throttle
from sessions_app.consumers import CLOSE_FORBIDDEN
from tests.consumers.helpers import QUEUE_PATH, TIMEOUT, call_path

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 3


@pytest.fixture
def small_limit(settings):
    settings.SIGNALING_MAX_SOCKETS_PER_IP = LIMIT


async def anonymous_socket(sockets, path):
    """An outsider's socket, left open as an attacker would leave it (the
    server's close never acknowledged). Returns it, its close code and the
    messages before the close."""
    socket = await sockets.open(path)
    before = []
    while True:
        output = await socket.communicator.receive_output(TIMEOUT)
        if output["type"] == "websocket.close":
            return socket, (output.get("code"), before)
        before.append(json.loads(output["text"]))


async def test_sockets_past_the_limit_are_refused_with_a_clear_close_code(sockets, answered_call, small_limit):
    path = call_path(answered_call.session)
    for _ in range(LIMIT):
        _socket, (code, _before) = await anonymous_socket(sockets, path)
        assert code == CLOSE_FORBIDDEN

    _socket, (code, before) = await anonymous_socket(sockets, path)
    assert code == throttle.CLOSE_TOO_MANY_SOCKETS
    assert [m["code"] for m in before] == ["too_many_sockets"]
    # The queue socket counts for the same address.
    _socket, (code, _before) = await anonymous_socket(sockets, QUEUE_PATH)
    assert code == throttle.CLOSE_TOO_MANY_SOCKETS


async def test_a_closed_socket_frees_its_place(sockets, answered_call, operator_a, small_limit):
    path = call_path(answered_call.session)
    held = [(await anonymous_socket(sockets, path))[0] for _ in range(LIMIT)]

    await held[0].disconnect()

    operator = await sockets.operator(operator_a, answered_call.session)
    assert operator.welcome["type"] == "welcome"


async def test_places_of_a_dead_process_expire_on_their_own(sockets, answered_call, small_limit, settings, monkeypatch):
    """Sockets whose process died never disconnect: their places go with
    their window (two windows at most), without anybody cleaning up."""
    path = call_path(answered_call.session)
    for _ in range(LIMIT):
        await anonymous_socket(sockets, path)
    _socket, (code, _before) = await anonymous_socket(sockets, path)
    assert code == throttle.CLOSE_TOO_MANY_SOCKETS

    now = throttle.time.time()
    monkeypatch.setattr(throttle.time, "time", lambda: now + 2 * settings.SIGNALING_SOCKET_SLOT_SECONDS)

    _socket, (code, _before) = await anonymous_socket(sockets, path)
    assert code == CLOSE_FORBIDDEN


async def test_a_socket_that_keeps_beating_stays_counted(
    sockets, answered_call, operator_a, small_limit, settings, monkeypatch
):
    """A live socket renews its place at each heartbeat, so it still counts
    after the window it opened in has expired (the silent ones do not)."""
    operator = await sockets.operator(operator_a, answered_call.session)
    path = call_path(answered_call.session)
    for _ in range(LIMIT - 1):
        await anonymous_socket(sockets, path)

    now = throttle.time.time()
    monkeypatch.setattr(throttle.time, "time", lambda: now + settings.SIGNALING_SOCKET_SLOT_SECONDS)
    assert await operator.heartbeat_answered()
    monkeypatch.setattr(throttle.time, "time", lambda: now + 2 * settings.SIGNALING_SOCKET_SLOT_SECONDS)

    for _ in range(LIMIT - 1):
        _socket, (code, _before) = await anonymous_socket(sockets, path)
        assert code == CLOSE_FORBIDDEN
    _socket, (code, _before) = await anonymous_socket(sockets, path)
    assert code == throttle.CLOSE_TOO_MANY_SOCKETS
