"""Ending a call ends it for every socket in it; a customer whose link is
revoked mid-call loses their socket."""

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from operators.services import decision_record
from sessions_app import services
from sessions_app.audit import Actor
from sessions_app.consumers import CLOSE_CALL_ENDED, CLOSE_FORBIDDEN
from sessions_app.models import Participant, VerificationSession
from tests.consumers.helpers import peer_id

pytestmark = pytest.mark.django_db(transaction=True)


def session_state(session) -> str:
    return VerificationSession.objects.get(pk=session.pk).state


async def assert_call_ended(socket):
    """The final state, then call_ended, then close 4000."""
    before = await socket.closed_with(CLOSE_CALL_ENDED)
    assert [m["type"] for m in before][-2:] == ["state", "call_ended"], before
    assert before[-2]["session"]["ended"] is True


async def test_operators_end_call_ends_the_call_for_every_socket(sockets, group_call, operator_a):
    operator = await sockets.operator(operator_a, group_call.session)
    customers = [await sockets.customer(participant) for participant in group_call.participants]

    await operator.send({"type": "end_call"})

    for socket in (operator, *customers):
        await assert_call_ended(socket)
    assert await database_sync_to_async(session_state)(group_call.session) == "abandoned"


async def test_call_ended_after_a_decision_is_completed(sockets, answered_call, operator_a):
    operator = await sockets.operator(operator_a, answered_call.session)
    customer = await sockets.customer(answered_call.participant)
    await database_sync_to_async(decision_record)(
        participant=answered_call.participant, operator=operator_a, outcome="approve", reason_code="verified"
    )
    await customer.receive_until("state")

    await operator.send({"type": "end_call"})

    await assert_call_ended(operator)
    await assert_call_ended(customer)
    assert await database_sync_to_async(session_state)(answered_call.session) == "completed"


async def test_customer_ending_a_one_on_one_call_ends_it_for_the_operator(sockets, answered_call, operator_a):
    operator = await sockets.operator(operator_a, answered_call.session)
    customer = await sockets.customer(answered_call.participant)

    await customer.send({"type": "end_call"})

    await assert_call_ended(customer)
    await assert_call_ended(operator)
    assert await database_sync_to_async(session_state)(answered_call.session) == "abandoned"


async def test_customer_leaving_a_group_call_leaves_the_others_in_it(sockets, group_call, operator_a):
    operator = await sockets.operator(operator_a, group_call.session)
    leaving, staying, _ = [await sockets.customer(participant) for participant in group_call.participants]

    await leaving.send({"type": "end_call"})

    state = await staying.receive_until("state")
    assert state["session"]["state"] == "in_call"
    assert {o["peer_id"]: o["state"] for o in state["others"]}[peer_id(group_call.participants[0])] == "left"
    assert await staying.heartbeat_answered()
    assert await operator.heartbeat_answered()
    assert await database_sync_to_async(session_state)(group_call.session) == "in_call"


async def test_revoked_link_closes_the_customers_socket_at_the_next_heartbeat(
    sockets, answered_call, operator_a, settings
):
    """Even when the nudge about the revocation never arrives (channel layers
    deliver at most once), the heartbeat re-check catches it (the first
    heartbeat SIGNALING_RECHECK_SECONDS after the last check; 0 here)."""
    settings.SIGNALING_RECHECK_SECONDS = 0
    customer = await sockets.customer(answered_call.participant)
    operator = await sockets.operator(operator_a, answered_call.session)
    await customer.peers_joined(1)
    await database_sync_to_async(
        lambda: Participant.objects.filter(pk=answered_call.participant.pk).update(link_revoked_at=timezone.now())
    )()

    await customer.send({"type": "heartbeat"})

    before = await customer.closed_with(CLOSE_FORBIDDEN)
    assert before[-1]["type"] == "error" and before[-1]["code"] == "forbidden"
    assert "heartbeat_ack" not in [m["type"] for m in before]
    await customer.disconnect()
    assert (await operator.receive_until("peer_left"))["peer_id"] == peer_id(answered_call.participant)


async def test_revoking_a_link_mid_call_closes_the_customers_socket(sockets, answered_call, operator_a):
    customer = await sockets.customer(answered_call.participant)

    await database_sync_to_async(services.participant_link_revoke)(
        participant=answered_call.participant, actor=Actor.operator(operator_a)
    )

    await customer.closed_with(CLOSE_FORBIDDEN)


async def test_operator_whose_call_ended_elsewhere_is_closed_at_the_next_heartbeat(
    sockets, answered_call, operator_a, settings
):
    settings.SIGNALING_RECHECK_SECONDS = 0
    operator = await sockets.operator(operator_a, answered_call.session)
    await database_sync_to_async(
        lambda: VerificationSession.objects.filter(pk=answered_call.session.pk).update(state="abandoned")
    )()

    await operator.send({"type": "heartbeat"})

    await operator.closed_with(CLOSE_FORBIDDEN)
