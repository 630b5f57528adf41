"""One call's sockets can never reach another call's: the roster a socket
relays through is built only from its own session's group."""

import pytest

from sessions_app.selectors import OPERATOR_PEER_ID
from tests.consumers.helpers import peer_id

pytestmark = pytest.mark.django_db(transaction=True)

OFFER = {"type": "offer", "sdp": "v=0\r\n"}


@pytest.fixture
async def two_calls(sockets, answered_call, answered_other_call, operator_a, operator_b):
    """Both calls running side by side, every peer connected and introduced."""
    x_customer = await sockets.customer(answered_call.participant)
    x_operator = await sockets.operator(operator_a, answered_call.session)
    y_customer = await sockets.customer(answered_other_call.participant)
    y_operator = await sockets.operator(operator_b, answered_other_call.session)
    for socket in (x_customer, x_operator, y_customer, y_operator):
        await socket.peers_joined(1)
    return x_customer, x_operator, y_customer, y_operator


async def test_customer_cannot_signal_a_customer_of_another_session(two_calls, answered_other_call):
    x_customer, x_operator, y_customer, y_operator = two_calls
    target = peer_id(answered_other_call.participant)

    await x_customer.send({"type": "signal", "to": target, "description": OFFER})

    error = await x_customer.receive()
    assert (error["type"], error["code"], error["to"]) == ("error", "unknown_peer", target)
    assert await y_customer.nothing()
    assert await y_operator.nothing()
    assert await x_operator.nothing()


async def test_signal_to_the_operator_reaches_only_the_operator_of_the_own_call(two_calls, answered_call):
    """Every call's operator has the same peer id; the roster still tells
    them apart."""
    x_customer, x_operator, y_customer, y_operator = two_calls

    await x_customer.send({"type": "signal", "to": OPERATOR_PEER_ID, "description": OFFER})

    relayed = await x_operator.receive()
    assert (relayed["type"], relayed["from"]) == ("signal", peer_id(answered_call.participant))
    assert await y_operator.nothing()
    assert await y_customer.nothing()


async def test_roster_of_a_call_never_introduces_peers_of_another_call(
    sockets, answered_call, answered_other_call, operator_a, operator_b
):
    x_customer = await sockets.customer(answered_call.participant)
    y_customer = await sockets.customer(answered_other_call.participant)
    x_operator = await sockets.operator(operator_a, answered_call.session)
    y_operator = await sockets.operator(operator_b, answered_other_call.session)

    x_peers = {m["peer"]["peer_id"] for s in (x_customer, x_operator) for m in await s.drain() if m["type"] == "peer_joined"}
    y_peers = {m["peer"]["peer_id"] for s in (y_customer, y_operator) for m in await s.drain() if m["type"] == "peer_joined"}

    assert x_peers == {OPERATOR_PEER_ID, peer_id(answered_call.participant)}
    assert y_peers == {OPERATOR_PEER_ID, peer_id(answered_other_call.participant)}


async def test_state_of_a_call_never_mentions_another_call(two_calls, answered_other_call):
    x_customer, x_operator, _, _ = two_calls
    other_ids = (answered_other_call.session.public_id.hex, peer_id(answered_other_call.participant))

    for socket in (x_customer, x_operator):
        await socket.send({"type": "sync"})
        state = await socket.receive_until("state")
        assert not any(other in str(state) for other in other_ids)
