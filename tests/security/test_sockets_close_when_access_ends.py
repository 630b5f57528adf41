"""An open socket of an operator who signed out, was signed out by an admin,
timed out, was deactivated or changed password, and of a customer whose link
was revoked, closes at its next re-check, on both sockets: the call and the
console's queue. A heartbeat (every 10 s in the browser) re-checks once
SIGNALING_RECHECK_SECONDS have passed since the last check (30 by default,
so heartbeats in between need no database); 0 here, so the next heartbeat
re-checks."""

import time
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.security import user_sessions_end
from sessions_app import services
from sessions_app.audit import Actor
from sessions_app.consumers import CLOSE_FORBIDDEN
from tests.consumers.helpers import QUEUE_PATH, call_path, user_session_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _recheck_at_every_heartbeat(settings):
    settings.SIGNALING_RECHECK_SECONDS = 0


def _sign_out_session(key):
    """The operator clicks Sign out in the browser the socket came from."""
    from django.conf import settings

    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = key
    assert browser.post("/console/logout/").status_code == 302


def _deactivate(operator, key):
    get_user_model().objects.filter(pk=operator.user_id).update(is_active=False)


def _end_sessions(operator, key):
    user_sessions_end(user=operator.user)


def _change_password(operator, key):
    user = get_user_model().objects.get(pk=operator.user_id)
    user.set_password("another-horse-battery-2")
    user.save()


ENDINGS = {
    "signed_out": lambda operator, key: _sign_out_session(key),
    "deactivated": _deactivate,
    "sessions_ended_by_admin": _end_sessions,
    "password_changed": _change_password,
}


async def open_operator_socket(sockets, operator, path):
    key = await database_sync_to_async(user_session_key)(operator.user)
    return key, await sockets.open(path, session_key=key, label=f"operator {operator.display_name}")


async def expect_forbidden_close(socket):
    await socket.send({"type": "heartbeat"})
    await socket.closed_with(CLOSE_FORBIDDEN)


@pytest.mark.parametrize("ending", sorted(ENDINGS))
async def test_operators_call_socket_closes_at_the_next_heartbeat(sockets, answered_call, operator_a, ending):
    key, socket = await open_operator_socket(sockets, operator_a, call_path(answered_call.session))
    await socket.joined()
    assert await socket.heartbeat_answered()

    await database_sync_to_async(ENDINGS[ending])(operator_a, key)

    await expect_forbidden_close(socket)


@pytest.mark.parametrize("ending", sorted(ENDINGS))
async def test_operators_queue_socket_closes_at_the_next_heartbeat(sockets, operator_a, ending):
    key, socket = await open_operator_socket(sockets, operator_a, QUEUE_PATH)
    assert (await socket.receive())["type"] == "queue"

    await database_sync_to_async(ENDINGS[ending])(operator_a, key)

    await expect_forbidden_close(socket)


async def test_queue_socket_closes_within_seconds_even_without_heartbeats(sockets, operator_a, monkeypatch):
    """Its periodic refresh re-checks too (REFRESH_SECONDS, shortened here)."""
    monkeypatch.setattr("operators.consumers.REFRESH_SECONDS", 0.2)
    key, socket = await open_operator_socket(sockets, operator_a, QUEUE_PATH)
    assert (await socket.receive())["type"] == "queue"

    await database_sync_to_async(_sign_out_session)(key)

    await socket.closed_with(CLOSE_FORBIDDEN, timeout=5)


async def test_timed_out_operators_sockets_close(sockets, answered_call, operator_a, settings):
    settings.OPERATOR_IDLE_TIMEOUT_SECONDS = 600
    _, call = await open_operator_socket(sockets, operator_a, call_path(answered_call.session))
    await call.joined()
    _, queue = await open_operator_socket(sockets, operator_a, QUEUE_PATH)
    await queue.receive()

    with mock.patch("accounts.security.time.time", return_value=time.time() + 601):
        await expect_forbidden_close(call)
        await expect_forbidden_close(queue)


async def test_a_timed_out_session_cannot_open_a_socket(sockets, answered_call, operator_a, settings):
    settings.OPERATOR_IDLE_TIMEOUT_SECONDS = 600
    key = await database_sync_to_async(user_session_key)(operator_a.user)
    with mock.patch("accounts.security.time.time", return_value=time.time() + 601):
        for path in (call_path(answered_call.session), QUEUE_PATH):
            socket = await sockets.open(path, session_key=key)
            assert (await socket.receive())["code"] == "forbidden"
            await socket.closed_with(CLOSE_FORBIDDEN)


async def test_customers_socket_closes_when_the_link_is_revoked(sockets, answered_call, operator_a):
    customer = await sockets.customer(answered_call.participant)
    assert await customer.heartbeat_answered()

    await database_sync_to_async(services.participant_link_revoke)(
        participant=answered_call.participant, actor=Actor.operator(operator_a)
    )

    # The revocation itself nudges the call (state) and closes the socket;
    # a heartbeat, had the nudge been lost, would close it just the same.
    await customer.send({"type": "heartbeat"})
    await customer.closed_with(CLOSE_FORBIDDEN)


async def test_a_signed_in_operators_sockets_stay_open(sockets, answered_call, operator_a):
    _, call = await open_operator_socket(sockets, operator_a, call_path(answered_call.session))
    await call.joined()
    _, queue = await open_operator_socket(sockets, operator_a, QUEUE_PATH)
    await queue.receive()
    assert await call.heartbeat_answered()
    await queue.send({"type": "heartbeat"})
    assert (await queue.receive_until("heartbeat_ack"))["type"] == "heartbeat_ack"
