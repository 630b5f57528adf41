"""Offers, answers and candidates go to the addressed peer of the same call
and nobody else, stamped with the sender the server knows."""

import pytest

from sessions_app.selectors import OPERATOR_PEER_ID
from tests.consumers.helpers import peer_id

pytestmark = pytest.mark.django_db(transaction=True)

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host", "sdpMid": "0", "sdpMLineIndex": 0}


@pytest.fixture
async def one_on_one(sockets, answered_call, operator_a):
    customer = await sockets.customer(answered_call.participant)
    operator = await sockets.operator(operator_a, answered_call.session)
    await customer.peers_joined(1)
    await operator.peers_joined(1)
    return customer, operator


@pytest.fixture
async def group(sockets, group_call, operator_a):
    """Alice and three customers, every pair introduced."""
    operator = await sockets.operator(operator_a, group_call.session)
    customers = [await sockets.customer(participant) for participant in group_call.participants]
    everyone = [operator, *customers]
    for socket in everyone:
        socket.peers = await socket.peers_joined(len(everyone) - 1)
    return operator, customers


async def test_operators_offer_reaches_the_customer_from_the_operator(one_on_one, answered_call):
    customer, operator = one_on_one

    await operator.send({"type": "signal", "to": peer_id(answered_call.participant), "description": OFFER})

    assert await customer.receive() == {"type": "signal", "from": OPERATOR_PEER_ID, "description": OFFER}
    assert await operator.nothing()


async def test_customers_answer_and_candidates_reach_the_operator(one_on_one, answered_call):
    customer, operator = one_on_one
    me = peer_id(answered_call.participant)

    await customer.send({"type": "signal", "to": OPERATOR_PEER_ID, "description": ANSWER})
    await customer.send({"type": "signal", "to": OPERATOR_PEER_ID, "candidate": CANDIDATE})
    await customer.send({"type": "signal", "to": OPERATOR_PEER_ID, "candidate": None})

    assert await operator.receive() == {"type": "signal", "from": me, "description": ANSWER}
    candidate = await operator.receive()
    assert candidate["from"] == me
    assert candidate["candidate"] == {**CANDIDATE, "usernameFragment": None}
    assert await operator.receive() == {"type": "signal", "from": me, "candidate": None}
    assert await customer.nothing()


async def test_signal_to_customer_two_reaches_only_customer_two(group, group_call):
    operator, (first, second, third) = group

    await operator.send({"type": "signal", "to": peer_id(group_call.participants[1]), "description": OFFER})

    assert await second.receive() == {"type": "signal", "from": OPERATOR_PEER_ID, "description": OFFER}
    assert await first.nothing()
    assert await third.nothing()
    assert await operator.nothing()


async def test_signal_between_two_customers_reaches_only_the_addressed_one(group, group_call):
    operator, (first, second, third) = group

    await first.send({"type": "signal", "to": peer_id(group_call.participants[2]), "candidate": CANDIDATE})

    relayed = await third.receive()
    assert (relayed["type"], relayed["from"]) == ("signal", peer_id(group_call.participants[0]))
    assert await second.nothing()
    assert await operator.nothing()


async def test_client_cannot_choose_the_sender_of_its_signal(group, group_call):
    """A customer claiming to be the operator (or another customer) is
    relayed under their own peer id."""
    operator, (first, second, third) = group
    target = peer_id(group_call.participants[1])

    for spoofed in (OPERATOR_PEER_ID, peer_id(group_call.participants[2])):
        await first.send({"type": "signal", "to": target, "from": spoofed, "description": OFFER})
        relayed = await second.receive()
        assert relayed["from"] == peer_id(group_call.participants[0])

    await first.send({"type": "signal", "to": target, "description": OFFER, "type_": "x", "channel": "specific.x"})
    assert await second.receive() == {"type": "signal", "from": peer_id(group_call.participants[0]), "description": OFFER}


async def test_signal_to_oneself_or_to_an_unknown_peer_is_refused(one_on_one, answered_call):
    customer, operator = one_on_one

    for target in (peer_id(answered_call.participant), "f" * 32, "specific.inmemory!abc"):
        await customer.send({"type": "signal", "to": target, "description": OFFER})
        error = await customer.receive()
        assert (error["code"], error["to"]) == ("unknown_peer", target)
    assert await operator.nothing()


async def test_polite_flags_are_complementary_for_every_pair(group, group_call):
    """Perfect negotiation needs exactly one polite side per pair; the
    operator is never the polite one."""
    operator, customers = group
    everyone = {OPERATOR_PEER_ID: operator} | {peer_id(p): s for p, s in zip(group_call.participants, customers)}

    assert not any(message["polite"] for message in operator.peers.values())
    for me, socket in everyone.items():
        assert set(socket.peers) == set(everyone) - {me}
        for other, message in socket.peers.items():
            assert message["polite"] != everyone[other].peers[me]["polite"], (me, other)


async def test_peers_are_introduced_with_name_role_and_instance(sockets, answered_call, operator_a):
    customer = await sockets.customer(answered_call.participant, instance="tab1")
    operator = await sockets.operator(operator_a, answered_call.session, instance="console7")

    seen_by_customer = (await customer.peers_joined(1))[OPERATOR_PEER_ID]
    seen_by_operator = (await operator.peers_joined(1))[peer_id(answered_call.participant)]

    assert seen_by_customer["peer"] == {"peer_id": OPERATOR_PEER_ID, "role": "operator", "name": "Alice", "instance": "console7"}
    assert seen_by_operator["peer"] == {
        "peer_id": peer_id(answered_call.participant),
        "role": "customer",
        "name": "Max Mustermann",
        "instance": "tab1",
    }


async def test_peer_that_leaves_is_announced_and_no_longer_reachable(one_on_one, answered_call):
    customer, operator = one_on_one
    gone = peer_id(answered_call.participant)

    await customer.disconnect()

    assert await operator.receive() == {"type": "peer_left", "peer_id": gone}
    await operator.send({"type": "signal", "to": gone, "description": OFFER})
    assert (await operator.receive())["code"] == "unknown_peer"


async def test_media_state_reaches_the_other_peers_but_not_the_sender(group, group_call):
    operator, (first, second, third) = group

    await first.send({"type": "media_state", "audio": False, "video": True})

    expected = {"type": "peer_media", "peer_id": peer_id(group_call.participants[0]), "media": {"audio": False, "video": True}}
    for socket in (operator, second, third):
        assert await socket.receive() == expected
    assert await first.nothing()
