"""A prompt the operator shows one participant is in that participant's
state only."""

import json

import pytest
from channels.db import database_sync_to_async

from sessions_app.models import Participant
from tests.consumers.helpers import peer_id, shown

pytestmark = pytest.mark.django_db(transaction=True)

PROMPT = {"code": "question", "text": "Please say your mother's maiden name: Kowalczyk-7731"}


async def test_prompt_for_participant_two_reaches_only_participant_twos_state(group, group_call):
    operator, (first, second, third) = group

    await operator.send({"type": "prompt", "participant": peer_id(group_call.participants[1]), "prompt": PROMPT})

    assert shown((await second.receive_until("state"))["me"]["prompt"]) == PROMPT
    for other in (first, third):
        other_state = await other.receive_until("state")
        assert other_state["me"]["prompt"] is None
        assert "Kowalczyk" not in json.dumps(other_state)
        await other.send({"type": "sync"})
        assert "Kowalczyk" not in json.dumps(await other.receive_until("state"))
    operator_state = await operator.receive_until("state")
    assert [p["prompt"] and shown(p["prompt"]) for p in operator_state["participants"]] == [None, PROMPT, None]


async def test_prompt_can_be_cleared(group, group_call):
    operator, (_, second, _) = group
    target = peer_id(group_call.participants[1])
    await operator.send({"type": "prompt", "participant": target, "prompt": PROMPT})
    await second.receive_until("state")

    await operator.send({"type": "prompt", "participant": target, "prompt": None})

    assert (await second.receive_until("state"))["me"]["prompt"] is None


async def test_operator_cannot_prompt_a_participant_of_another_call(sockets, answered_call, answered_other_call, operator_a):
    operator = await sockets.operator(operator_a, answered_call.session)
    stranger = await sockets.customer(answered_other_call.participant)

    await operator.send({"type": "prompt", "participant": peer_id(answered_other_call.participant), "prompt": PROMPT})

    assert (await operator.receive())["code"] == "rejected"
    assert await stranger.nothing()
    prompt = await database_sync_to_async(
        lambda: Participant.objects.get(pk=answered_other_call.participant.pk).current_prompt
    )()
    assert prompt is None
