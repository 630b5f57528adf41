"""Calls at the point the socket tests start from, built with the services
the way the product gets there. ``answered_call`` (business A, Alice) comes
from tests/conftest.py; these add business B's call and a group call."""

from dataclasses import dataclass

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from kyc import throttle

from sessions_app.models import Participant, VerificationSession
from tests.conftest import create_call
from tests.consumers.helpers import Sockets, customer_joins, operator_answers


@pytest.fixture
async def sockets(transactional_db):
    # The open-socket count per address lives in the cache, which outlives a
    # test (with REDIS_URL, the run): every test starts from none.
    await database_sync_to_async(throttle.socket_slots_forget)(None)
    opened = Sockets()
    yield opened
    await opened.close_all()
    # A fresh layer per test: the in-memory layer keeps queues bound to the
    # test's event loop, and the Redis one its connections.
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()


@dataclass
class Call:
    session: VerificationSession
    participants: list[Participant]

    @property
    def participant(self) -> Participant:
        return self.participants[0]


def _refreshed(session, participants) -> Call:
    session.refresh_from_db()
    for participant in participants:
        participant.refresh_from_db()
    return Call(session=session, participants=list(participants))


@pytest.fixture
def answered_other_call(other_call, operator_b) -> Call:
    """Business B's one-on-one call: the customer joined, Bob answered."""
    customer_joins(other_call.participant)
    operator_answers(other_call.session, operator_b)
    return _refreshed(other_call.session, [other_call.participant])


@pytest.fixture
def group_call(business_a, workflow_a, operator_a) -> Call:
    """Business A's multi-user call with three customers, answered by Alice."""
    session, links = create_call(business_a, workflow_a, names=("Max Mustermann", "Erika Musterfrau", "Jonas Weber"))
    participants = [participant for participant, _ in links]
    for participant in participants:
        customer_joins(participant)
    operator_answers(session, operator_a)
    return _refreshed(session, participants)


@pytest.fixture
async def group(sockets, group_call, operator_a):
    """The three-person call with every socket open and introduced:
    (operator, [customers]). (test_signaling_relay.py keeps its own: it
    remembers each socket's peers.)"""
    operator = await sockets.operator(operator_a, group_call.session)
    customers = [await sockets.customer(participant) for participant in group_call.participants]
    for socket in (operator, *customers):
        await socket.peers_joined(3)
    return operator, customers
