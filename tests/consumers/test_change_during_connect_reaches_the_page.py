"""A change committed while a socket connects (after its state was read,
before it joined the session's group) nudges a group the socket is not in
yet. The page must still get it at once, not at a heartbeat seconds later."""

import pytest

from sessions_app import consumers
from sessions_app.audit import Actor
from sessions_app.selectors import CUSTOMER
from sessions_app.services import participant_set_prompt

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_prompt_set_between_reading_the_state_and_joining_the_group_reaches_the_page(
    sockets, answered_call, monkeypatch
):
    arrive = consumers._arrive

    def arrive_then_prompt(scope, language):
        arrival = arrive(scope, language)
        if arrival is not None and arrival[0].role == CUSTOMER:
            participant_set_prompt(
                participant=answered_call.participant, prompt={"code": "turn_left", "text": ""}, actor=Actor.system()
            )
        return arrival

    monkeypatch.setattr(consumers, "_arrive", arrive_then_prompt)

    customer = await sockets.customer(answered_call.participant)

    assert customer.state["me"]["prompt"] is None
    # No heartbeat, no sync: the socket reads the state again by itself.
    state = await customer.receive_until("state")
    assert state["me"]["prompt"]["code"] == "turn_left"
    assert state["version"] > customer.state["version"]
