"""The operator console's live queue: a snapshot on connect, on every change
in the business's queue, and every few seconds (waiting times grow, and a
customer whose browser went silent drops out without saying so).

A call held back for operators who fit it better (operators.routing) reaches
this console when its fallback time passes, although nothing changes then:
the snapshot says when (``reevaluate_in``) and this socket's own refresher
wakes at that moment to send the queue again. The server re-sends rather
than the console re-asking: the rule and the clock are the server's, a page
whose timer was throttled in a background tab or whose clock is off still
gets it, and the refresher already runs for every console anyway."""

import asyncio
import contextlib
import json
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation

from accounts import services as account_services
from accounts.models import Operator
from accounts.security import socket_signed_in_user
from accounts.selectors import operator_for_user
from kyc import throttle
from kyc.languages import language_for_scope
from kyc.net import scope_client_ip
from kyc.realtime import queue_group
from operators import selectors
from sessions_app.housekeeping import sweep_if_due

REFRESH_SECONDS = 5
# A fallback is due at an instant; wake just after it, not just before.
FALLBACK_SLACK_SECONDS = 0.05
MAX_FRAME_CHARS = 4096
# A heartbeat renews the operator's lease in the presence cache, in the
# general thread pool: not on the one database thread (kyc/presence.py).
_operator_beat = sync_to_async(account_services.operator_beat, thread_sensitive=False)


class QueueConsumer(throttle.SocketSlots, AsyncJsonWebsocketConsumer):
    operator: Operator | None = None
    # Seconds from the last snapshot until a held-back call falls back here.
    reevaluate_in: float | None = None

    async def connect(self):
        self.client_ip = scope_client_ip(self.scope)
        self.flood = throttle.FloodLog(f"a queue socket of {self.client_ip or 'an unknown address'}")
        if not await self.take_socket_slot(self.client_ip):
            return
        await self.accept()
        self.operator = await database_sync_to_async(self._still_operator)()
        if self.operator is None:
            await self.send_json({"type": "error", "code": "forbidden", "message": "Operators only.", "fatal": True})
            await self.close(code=4403)
            return
        self.recheck_due = time.monotonic() + settings.SIGNALING_RECHECK_SECONDS
        # The queue's words (a call's language, why it is offered) in the
        # language of the console that opened the socket.
        self.language = language_for_scope(self.scope)
        self.group = queue_group(self.operator.business_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self._send_queue()
        self.refresher = asyncio.ensure_future(self._refresh_forever())

    async def disconnect(self, code):
        try:
            if self.operator is None:
                return
            self.flood.end()
            try:
                self.refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.refresher
            finally:
                await self.channel_layer.group_discard(self.group, self.channel_name)
        finally:
            await self.release_socket_slot()

    async def receive(self, text_data=None, bytes_data=None):
        if self.operator is None:
            return
        if not await throttle.ip_frame_allowed(self.client_ip):
            self.flood.refuse("over its address's budget")
            await self.close(code=4429)
            return
        self.flood.end()
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            await self.send_json({"type": "error", "code": "invalid", "message": "Frames are small JSON objects."})
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            await self.send_json({"type": "error", "code": "invalid_json", "message": "Not a JSON object."})
            return
        if frame.get("type") == "presence" and frame.get("presence") in Operator.Presence.values:
            await database_sync_to_async(account_services.operator_set_presence)(
                operator=self.operator, presence=frame["presence"]
            )
            await self._send_queue()
        elif frame.get("type") == "heartbeat":
            await _operator_beat(operator_id=self.operator.pk)
            # The refresh below re-checks every few seconds as well.
            if time.monotonic() >= self.recheck_due:
                self.recheck_due = time.monotonic() + settings.SIGNALING_RECHECK_SECONDS
                if not await self._close_unless_still_operator():
                    return
            await self.send_json({"type": "heartbeat_ack"})
        else:
            await self.send_json({"type": "error", "code": "unknown_type", "message": "Unknown message type."})

    async def queue_changed(self, event):
        await self._send_queue()

    def _refresh_delay(self) -> float:
        if self.reevaluate_in is None:
            return REFRESH_SECONDS
        return min(REFRESH_SECONDS, self.reevaluate_in + FALLBACK_SLACK_SECONDS)

    async def _refresh_forever(self):
        while True:
            await asyncio.sleep(self._refresh_delay())
            await self.renew_socket_slot()
            await database_sync_to_async(sweep_if_due)()
            # Also here, not only on heartbeats: a console whose page stopped
            # beating still loses its queue within seconds of a sign-out.
            if not await self._close_unless_still_operator():
                return
            await self._send_queue()

    def _still_operator(self) -> Operator | None:
        """The operator of this socket's session as it is now: the scope's
        user was loaded at connect and would not notice a sign-out, an admin
        ending the sessions, a deactivation or a timeout."""
        user = socket_signed_in_user(self.scope)
        operator = operator_for_user(user) if user is not None else None
        if operator is not None and self.operator is None:
            account_services.operator_touch(operator_id=operator.pk)  # arrived: stamped once
        return operator

    async def _close_unless_still_operator(self) -> bool:
        if await database_sync_to_async(self._still_operator)() is not None:
            return True
        await self.send_json({"type": "error", "code": "forbidden", "message": "Signed out.", "fatal": True})
        await self.close(code=4403)
        return False

    def _snapshot(self) -> dict:
        with translation.override(self.language):
            return selectors.queue_snapshot(operator=self.operator)

    async def _send_queue(self):
        snapshot = await database_sync_to_async(self._snapshot)()
        self.reevaluate_in = snapshot.get("reevaluate_in")
        await self.send_json(snapshot)
