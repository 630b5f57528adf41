"""Websocket communicators with real scopes.

Every socket here runs through ``kyc.asgi.application``: the origin check,
the cookie and Django session middleware and the auth middleware all do
their production work, so a test proves who gets in, not just what a
consumer does with a hand-made scope.
"""

import json
from importlib import import_module

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from kyc.asgi import application
from sessions_app import services
from sessions_app.selectors import customer_session_bind

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
# Generous: with REDIS_URL set every message crosses Redis pub/sub.
TIMEOUT = 3
# How long "nothing arrives" is watched for. Long enough for a message that
# was wrongly routed to have crossed the channel layer.
QUIET = 0.5
QUEUE_PATH = "/ws/console/queue/"


# --- who is knocking: Django sessions as the browser holds them --------------


def customer_session_key(participant) -> str:
    """The session the /v/<token> view leaves in the customer's browser."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    customer_session_bind(store, participant)
    store.save()
    return store.session_key


def user_session_key(user) -> str:
    """The session of a logged-in user (operator, outsider)."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


# --- where the people are in the journey ---------------------------------------


def customer_joins(participant):
    """The customer accepted the terms and clicked Join."""
    services.participant_accept_terms(participant=participant, ip_address="127.0.0.1", user_agent="pytest")
    return services.participant_join(participant=participant)


def operator_answers(session, operator):
    return services.session_assign_operator(session_id=session.pk, operator=operator)


def call_path(session, *, instance: str | None = None) -> str:
    path = f"/ws/call/{session.public_id.hex}/"
    return f"{path}?instance={instance}" if instance else path


def peer_id(participant) -> str:
    return participant.public_id.hex


def shown(prompt: dict) -> dict:
    """What a prompt in a page's state shows (its code and text), without the
    id and the confirmation the server adds."""
    return {"code": prompt["code"], "text": prompt["text"]}


# --- one socket ------------------------------------------------------------------


class Socket:
    """A communicator plus the reading habits the tests share."""

    def __init__(self, communicator: WebsocketCommunicator, label: str):
        self.communicator = communicator
        self.label = label
        self.welcome: dict | None = None
        self.state: dict | None = None
        self.disconnected = False

    def __repr__(self):
        return f"<Socket {self.label}>"

    async def send(self, frame: dict) -> None:
        await self.communicator.send_json_to(frame)

    async def send_text(self, text: str) -> None:
        await self.communicator.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self.communicator.send_input({"type": "websocket.receive", "bytes": data})

    async def receive(self, timeout: float = TIMEOUT) -> dict:
        """The next message; fails on a close instead."""
        return await self.communicator.receive_json_from(timeout)

    async def receive_until(self, kind: str, timeout: float = TIMEOUT) -> dict:
        """The next message of this type, skipping others (state nudges,
        roster news) that the test is not about."""
        skipped = []
        while True:
            output = await self.communicator.receive_output(timeout)
            assert output["type"] == "websocket.send", f"{self} closed while waiting for {kind}: {output}, after {skipped}"
            message = _json(output)
            if message["type"] == kind:
                return message
            skipped.append(message)

    async def closed_with(self, code: int, timeout: float = TIMEOUT) -> list[dict]:
        """Wait for the server to close the socket with this code; returns the
        messages sent before it."""
        before = []
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                assert output.get("code") == code, f"{self} closed with {output}, expected {code}; before: {before}"
                return before
            before.append(_json(output))

    async def nothing(self, timeout: float = QUIET) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def drain(self, timeout: float = QUIET) -> list[dict]:
        """Everything that arrives until the socket has been quiet a while."""
        messages = []
        while not await self.communicator.receive_nothing(timeout=timeout):
            output = await self.communicator.receive_output(timeout)
            if output["type"] != "websocket.send":
                messages.append({"type": "<closed>", "code": output.get("code")})
                break
            messages.append(_json(output))
        return messages

    async def heartbeat_answered(self) -> bool:
        """The socket still works: a heartbeat gets its ack."""
        await self.send({"type": "heartbeat"})
        return (await self.receive_until("heartbeat_ack"))["type"] == "heartbeat_ack"

    async def joined(self) -> "Socket":
        """Read what every accepted call socket gets first: welcome, then state."""
        self.welcome = await self.receive()
        assert self.welcome["type"] == "welcome", f"{self} got {self.welcome}"
        self.state = await self.receive()
        assert self.state["type"] == "state", f"{self} got {self.state}"
        return self

    async def peers_joined(self, count: int) -> dict[str, dict]:
        """The next ``count`` peer_joined messages, by peer id."""
        peers = {}
        for _ in range(count):
            message = await self.receive_until("peer_joined")
            peers[message["peer"]["peer_id"]] = message
        return peers

    async def disconnect(self) -> None:
        if not self.disconnected:
            self.disconnected = True
            if self.communicator.future.cancelled():
                # A receive that timed out cancelled the application: there is
                # nothing to disconnect, and trying raises CancelledError, which
                # in a fixture's teardown broke every async test after it.
                return
            await self.communicator.disconnect(timeout=TIMEOUT)


def _json(output: dict) -> dict:
    assert "text" in output, f"expected a text frame, got {output}"
    return json.loads(output["text"])


# --- opening sockets -----------------------------------------------------------


class Sockets:
    """Opens sockets for a test and closes every one of them afterwards, so a
    failing test leaves no consumer running into the next one."""

    def __init__(self):
        self.opened: list[Socket] = []

    async def open(
        self, path: str, *, session_key: str | None = None, origin=ORIGIN, label: str = "", extra_headers=()
    ) -> Socket:
        headers = [origin, *extra_headers] if origin else [*extra_headers]
        if session_key:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
        socket = Socket(WebsocketCommunicator(application, path, headers=headers), label or path)
        self.opened.append(socket)
        connected, _ = await socket.communicator.connect(timeout=TIMEOUT)
        assert connected, f"{socket} was not accepted"
        return socket

    async def open_refused(self, path: str, *, session_key: str | None = None, origin=ORIGIN) -> int:
        """A socket refused before it was accepted; returns the close code."""
        headers = [origin] if origin else []
        if session_key:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
        socket = Socket(WebsocketCommunicator(application, path, headers=headers), path)
        self.opened.append(socket)
        connected, code = await socket.communicator.connect(timeout=TIMEOUT)
        assert not connected, f"{socket} was accepted"
        socket.disconnected = True
        return code

    async def customer(self, participant, *, session=None, instance: str | None = None, joined: bool = True) -> Socket:
        """A customer's call socket. ``session`` defaults to the participant's
        own; pass another to knock on a door that is not theirs."""
        key = await database_sync_to_async(customer_session_key)(participant)
        session = session or await database_sync_to_async(lambda: participant.session)()
        socket = await self.open(call_path(session, instance=instance), session_key=key, label=f"customer {participant.name}")
        return await socket.joined() if joined else socket

    async def operator(
        self, operator, session, *, instance: str | None = None, joined: bool = True, language: str | None = None
    ) -> Socket:
        """``language``: the browser's Accept-Language."""
        key = await database_sync_to_async(user_session_key)(operator.user)
        socket = await self.open(
            call_path(session, instance=instance),
            session_key=key,
            label=f"operator {operator.display_name}",
            extra_headers=[(b"accept-language", language.encode())] if language else (),
        )
        return await socket.joined() if joined else socket

    async def user(self, path: str, user) -> Socket:
        key = await database_sync_to_async(user_session_key)(user)
        return await self.open(path, session_key=key, label=f"user {user.username}")

    async def close_all(self) -> None:
        for socket in self.opened:
            try:
                await socket.disconnect()
            except Exception:  # the test already failed on this socket; clean up the rest
                pass
