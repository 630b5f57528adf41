"""Every heartbeat answer carries the state's version, so a page whose nudge
the channel layer lost (at most once delivery) sees it is behind."""

import pytest
from channels.db import database_sync_to_async

from sessions_app.audit import Actor
from sessions_app.models import VerificationSession
from sessions_app.services import participant_set_prompt

pytestmark = pytest.mark.django_db(transaction=True)


async def test_heartbeat_answer_carries_the_version_of_a_change_made_behind_the_sockets_back(
    sockets, answered_call
):
    customer = await sockets.customer(answered_call.participant, instance="tab1")
    seen = customer.state["version"]

    # Stored without telling anyone, as when the nudge is lost on the way.
    def change_quietly():
        from unittest import mock

        with mock.patch("kyc.realtime._group_send"):
            participant_set_prompt(
                participant=answered_call.participant, prompt={"code": "hold_still", "text": ""}, actor=Actor.system()
            )
        return VerificationSession.objects.get(pk=answered_call.session.pk).state_version

    current = await database_sync_to_async(change_quietly)()
    assert current > seen

    await customer.send({"type": "heartbeat"})
    assert (await customer.receive_until("heartbeat_ack"))["version"] == current
