"""The customer's page confirms each prompt it shows (prompt_shown); the
operator's state says per participant whether the current prompt was shown,
and the operator can send an unconfirmed prompt again (prompt_resend). A
confirmation for another participant, for a replaced prompt or of the wrong
shape is refused with a clear error and changes nothing."""

import pytest
from channels.db import database_sync_to_async

from sessions_app.models import Participant, VerificationSession
from tests.consumers.helpers import peer_id, shown

pytestmark = pytest.mark.django_db(transaction=True)

FRONT = {"code": "document_front", "text": ""}
BACK = {"code": "document_back", "text": ""}


def _stored_prompt(participant):
    return database_sync_to_async(lambda: Participant.objects.get(pk=participant.pk).current_prompt)()


def _version(session):
    return database_sync_to_async(
        lambda: VerificationSession.objects.values_list("state_version", flat=True).get(pk=session.pk)
    )()


async def _prompt(operator, customer, participant, prompt=FRONT) -> dict:
    """The operator shows ``prompt``; returns it as the customer's page got it."""
    await operator.send({"type": "prompt", "participant": peer_id(participant), "prompt": prompt})
    state = await customer.receive_until("state")
    await operator.receive_until("state")
    return state["me"]["prompt"]


async def test_a_prompt_reaches_the_operator_as_shown_once_the_customers_page_confirms_it(group, group_call):
    operator, (_, second, _) = group
    target = group_call.participants[1]
    prompt = await _prompt(operator, second, target)
    assert shown(prompt) == FRONT
    assert isinstance(prompt["id"], int)

    await second.send({"type": "prompt_shown", "participant": peer_id(target), "prompt": prompt["id"]})

    operator_view = (await operator.receive_until("state"))["participants"][1]["prompt"]
    assert operator_view["id"] == prompt["id"]
    assert operator_view["shown"] is True
    assert (await _stored_prompt(target))["shown_at"]
    # The console reloaded reads the same from the database.
    await operator.send({"type": "sync"})
    assert (await operator.receive_until("state"))["participants"][1]["prompt"]["shown"] is True


async def test_an_unconfirmed_prompt_is_not_shown_in_the_operators_state(group, group_call):
    operator, (_, second, _) = group
    await operator.send({"type": "prompt", "participant": peer_id(group_call.participants[1]), "prompt": FRONT})

    operator_view = (await operator.receive_until("state"))["participants"][1]["prompt"]

    assert operator_view["shown"] is False
    assert operator_view["age_seconds"] >= 0


async def test_a_repeated_confirmation_changes_nothing(group, group_call):
    operator, (_, second, _) = group
    target = group_call.participants[1]
    prompt = await _prompt(operator, second, target)
    await second.send({"type": "prompt_shown", "participant": peer_id(target), "prompt": prompt["id"]})
    await operator.receive_until("state")
    version = await _version(group_call.session)

    await second.send({"type": "prompt_shown", "participant": peer_id(target), "prompt": prompt["id"]})

    assert await second.heartbeat_answered()
    assert await _version(group_call.session) == version


async def test_a_customer_cannot_confirm_another_participants_prompt(group, group_call):
    operator, (first, second, _) = group
    target = group_call.participants[1]
    prompt = await _prompt(operator, second, target)
    await first.drain()
    version = await _version(group_call.session)

    # Participant one forges participant two's confirmation, with its real id.
    await first.send({"type": "prompt_shown", "participant": peer_id(target), "prompt": prompt["id"]})

    error = await first.receive_until("error")
    assert error["code"] == "not_your_prompt"
    assert error["prompt"] == prompt["id"]
    assert (await _stored_prompt(target))["shown_at"] is None
    assert await _version(group_call.session) == version
    assert await operator.nothing()


async def test_a_confirmation_of_a_replaced_prompt_is_refused(group, group_call):
    operator, (_, second, _) = group
    target = group_call.participants[1]
    old = await _prompt(operator, second, target, FRONT)
    current = await _prompt(operator, second, target, BACK)
    assert current["id"] > old["id"]
    version = await _version(group_call.session)

    await second.send({"type": "prompt_shown", "participant": peer_id(target), "prompt": old["id"]})

    error = await second.receive_until("error")
    assert error["code"] == "stale_prompt"
    assert "no longer shown" in error["message"]
    stored = await _stored_prompt(target)
    assert (stored["id"], stored["shown_at"]) == (current["id"], None)
    assert await _version(group_call.session) == version
    assert await operator.nothing()


async def test_a_confirmation_when_no_prompt_is_shown_is_refused(group, group_call):
    _, (first, _, _) = group

    await first.send({"type": "prompt_shown", "participant": peer_id(group_call.participants[0]), "prompt": 1})

    assert (await first.receive_until("error"))["code"] == "stale_prompt"
    assert await _stored_prompt(group_call.participants[0]) is None


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "prompt_shown", "participant": "x"},
        {"type": "prompt_shown", "participant": "x", "prompt": "7"},
        {"type": "prompt_shown", "participant": "x", "prompt": True},
        {"type": "prompt_shown", "participant": "x", "prompt": 0},
        {"type": "prompt_shown", "participant": "x", "prompt": 1.5},
        {"type": "prompt_shown", "prompt": 3},
        {"type": "prompt_shown", "participant": "", "prompt": 3},
    ],
)
async def test_malformed_confirmations_are_refused(sockets, answered_call, frame):
    customer = await sockets.customer(answered_call.participant)

    await customer.send(frame)

    assert (await customer.receive_until("error"))["code"] == "invalid"


async def test_only_a_customers_page_confirms_and_only_the_operator_resends(sockets, answered_call, operator_a):
    operator = await sockets.operator(operator_a, answered_call.session)
    customer = await sockets.customer(answered_call.participant)
    me = peer_id(answered_call.participant)

    await operator.send({"type": "prompt_shown", "participant": me, "prompt": 1})
    await customer.send({"type": "prompt_resend", "participant": me, "prompt": 1})

    assert (await operator.receive_until("error"))["code"] == "forbidden"
    assert (await customer.receive_until("error"))["code"] == "forbidden"


async def test_the_operator_sends_an_unconfirmed_prompt_again_under_a_new_id(group, group_call):
    operator, (_, second, _) = group
    target = group_call.participants[1]
    prompt = await _prompt(operator, second, target)

    await operator.send({"type": "prompt_resend", "participant": peer_id(target), "prompt": prompt["id"]})

    again = (await second.receive_until("state"))["me"]["prompt"]
    assert shown(again) == FRONT
    assert again["id"] > prompt["id"]
    # The old id is stale now: only the new one can be confirmed.
    await second.send({"type": "prompt_shown", "participant": peer_id(target), "prompt": prompt["id"]})
    assert (await second.receive_until("error"))["code"] == "stale_prompt"
    await second.send({"type": "prompt_shown", "participant": peer_id(target), "prompt": again["id"]})
    operator_view = None
    while operator_view is None or not operator_view["shown"]:
        operator_view = (await operator.receive_until("state"))["participants"][1]["prompt"]
    assert operator_view["id"] == again["id"]


async def test_resending_a_replaced_prompt_is_refused(group, group_call):
    operator, (_, second, _) = group
    target = group_call.participants[1]
    old = await _prompt(operator, second, target, FRONT)
    current = await _prompt(operator, second, target, BACK)
    await second.drain()

    await operator.send({"type": "prompt_resend", "participant": peer_id(target), "prompt": old["id"]})

    assert (await operator.receive_until("error"))["code"] == "stale_prompt"
    assert (await _stored_prompt(target))["id"] == current["id"]
    assert await second.nothing()
