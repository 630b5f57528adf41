"""Cross-site websocket hijacking: a page of another site, carrying the
victim's own cookie, opens neither socket (AllowedHostsOriginValidator)."""

import pytest
from channels.db import database_sync_to_async

from tests.consumers.helpers import (
    QUEUE_PATH,
    call_path,
    customer_session_key,
    user_session_key,
)

pytestmark = pytest.mark.django_db(transaction=True)

FOREIGN = [
    (b"origin", b"https://evil.example"),
    (b"origin", b"http://127.0.0.1.evil.example"),
    (b"origin", b"null"),
    None,  # no Origin at all
]


@pytest.mark.parametrize("origin", FOREIGN, ids=["evil", "lookalike", "null", "none"])
async def test_call_socket_refuses_a_foreign_origin_for_operator_and_customer(sockets, answered_call, operator_a, origin):
    operator_key = await database_sync_to_async(user_session_key)(operator_a.user)
    customer_key = await database_sync_to_async(customer_session_key)(answered_call.participant)
    await sockets.open_refused(call_path(answered_call.session), session_key=operator_key, origin=origin)
    await sockets.open_refused(call_path(answered_call.session), session_key=customer_key, origin=origin)


@pytest.mark.parametrize("origin", FOREIGN, ids=["evil", "lookalike", "null", "none"])
async def test_queue_socket_refuses_a_foreign_origin(sockets, operator_a, origin):
    key = await database_sync_to_async(user_session_key)(operator_a.user)
    await sockets.open_refused(QUEUE_PATH, session_key=key, origin=origin)


async def test_own_origin_opens_both(sockets, answered_call, operator_a):
    assert (await (await sockets.user(QUEUE_PATH, operator_a.user)).receive())["type"] == "queue"
    assert (await sockets.operator(operator_a, answered_call.session)).welcome["type"] == "welcome"
