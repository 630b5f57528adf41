"""Who is in a multi-user call: leaving, rejoining, joining late and being
removed, without disturbing the others."""

import pytest
from channels.db import database_sync_to_async

from sessions_app import services
from sessions_app.models import Participant, VerificationSession
from tests.conftest import create_call
from tests.consumers.helpers import (
    call_path,
    customer_joins,
    customer_session_key,
    operator_answers,
    peer_id,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def test_removed_participant_loses_the_call_and_the_others_stay(sockets, group, group_call, operator_a):
    operator, (first, second, third) = group
    removed = group_call.participants[1]

    await database_sync_to_async(services.participant_remove)(participant=removed, operator=operator_a)

    before_close = await second.closed_with(4403)
    assert [m["me"]["state"] for m in before_close if m["type"] == "state"][-1] == "removed"
    for socket in (operator, first, third):
        assert (await socket.receive_until("peer_left"))["peer_id"] == peer_id(removed)
        assert await socket.heartbeat_answered()
    session = await database_sync_to_async(VerificationSession.objects.get)(pk=group_call.session.pk)
    assert session.state == VerificationSession.State.IN_CALL
    # Their link no longer opens the call.
    key = await database_sync_to_async(customer_session_key)(removed)
    again = await sockets.open(call_path(group_call.session), session_key=key)
    assert (await again.receive())["code"] == "forbidden"


async def test_participant_who_leaves_can_rejoin_and_the_others_see_them_again(sockets, group, group_call):
    operator, (first, second, third) = group
    leaver = group_call.participants[2]

    await third.send({"type": "end_call"})
    await third.closed_with(4403)
    for socket in (operator, first, second):
        assert (await socket.receive_until("peer_left"))["peer_id"] == peer_id(leaver)
    assert (await database_sync_to_async(Participant.objects.get)(pk=leaver.pk)).state == Participant.State.LEFT

    await database_sync_to_async(services.participant_join)(participant=leaver)
    back = await sockets.customer(leaver, instance="rejoined")
    assert back.state["me"]["state"] == "in_call"
    assert set(await back.peers_joined(3)) == {"operator", peer_id(group_call.participants[0]), peer_id(group_call.participants[1])}
    for socket in (operator, first, second):
        joined = await socket.receive_until("peer_joined")
        assert joined["peer"]["peer_id"] == peer_id(leaver)
        assert joined["peer"]["instance"] == "rejoined"


async def test_late_joiner_goes_straight_into_the_running_call(sockets, business_a, workflow_a, operator_a):
    session, links = await database_sync_to_async(create_call)(business_a, workflow_a, names=("Anna A", "Ben B"))
    early, late = [participant for participant, _ in links]
    await database_sync_to_async(customer_joins)(early)
    await database_sync_to_async(operator_answers)(session, operator_a)
    operator = await sockets.operator(operator_a, session)
    first = await sockets.customer(early)
    await operator.peers_joined(1)
    await first.peers_joined(1)

    await database_sync_to_async(customer_joins)(late)
    second = await sockets.customer(late)

    assert second.state["me"]["state"] == "in_call"
    assert set(await second.peers_joined(2)) == {"operator", peer_id(early)}
    assert (await operator.receive_until("peer_joined"))["peer"]["peer_id"] == peer_id(late)
    assert (await first.receive_until("peer_joined"))["peer"]["peer_id"] == peer_id(late)


async def test_session_completes_once_everyone_has_a_decision_or_has_left(sockets, group, group_call, operator_a):
    operator, (first, second, third) = group
    await database_sync_to_async(_decide)(group_call.participants[0], operator_a)
    await second.send({"type": "end_call"})
    await second.closed_with(4403)  # only they left; the call goes on
    assert await third.heartbeat_answered()

    await third.send({"type": "end_call"})

    # The last undecided participant left: the call is over for everyone.
    for socket in (operator, first, third):
        await socket.closed_with(4000)
    session = await database_sync_to_async(VerificationSession.objects.get)(pk=group_call.session.pk)
    assert session.state == VerificationSession.State.COMPLETED


def _decide(participant, operator):
    from operators.services import decision_record

    decision_record(participant=participant, operator=operator, outcome="approve", reason_code="verified")
