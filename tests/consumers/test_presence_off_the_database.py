"""Presence lives in the cache: a heartbeat renews a lease and reaches no
database; the database hears of the arrival only; a connect reaches the
database thread once; and a page whose heartbeats stopped is still found
out (the sweep reads the leases)."""

import contextlib
import time
from datetime import timedelta

import pytest
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from accounts.selectors import OPERATOR_PRESENCE
from kyc.presence import presence_beat, presence_beats
from operators.selectors import queue_snapshot
from sessions_app.housekeeping import sessions_sweep_stale
from sessions_app.models import Participant, VerificationSession
from sessions_app.selectors import PARTICIPANT_PRESENCE
from tests.consumers.helpers import QUEUE_PATH, call_path, customer_joins

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def counting_queries():
    """Every query of every thread (database_sync_to_async runs elsewhere)."""
    queries = []
    original = CursorWrapper.execute

    def counting(self, sql, params=None):
        queries.append(sql)
        return original(self, sql, params)

    CursorWrapper.execute = counting
    try:
        yield queries
    finally:
        CursorWrapper.execute = original


@contextlib.contextmanager
def counting_database_trips():
    """Every call that hops to the database thread."""
    trips = []
    original = DatabaseSyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        trips.append(getattr(self.func, "__name__", repr(self.func)))
        return await original(self, *args, **kwargs)

    DatabaseSyncToAsync.__call__ = counting
    try:
        yield trips
    finally:
        DatabaseSyncToAsync.__call__ = original


def last_seen(participant) -> object:
    return Participant.objects.get(pk=participant.pk).last_seen_at


async def test_heartbeats_renew_the_lease_without_touching_the_database(sockets, answered_call, operator_a):
    customer = await sockets.customer(answered_call.participant)
    operator = await sockets.operator(operator_a, answered_call.session)
    stamped_at_arrival = await database_sync_to_async(last_seen)(answered_call.participant)
    before = time.time()

    with counting_queries() as queries, counting_database_trips() as trips:
        for _ in range(3):
            assert await customer.heartbeat_answered()
            assert await operator.heartbeat_answered()

    assert queries == []
    assert trips == []
    assert presence_beats(PARTICIPANT_PRESENCE, [answered_call.participant.pk])[answered_call.participant.pk] >= before
    assert presence_beats(OPERATOR_PRESENCE, [operator_a.pk])[operator_a.pk] >= before
    assert await database_sync_to_async(last_seen)(answered_call.participant) == stamped_at_arrival


async def test_arrival_is_stamped_in_the_database_once(sockets, answered_call):
    long_ago = timezone.now() - timedelta(hours=1)
    await database_sync_to_async(
        lambda: Participant.objects.filter(pk=answered_call.participant.pk).update(last_seen_at=long_ago)
    )()

    await sockets.customer(answered_call.participant)

    assert await database_sync_to_async(last_seen)(answered_call.participant) > long_ago


async def test_heartbeat_ack_carries_the_version_without_the_database(sockets, answered_call):
    customer = await sockets.customer(answered_call.participant)
    await database_sync_to_async(
        lambda: VerificationSession.objects.get(pk=answered_call.session.pk).state_version
    )()

    with counting_queries() as queries:
        await customer.send({"type": "heartbeat"})
        ack = await customer.receive_until("heartbeat_ack")

    assert queries == []
    assert ack["version"] == customer.state["version"]


@pytest.mark.parametrize("who", ["customer", "operator"])
async def test_a_connect_reaches_the_database_thread_once(sockets, answered_call, operator_a, who):
    """Its session, its user, who it is in the call, the arrival's stamp and
    the first state: one trip, and a handful of queries."""
    if who == "operator":
        # The operator's Django session is made before counting (the login).
        from tests.consumers.helpers import user_session_key

        key = await database_sync_to_async(user_session_key)(operator_a.user)
    else:
        from tests.consumers.helpers import customer_session_key

        key = await database_sync_to_async(customer_session_key)(answered_call.participant)

    with counting_queries() as queries, counting_database_trips() as trips:
        socket = await sockets.open(call_path(answered_call.session), session_key=key, label=who)
        await socket.joined()

    assert trips == ["_arrive"]
    # Everything before the arrival's stamp is the authorisation: the
    # customer's session and one query; the operator's session, user,
    # second-factor rule, operator profile and the call.
    authorisation = queries[: next(i for i, q in enumerate(queries) if q.startswith("UPDATE"))]
    assert len(authorisation) <= (5 if who == "operator" else 2), authorisation


async def test_a_waiting_customer_whose_heartbeats_stopped_leaves_the_queue(sockets, waiting_call, operator_a):
    customer = await sockets.customer(waiting_call.participant)
    assert await customer.heartbeat_answered()
    # Joined long ago, beating still: in the queue.
    await database_sync_to_async(
        lambda: Participant.objects.filter(pk=waiting_call.participant.pk).update(
            last_seen_at=timezone.now() - timedelta(minutes=5)
        )
    )()
    assert (await database_sync_to_async(sessions_sweep_stale)())["left_queue"] == 0
    snapshot = await database_sync_to_async(queue_snapshot)(operator=operator_a)
    assert [e["participants"][0]["ready"] for e in snapshot["entries"]] == [True]

    # The browser died without a word: the last beat ages past the timeout.
    presence_beat(PARTICIPANT_PRESENCE, waiting_call.participant.pk, now=time.time() - 60)

    assert (await database_sync_to_async(sessions_sweep_stale)())["left_queue"] == 1
    state = await database_sync_to_async(lambda: Participant.objects.get(pk=waiting_call.participant.pk).state)()
    assert state == Participant.State.TERMS_ACCEPTED


async def test_the_queue_console_heartbeat_keeps_the_operator_available_without_the_database(sockets, operator_a):
    console = await sockets.user(QUEUE_PATH, operator_a.user)
    await console.receive()
    await console.send({"type": "presence", "presence": "available"})
    assert (await console.receive_until("queue"))["operators_available"] == 1
    await console.drain()  # the nudge of the presence change refreshes the queue once more

    with counting_queries() as queries:
        await console.send({"type": "heartbeat"})
        await console.receive_until("heartbeat_ack")

    assert queries == []
    assert operator_a.pk in presence_beats(OPERATOR_PRESENCE, [operator_a.pk])


async def test_customer_who_reconnects_keeps_the_place_their_join_gave(sockets, live_call):
    await database_sync_to_async(customer_joins)(live_call.participant)
    first = await sockets.customer(live_call.participant, instance="tab1")
    await first.disconnect()
    # Closing the socket ends the lease; the database keeps a short grace.
    assert presence_beats(PARTICIPANT_PRESENCE, [live_call.participant.pk]) == {}
    assert (await database_sync_to_async(sessions_sweep_stale)())["left_queue"] == 0
