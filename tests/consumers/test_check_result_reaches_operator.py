"""A check result stored during the call reaches the operator's page over
the call socket at once (the state nudge every change sends), and the
customer's page learns nothing of it."""

import json

import pytest
from channels.db import database_sync_to_async

from tests.checks import fakes

pytestmark = pytest.mark.django_db(transaction=True)


async def test_operator_gets_the_mrz_result_as_soon_as_it_is_stored(sockets, answered_call, operator_a):
    operator = await sockets.operator(operator_a, answered_call.session)
    customer = await sockets.customer(answered_call.participant)
    await operator.drain()
    await customer.drain()

    def store():
        fakes.store(fakes.capture(answered_call.participant), fakes.mrz_passed())

    await database_sync_to_async(store)()

    state = await operator.receive_until("state")
    [participant] = state["participants"]
    [mrz] = participant["checks"]["results"]
    assert (mrz["kind"], mrz["status"]) == ("mrz", "passed")
    assert ["Document number", fakes.DOCUMENT_NUMBER] in mrz["facts"]
    customer_state = await customer.receive_until("state")
    assert fakes.DOCUMENT_NUMBER not in json.dumps(customer_state)
