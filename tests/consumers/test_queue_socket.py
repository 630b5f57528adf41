"""The console's live queue: operators only, their own business only, and it
moves when a customer joins."""

import pytest
from channels.db import database_sync_to_async

from tests.consumers.helpers import QUEUE_PATH, customer_joins, customer_session_key

pytestmark = pytest.mark.django_db(transaction=True)


async def assert_forbidden(socket):
    error = await socket.receive()
    assert (error["type"], error["code"]) == ("error", "forbidden")
    assert await socket.closed_with(4403) == []


async def test_socket_without_a_cookie_cannot_open_the_queue(sockets, live_call):
    await assert_forbidden(await sockets.open(QUEUE_PATH))


async def test_outsider_cannot_open_the_queue(sockets, outsider):
    await assert_forbidden(await sockets.user(QUEUE_PATH, outsider))


async def test_customer_cannot_open_the_queue(sockets, live_call):
    await database_sync_to_async(customer_joins)(live_call.participant)
    key = await database_sync_to_async(customer_session_key)(live_call.participant)
    await assert_forbidden(await sockets.open(QUEUE_PATH, session_key=key))


async def test_operator_removed_from_the_operators_group_cannot_open_the_queue(sockets, operator_a):
    await database_sync_to_async(operator_a.user.groups.clear)()
    await assert_forbidden(await sockets.user(QUEUE_PATH, operator_a.user))


async def test_operator_of_business_a_sees_business_as_waiting_customers_and_never_bs(
    sockets, live_call, other_call, operator_a
):
    await database_sync_to_async(customer_joins)(live_call.participant)
    await database_sync_to_async(customer_joins)(other_call.participant)

    queue = await (await sockets.user(QUEUE_PATH, operator_a.user)).receive()

    assert queue["type"] == "queue"
    assert [entry["id"] for entry in queue["entries"]] == [live_call.session.public_id.hex]
    assert queue["entries"][0]["participants"] == [{"name": "Max Mustermann", "language": "", "ready": True}]
    assert "Erika" not in str(queue)


async def test_queue_updates_when_a_customer_joins(sockets, live_call, operator_a, operator_b):
    console_a = await sockets.user(QUEUE_PATH, operator_a.user)
    console_b = await sockets.user(QUEUE_PATH, operator_b.user)
    assert (await console_a.receive())["entries"] == []
    assert (await console_b.receive())["entries"] == []

    await database_sync_to_async(customer_joins)(live_call.participant)

    queue = await console_a.receive()
    assert [entry["id"] for entry in queue["entries"]] == [live_call.session.public_id.hex]
    assert await console_b.nothing()


async def test_presence_change_is_confirmed_with_a_fresh_queue(sockets, operator_a):
    # Signing in makes an operator available (accounts.security): the console opens ready for calls.
    console = await sockets.user(QUEUE_PATH, operator_a.user)
    assert (await console.receive())["presence"] == "available"

    await console.send({"type": "presence", "presence": "away"})
    queue = await console.receive_until("queue")
    assert (queue["presence"], queue["operators_available"]) == ("away", 0)
    # The change also reaches every console of the business (this one too) as a queue push.
    assert all(frame["presence"] == "away" for frame in await console.drain() if frame["type"] == "queue")

    await console.send({"type": "presence", "presence": "available"})
    queue = await console.receive_until("queue")
    assert (queue["presence"], queue["operators_available"]) == ("available", 1)


@pytest.mark.parametrize(
    "frame, code",
    [
        ('{"type": "presence", "presence": "asleep"}', "unknown_type"),
        ('{"type": "take_call"}', "unknown_type"),
        ("[1, 2]", "invalid_json"),
        ("{", "invalid_json"),
        ("x" * 5000, "invalid"),
    ],
)
async def test_bad_queue_frame_gets_an_error_and_the_socket_stays_usable(sockets, operator_a, frame, code):
    console = await sockets.user(QUEUE_PATH, operator_a.user)
    await console.receive()

    await console.send_text(frame)

    assert (await console.receive_until("error"))["code"] == code
    await console.send({"type": "heartbeat"})
    assert (await console.receive_until("heartbeat_ack"))["type"] == "heartbeat_ack"
