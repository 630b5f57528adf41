"""A Hypothesis fuzz of the CallConsumer itself, through a real websocket
scope: random text, binary, oversized and schema-shaped frames from the
customer or the operator. The consumer never raises, never closes a socket
for a bad frame, answers each refusal with a known error code, and relays
to the peer exactly the signals of the valid signal frames addressed to it,
in their clean form: nothing of a bad frame ever reaches the other side."""

import asyncio
import json

import pytest
from channels.layers import get_channel_layer
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sessions_app.selectors import CUSTOMER, OPERATOR, OPERATOR_PEER_ID
from sessions_app.signaling import END_CALL, FrameError, parse_frame
from tests.consumers.helpers import Sockets, peer_id
from tests.consumers.test_parse_frame_fuzz import json_values, schema_shaped_frames

MAX_BYTES = 64 * 1024
ERROR_CODES = {"binary_not_accepted", "invalid_json", "invalid", "unknown_type", "forbidden", "too_large", "unknown_peer", "rejected"}
# What the server may send a peer while somebody else fuzzes: never an
# echo of the bad frame, never an error caused by it.
PEER_MESSAGE_TYPES = {"signal", "peer_media", "state", "peer_joined", "peer_left", "heartbeat_ack"}

pytestmark = pytest.mark.django_db(transaction=True)


def addressed(frame, to_peer):
    """Schema-shaped frames, half of them addressed to the real peer, so the
    relay path is exercised, not only the refusals."""
    if isinstance(frame, dict) and "to" in frame:
        return st.sampled_from([frame, {**frame, "to": to_peer}])
    return st.just(frame)


def frame_texts(to_peer):
    shaped = schema_shaped_frames.flatmap(lambda frame: addressed(frame, to_peer)).map(json.dumps)
    return st.one_of(
        shaped,
        shaped,
        st.text(max_size=200),
        json_values.map(json.dumps),
        st.binary(max_size=64).map(lambda data: ("binary", data)),
        st.sampled_from(["{", "[]", "null", '{"type": "signal", "to": %s}' % json.dumps(to_peer), "x" * (MAX_BYTES + 1)]),
        # valid JSON just over the limit, so the size check (not the parser) refuses it
        st.just(json.dumps({"type": "signal", "to": to_peer, "description": {"type": "offer", "sdp": "a" * MAX_BYTES}})),
    )


def expected_relay(text, role, to_peer, from_peer):
    """The signal the peer must receive for this frame, or None."""
    if isinstance(text, tuple):
        return None
    try:
        kind, payload = parse_frame(text=text, binary=None, role=role, max_bytes=MAX_BYTES)
    except FrameError:
        return None
    if kind != "signal" or payload["to"] != to_peer:
        return None
    return {"type": "signal", "from": from_peer, **{k: v for k, v in payload.items() if k != "to"}}


def ends_the_call(text) -> bool:
    """A valid end_call frame would end the call under the fuzzer's feet."""
    if isinstance(text, tuple):
        return False
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(frame, dict) and frame.get("type") == END_CALL


async def send_frame(socket, text):
    if isinstance(text, tuple):
        await socket.send_bytes(text[1])
    else:
        await socket.send_text(text)


async def read_until_marker(socket, marker: str) -> list[dict]:
    """Everything the socket got up to our marker signal: relays go straight
    to the peer's channel, in order, so what came before the marker is all
    this example sent."""
    messages = []
    while True:
        output = await socket.communicator.receive_output(5)
        assert output["type"] == "websocket.send", f"{socket} was closed: {output}; before: {messages}"
        message = json.loads(output["text"])
        if message.get("type") == "signal" and message.get("candidate", {}) and message["candidate"].get("candidate") == marker:
            return messages
        messages.append(message)


async def read_until_own_marker(socket, marker: str) -> list[dict]:
    """The sender's answers up to the refusal of our marker frame (a signal
    to a peer that does not exist): frames are handled in order, so every
    answer to the fuzzed frames came before it."""
    messages = []
    while True:
        output = await socket.communicator.receive_output(5)
        assert output["type"] == "websocket.send", f"{socket} was closed: {output}; before: {messages}"
        message = json.loads(output["text"])
        if message["type"] == "error" and message.get("to") == marker:
            return messages
        messages.append(message)


def test_call_consumer_survives_any_frame_and_relays_only_valid_signals(transactional_db, answered_call, operator_a, settings):
    # The fuzzer sends far more than a browser: the flood limits are not under test here.
    settings.SIGNALING_RATE_BURST = 1_000_000
    settings.SIGNALING_IP_RATE_BURST = 1_000_000
    loop = asyncio.new_event_loop()
    sockets = Sockets()
    customer_peer = peer_id(answered_call.participant)

    async def start():
        operator = await sockets.operator(operator_a, answered_call.session)
        customer = await sockets.customer(answered_call.participant)
        await operator.peers_joined(1)
        await customer.peers_joined(1)
        return {CUSTOMER: customer, OPERATOR: operator}

    people = loop.run_until_complete(start())
    peers = {CUSTOMER: OPERATOR_PEER_ID, OPERATOR: customer_peer}
    own_ids = {CUSTOMER: customer_peer, OPERATOR: OPERATOR_PEER_ID}
    counter = iter(range(10**9))

    async def exchange(role, texts):
        other = OPERATOR if role == CUSTOMER else CUSTOMER
        sender, receiver = people[role], people[other]
        for text in texts:
            await send_frame(sender, text)
        marker = f"marker-{next(counter)}"
        await sender.send({"type": "signal", "to": peers[role], "candidate": {"candidate": marker}})
        await sender.send({"type": "signal", "to": marker, "candidate": None})
        for message in await read_until_own_marker(sender, marker):
            if message["type"] == "error":
                assert message["code"] in ERROR_CODES, message
                assert not message.get("fatal"), message
        received = await read_until_marker(receiver, marker)
        assert all(m["type"] in PEER_MESSAGE_TYPES for m in received), received
        expected = [relay for t in texts if (relay := expected_relay(t, role, peers[role], own_ids[role]))]
        assert [m for m in received if m["type"] == "signal"] == expected

    @hypothesis_settings(
        max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
    )
    @given(data=st.data(), role=st.sampled_from([CUSTOMER, OPERATOR]))
    def fuzz(data, role):
        texts = data.draw(st.lists(frame_texts(peers[role]), min_size=1, max_size=6).filter(lambda ts: not any(map(ends_the_call, ts))))
        loop.run_until_complete(exchange(role, texts))

    try:
        fuzz()
    finally:
        loop.run_until_complete(sockets.close_all())
        layer = get_channel_layer()
        if hasattr(layer, "flush"):
            loop.run_until_complete(layer.flush())
        loop.close()
