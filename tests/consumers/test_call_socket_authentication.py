"""Who may open a call's socket: the customers who joined it and the operator
who answered it, nobody else."""

import uuid

import pytest
from channels.db import database_sync_to_async

from operators.services import decision_record
from sessions_app import services
from sessions_app.audit import Actor
from sessions_app.consumers import CLOSE_FORBIDDEN
from sessions_app.selectors import OPERATOR_PEER_ID
from tests.consumers.helpers import (
    call_path,
    customer_joins,
    customer_session_key,
    peer_id,
    user_session_key,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def assert_forbidden(socket):
    """An error frame says why, then the socket closes with 4403, and nothing
    about the call was sent before."""
    error = await socket.receive()
    assert error["type"] == "error"
    assert error["code"] == "forbidden"
    assert await socket.closed_with(CLOSE_FORBIDDEN) == []


async def test_socket_without_a_cookie_is_refused(sockets, answered_call):
    socket = await sockets.open(call_path(answered_call.session))
    await assert_forbidden(socket)


async def test_outsider_is_refused(sockets, answered_call, outsider):
    socket = await sockets.user(call_path(answered_call.session), outsider)
    await assert_forbidden(socket)


async def test_customer_of_another_session_is_refused(sockets, answered_call, answered_other_call):
    socket = await sockets.customer(answered_other_call.participant, session=answered_call.session, joined=False)
    await assert_forbidden(socket)


async def test_customer_of_another_session_of_the_same_business_is_refused(sockets, answered_call, business_a, workflow_a):
    from tests.conftest import create_call

    def second_call_of_business_a():
        session, links = create_call(business_a, workflow_a, names=("Erika Musterfrau",))
        customer_joins(links[0][0])
        return links[0][0]

    stranger = await database_sync_to_async(second_call_of_business_a)()
    socket = await sockets.customer(stranger, session=answered_call.session, joined=False)
    await assert_forbidden(socket)


async def test_operator_of_business_b_is_refused(sockets, answered_call, operator_b):
    socket = await sockets.operator(operator_b, answered_call.session, joined=False)
    await assert_forbidden(socket)


async def test_operator_of_business_a_who_did_not_answer_is_refused(sockets, answered_call, operator_a2):
    socket = await sockets.operator(operator_a2, answered_call.session, joined=False)
    await assert_forbidden(socket)


async def test_operator_cannot_open_a_call_nobody_answered_yet(sockets, live_call, operator_a):
    await database_sync_to_async(customer_joins)(live_call.participant)
    socket = await sockets.operator(operator_a, live_call.session, joined=False)
    await assert_forbidden(socket)


async def test_customer_who_has_not_joined_yet_is_refused(sockets, live_call):
    await database_sync_to_async(services.participant_accept_terms)(
        participant=live_call.participant, ip_address=None, user_agent="pytest"
    )
    socket = await sockets.customer(live_call.participant, joined=False)
    await assert_forbidden(socket)


async def test_customer_who_has_not_accepted_the_terms_is_refused(sockets, live_call):
    socket = await sockets.customer(live_call.participant, joined=False)
    await assert_forbidden(socket)


async def test_customer_with_a_revoked_link_is_refused(sockets, answered_call, operator_a):
    await database_sync_to_async(services.participant_link_revoke)(
        participant=answered_call.participant, actor=Actor.operator(operator_a)
    )
    socket = await sockets.customer(answered_call.participant, joined=False)
    await assert_forbidden(socket)


async def test_nobody_gets_into_an_ended_call(sockets, answered_call, operator_a):
    await database_sync_to_async(services.session_end)(session=answered_call.session, actor=Actor.operator(operator_a))
    await assert_forbidden(await sockets.customer(answered_call.participant, joined=False))
    await assert_forbidden(await sockets.operator(operator_a, answered_call.session, joined=False))


@pytest.mark.parametrize("session_id", ["not-a-uuid", uuid.uuid4().hex])
async def test_unknown_session_is_refused_even_with_a_valid_customer_cookie(sockets, answered_call, session_id):
    key = await database_sync_to_async(customer_session_key)(answered_call.participant)
    socket = await sockets.open(f"/ws/call/{session_id}/", session_key=key)
    await assert_forbidden(socket)


@pytest.mark.parametrize("origin", [(b"origin", b"https://evil.example"), None])
async def test_socket_from_another_site_is_refused_before_it_opens(sockets, answered_call, operator_a, origin):
    """Cross-site websocket hijacking: the assigned operator's own cookie,
    sent by a page of another site (or with no Origin), opens nothing."""
    key = await database_sync_to_async(user_session_key)(operator_a.user)
    await sockets.open_refused(call_path(answered_call.session), session_key=key, origin=origin)


async def test_customer_who_joined_gets_welcome_and_their_state(sockets, answered_call):
    customer = await sockets.customer(answered_call.participant)

    assert customer.welcome["role"] == "customer"
    assert customer.welcome["peer_id"] == peer_id(answered_call.participant)
    assert "iceServers" in customer.welcome["rtc"]
    assert customer.state["session"]["id"] == answered_call.session.public_id.hex
    assert customer.state["session"]["state"] == "in_call"
    assert customer.state["me"]["peer_id"] == peer_id(answered_call.participant)
    assert customer.state["operator"] == {"name": "Alice"}
    assert "participants" not in customer.state  # the operator's view, never the customer's


async def test_customer_waiting_in_the_queue_may_connect_and_sees_the_queue(sockets, live_call):
    await database_sync_to_async(customer_joins)(live_call.participant)
    customer = await sockets.customer(live_call.participant)

    assert customer.state["session"]["state"] == "waiting"
    assert customer.state["queue"]["position"] == 1


async def test_customer_with_a_decision_stays_connected(sockets, answered_call, operator_a):
    customer = await sockets.customer(answered_call.participant)
    await database_sync_to_async(decision_record)(
        participant=answered_call.participant, operator=operator_a, outcome="approve", reason_code="verified",
        share_with_customer=True,
    )
    state = await customer.receive_until("state")
    assert state["me"]["state"] == "decided"
    assert await customer.heartbeat_answered()


async def test_assigned_operator_gets_welcome_and_the_operators_state(sockets, answered_call, operator_a):
    operator = await sockets.operator(operator_a, answered_call.session)

    assert operator.welcome["role"] == "operator"
    assert operator.welcome["peer_id"] == OPERATOR_PEER_ID
    assert operator.state["session"]["id"] == answered_call.session.public_id.hex
    assert [p["peer_id"] for p in operator.state["participants"]] == [peer_id(answered_call.participant)]
