"""A socket that drops comes back to the call as it is now; a second socket
of the same person replaces the first."""

import time

import pytest
from channels.layers import get_channel_layer

from sessions_app.consumers import CLOSE_REPLACED, CallConsumer
from sessions_app.selectors import OPERATOR_PEER_ID
from kyc.realtime import session_group
from tests.consumers.helpers import peer_id, shown

pytestmark = pytest.mark.django_db(transaction=True)

OFFER = {"type": "offer", "sdp": "v=0\r\n"}
PROMPT = {"code": "document_front", "text": "Hold the front of your passport to the camera."}


@pytest.fixture
async def one_on_one(sockets, answered_call, operator_a):
    customer = await sockets.customer(answered_call.participant, instance="tab1")
    operator = await sockets.operator(operator_a, answered_call.session, instance="console1")
    await customer.peers_joined(1)
    await operator.peers_joined(1)
    return customer, operator


async def test_customer_who_reconnects_gets_the_prompt_set_while_away(sockets, one_on_one, answered_call):
    customer, operator = one_on_one
    me = peer_id(answered_call.participant)

    await customer.disconnect()
    assert await operator.receive() == {"type": "peer_left", "peer_id": me}
    await operator.send({"type": "prompt", "participant": me, "prompt": PROMPT})
    assert shown((await operator.receive_until("state"))["participants"][0]["prompt"]) == PROMPT

    back = await sockets.customer(answered_call.participant, instance="tab1")

    assert shown(back.state["me"]["prompt"]) == PROMPT
    assert back.welcome["peer_id"] == me
    assert (await operator.peers_joined(1))[me]["peer"]["instance"] == "tab1"
    assert OPERATOR_PEER_ID in await back.peers_joined(1)


async def test_reconnected_customer_is_reachable_again(sockets, one_on_one, answered_call):
    customer, operator = one_on_one
    me = peer_id(answered_call.participant)

    await customer.disconnect()
    await operator.receive_until("peer_left")
    back = await sockets.customer(answered_call.participant)
    await operator.peers_joined(1)

    await operator.send({"type": "signal", "to": me, "description": OFFER})
    assert await back.receive_until("signal") == {"type": "signal", "from": OPERATOR_PEER_ID, "description": OFFER}


async def test_second_socket_of_the_same_customer_replaces_the_first(sockets, one_on_one, answered_call):
    first, operator = one_on_one
    me = peer_id(answered_call.participant)

    second = await sockets.customer(answered_call.participant, instance="tab2")

    assert (await first.receive())["type"] == "replaced"
    assert await first.closed_with(CLOSE_REPLACED) == []
    assert (await operator.peers_joined(1))[me]["peer"]["instance"] == "tab2"
    await second.peers_joined(1)
    await operator.send({"type": "signal", "to": me, "description": OFFER})
    assert (await second.receive())["from"] == OPERATOR_PEER_ID
    assert await first.nothing()


async def test_a_late_hello_of_an_older_socket_replaces_nothing(sockets, one_on_one, answered_call):
    """With Redis the layer hands a group message to whoever is in the group
    when it is read, not when it was sent: a quick reload's new socket, and
    its peers, can hear the old socket's hello after the new one's. The
    newer socket stays, and the operator keeps relaying to it."""
    customer, operator = one_on_one
    me = peer_id(answered_call.participant)
    gone = "specific.gone!old-socket"
    await get_channel_layer().group_send(
        session_group(answered_call.session.public_id),
        {
            "type": "roster.hello",
            "peer": {"peer_id": me, "role": "customer", "name": answered_call.participant.name, "instance": "tab0"},
            "media": {"audio": True, "video": True},
            "channel": gone,
            "order": [time.time() - 5, gone],
        },
    )

    assert await customer.heartbeat_answered()
    assert await operator.nothing()
    await operator.send({"type": "signal", "to": me, "description": OFFER})
    assert (await customer.receive_until("signal"))["from"] == OPERATOR_PEER_ID


async def test_replaced_socket_going_away_does_not_remove_its_successor(sockets, one_on_one, answered_call):
    """The old socket's goodbye names its own channel, so the operator keeps
    the new one."""
    first, operator = one_on_one
    me = peer_id(answered_call.participant)
    second = await sockets.customer(answered_call.participant, instance="tab2")
    await first.closed_with(CLOSE_REPLACED)
    await operator.peers_joined(1)

    await first.disconnect()

    assert await operator.nothing()
    await operator.send({"type": "signal", "to": me, "description": OFFER})
    assert (await second.receive_until("signal"))["from"] == OPERATOR_PEER_ID


async def test_replaced_socket_that_lingers_is_not_introduced_to_newcomers(sockets, one_on_one, answered_call, operator_a):
    """Between the server closing a replaced socket and the browser's
    disconnect arriving, the old consumer is still in the group. A peer that
    connects then must learn only the new socket, or its signals would go to
    a dead one."""
    first, operator = one_on_one
    me = peer_id(answered_call.participant)
    second = await sockets.customer(answered_call.participant, instance="tab2")
    await first.closed_with(CLOSE_REPLACED)
    await second.peers_joined(1)
    await operator.disconnect()
    await second.receive_until("peer_left")

    operator_again = await sockets.operator(operator_a, answered_call.session)

    introduced = [m for m in await operator_again.drain() if m["type"] == "peer_joined"]
    assert [(m["peer"]["peer_id"], m["peer"]["instance"]) for m in introduced] == [(me, "tab2")]
    await operator_again.send({"type": "signal", "to": me, "description": OFFER})
    assert (await second.receive_until("signal"))["from"] == OPERATOR_PEER_ID


async def test_second_socket_of_the_operator_replaces_the_first(sockets, one_on_one, answered_call, operator_a):
    customer, first = one_on_one

    second = await sockets.operator(operator_a, answered_call.session, instance="console2")

    assert (await first.receive())["type"] == "replaced"
    await first.closed_with(CLOSE_REPLACED)
    assert (await customer.peers_joined(1))[OPERATOR_PEER_ID]["peer"]["instance"] == "console2"
    await second.peers_joined(1)
    await customer.send({"type": "signal", "to": OPERATOR_PEER_ID, "description": OFFER})
    assert (await second.receive())["from"] == peer_id(answered_call.participant)


async def test_sync_resends_the_current_state(one_on_one, answered_call):
    customer, operator = one_on_one
    await operator.send({"type": "prompt", "participant": peer_id(answered_call.participant), "prompt": PROMPT})
    await customer.receive_until("state")

    await customer.send({"type": "sync"})

    assert shown((await customer.receive())["me"]["prompt"]) == PROMPT


async def test_a_peer_whose_goodbye_was_lost_leaves_the_others_page_at_their_next_heartbeat(
    sockets, one_on_one, answered_call, monkeypatch, settings
):
    """The channel layer delivers at most once: a lost goodbye must not leave a
    dead tile on the others' pages. A peer silent for PRESENCE_TIMEOUT_SECONDS
    is gone, and the browser is told so."""
    customer, operator = one_on_one

    async def goodbye_lost(consumer):
        consumer.said_bye = True

    monkeypatch.setattr(CallConsumer, "_say_bye", goodbye_lost)
    await customer.disconnect()
    settings.PRESENCE_TIMEOUT_SECONDS = 0

    await operator.send({"type": "heartbeat"})
    assert await operator.receive_until("peer_left") == {"type": "peer_left", "peer_id": peer_id(answered_call.participant)}
