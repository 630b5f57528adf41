"""A burst of changes (a liveness burst's frames, their checks, the operator's
own still) nudges every socket of the call once per change. A socket whose
read of the state is slow must not read it once per nudge: the nudges queued
behind a read that already saw their change say nothing new. The page still
ends on the newest state, and a change that takes a person out of the call
still closes their socket."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from kyc.realtime import session_group
from sessions_app import consumers
from sessions_app.audit import Actor
from sessions_app.models import VerificationSession
from sessions_app.changes import session_mark_changed
from sessions_app.consumers import CLOSE_FORBIDDEN
from sessions_app.services import participant_link_revoke, participant_set_prompt
from tests.consumers.helpers import QUIET

pytestmark = pytest.mark.django_db(transaction=True)

ACTIONS = ["turn_left", "turn_right", "smile", "blink", "look_up", "look_down"]


def _slow_reads(monkeypatch):
    """Every state read (with its validity) waits a little first, as on a
    busy database thread; returns the list the reads are counted in."""
    reads = []
    read = consumers.CallConsumer._state_and_validity

    def slow(self):
        time.sleep(0.2)
        reads.append(self.identity.role)
        return read(self)

    monkeypatch.setattr(consumers.CallConsumer, "_state_and_validity", slow)
    return reads


@database_sync_to_async
def _prompt_each(participant, codes):
    for code in codes:
        participant_set_prompt(participant=participant, prompt={"code": code, "text": ""}, actor=Actor.system())


async def test_a_burst_of_changes_costs_fewer_reads_and_ends_on_the_newest_state(sockets, answered_call, monkeypatch):
    customer = await sockets.customer(answered_call.participant)
    reads = _slow_reads(monkeypatch)

    await _prompt_each(answered_call.participant, ACTIONS)

    newest = None
    while newest is None or newest["me"]["prompt"]["code"] != ACTIONS[-1]:
        newest = await customer.receive_until("state")
    await asyncio.sleep(QUIET)
    assert await customer.nothing()
    # One read per nudge would be six; the first read sees at most a couple
    # of the changes, the next one the rest.
    assert 1 <= reads.count("customer") < len(ACTIONS), reads
    version = await database_sync_to_async(
        VerificationSession.objects.values_list("state_version", flat=True).get
    )(pk=answered_call.session.pk)
    assert newest["version"] == version


async def test_a_nudge_newer_than_the_last_read_is_read(sockets, answered_call, monkeypatch):
    customer = await sockets.customer(answered_call.participant)
    reads = _slow_reads(monkeypatch)

    for code in ACTIONS[:3]:
        await _prompt_each(answered_call.participant, [code])
        state = await customer.receive_until("state")
        # Each change on its own (nothing queued): each is read and shown.
        assert state["me"]["prompt"]["code"] == code
    assert reads.count("customer") == 3


async def test_a_nudge_without_a_version_is_always_read(sockets, answered_call):
    customer = await sockets.customer(answered_call.participant)

    await get_channel_layer().group_send(session_group(answered_call.session.public_id), {"type": "session.changed"})
    state = await customer.receive_until("state")
    assert state["version"] == customer.state["version"]


async def test_a_revocation_in_a_burst_of_changes_still_closes_the_socket(sockets, answered_call, monkeypatch):
    customer = await sockets.customer(answered_call.participant)
    _slow_reads(monkeypatch)

    @database_sync_to_async
    def burst_then_revoke():
        for code in ACTIONS[:3]:
            participant_set_prompt(participant=answered_call.participant, prompt={"code": code, "text": ""}, actor=Actor.system())
        participant_link_revoke(participant=answered_call.participant, actor=Actor.api())
        for code in ACTIONS[3:]:
            # Changes after it (the operator still working) do not hide it.
            session_mark_changed(answered_call.session)

    await burst_then_revoke()
    await customer.closed_with(CLOSE_FORBIDDEN, timeout=10)
