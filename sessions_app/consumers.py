"""The call's websocket: WebRTC signaling between the peers of one session,
and the call's control events.

Routing is decided here, never by the client: a socket only ever learns the
channel names of peers of its own session, through server-to-server roster
messages, and relays a signal only to a peer in that roster. The relay path
touches no database.
"""

import logging
import re
import secrets
import time
import uuid
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.security import socket_signed_in_user, socket_user_still_signed_in
from kyc import throttle
from kyc.ids import uuid_or_none
from kyc.languages import language_for_scope
from kyc.net import scope_client_ip
from kyc.realtime import session_group
from sessions_app import call_conditions, integrity, selectors, services, signaling
from sessions_app.changes import session_version_remember, session_version_remembered
from sessions_app.selectors import CUSTOMER, OPERATOR

logger = logging.getLogger(__name__)

# A heartbeat's cache work runs in the general thread pool, never on the one
# thread database_sync_to_async uses (kyc/presence.py says why).
_heartbeat = sync_to_async(services.call_identity_heartbeat, thread_sensitive=False)
_version_remembered = sync_to_async(session_version_remembered, thread_sensitive=False)
_version_remember = sync_to_async(session_version_remember, thread_sensitive=False)
# A conditions report is cache work only (the database hears of a change
# between met and not met): off the database thread, like a heartbeat.
_conditions_remember = sync_to_async(call_conditions.call_conditions_remember, thread_sensitive=False)
_conditions_latest = sync_to_async(call_conditions.call_conditions_latest, thread_sensitive=False)

CLOSE_FORBIDDEN = 4403
CLOSE_REPLACED = 4409
CLOSE_CALL_ENDED = 4000
CLOSE_FLOOD = 4429
# A page sends a handful of integrity reports (the device check, the call's
# first seconds, each camera change); more on one socket is refused, not stored.
INTEGRITY_REPORTS_PER_SOCKET = 30
# Frames over the rate limit beyond this many in a row close the socket.
FLOOD_STRIKES = 50
_INSTANCE = re.compile(r"^[A-Za-z0-9]{1,32}$")
_NOT_READ = object()


def _socket_order(event) -> tuple:
    # (connected at, channel): the channel breaks a tie of two clocks.
    # Lists after a trip through msgpack, hence the tuple.
    return tuple(event.get("order") or (0.0, ""))


def _page_instance(scope) -> str:
    """The id a page load picks for itself. A socket that reconnects keeps it
    (peers keep their connection); a reloaded page has a new one (peers
    start a fresh connection to it)."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("instance", [])
    if values and _INSTANCE.match(values[0]):
        return values[0]
    return secrets.token_hex(8)


def _arrive(scope, language: str) -> tuple[selectors.CallIdentity, dict] | None:
    """A connect's database work, in one go on the database thread."""
    identity = _identity_for_scope(scope)
    if identity is None:
        return None
    services.call_identity_arrived(identity=identity)
    with translation.override(language):
        return identity, selectors.call_state_for(identity)


def _identity_for_scope(scope) -> selectors.CallIdentity | None:
    try:
        session_public_id = uuid.UUID(scope["url_route"]["kwargs"]["session_id"])
    except (KeyError, ValueError):
        return None
    participant_id, link_hash = selectors.customer_session_participant(scope.get("session"))
    user = scope.get("user")
    if user is not None and user.is_authenticated and socket_signed_in_user(scope, just_connected=True) is None:
        user = None  # a session past its timeouts opens nothing
    return selectors.call_identity(
        user=user, participant_id=participant_id, session_public_id=session_public_id, link_hash=link_hash
    )


class CallConsumer(throttle.SocketSlots, AsyncJsonWebsocketConsumer):
    identity: selectors.CallIdentity | None = None

    closing = False

    async def dispatch(self, message):
        # Channels' own dispatch first hops to the one shared sync thread to
        # close stale database connections, for every frame and every relayed
        # message: each signal then queues behind whatever database work
        # (connects, heartbeats) holds that thread. This consumer reaches the
        # database only through database_sync_to_async, which closes stale
        # connections around each call itself, so the hop buys nothing here.
        # (bench/signaling_capacity.py measures the difference.)
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_json(self, content, close=False):
        if not self.closing:
            await super().send_json(content, close=close)

    async def close(self, code=None, reason=None):
        if not self.closing:
            self.closing = True
            # Tell the peers now: the socket's disconnect event comes only
            # when the browser acknowledges the close, if ever.
            await self._say_bye()
            await super().close(code=code, reason=reason)

    async def _say_bye(self):
        if self.identity is None or self.said_bye:
            return
        self.said_bye = True
        await self.channel_layer.group_send(
            self.group, {"type": "roster.bye", "peer_id": self.identity.peer_id, "channel": self.channel_name}
        )

    async def connect(self):
        self.identity = None
        self.checked_version = None  # see session_changed
        self.closing = False
        self.replaced = False
        self.said_bye = False
        self.roster: dict[str, dict] = {}  # peer_id -> {"info", "channel", "seen", "order"}
        # Which of two sockets of one person is the newer: with Redis the
        # layer's group messages reach whoever is in the group when they are
        # read, not when they were sent, so an older socket's hello can reach
        # its successor, and arrival order proves nothing.
        self.order = (time.time(), "")
        self.media = {"audio": True, "video": True}
        self.bucket = signaling.TokenBucket(settings.SIGNALING_RATE_PER_SECOND, settings.SIGNALING_RATE_BURST)
        self.strikes = 0
        # Prompts this socket's page confirmed: a repeat costs no database trip.
        self.prompts_confirmed: set[int] = set()
        self.integrity_reports = 0
        # Call conditions: the session's minimum, read once (None: the rule is
        # off), and when each participant was last reported.
        self.conditions_minimum = _NOT_READ
        self.conditions_reported_at: dict[str, float] = {}
        self.client_ip = scope_client_ip(self.scope)
        self.flood = throttle.FloodLog(f"a call socket of {self.client_ip or 'an unknown address'}")
        # Counted before anything else is done for it, even for a socket
        # that turns out to be nobody's.
        if not await self.take_socket_slot(self.client_ip):
            return
        await self.accept()
        # The one trip to the database thread of a connect: who this is, the
        # arrival's presence stamp, and the state the page starts from.
        # The state's sentences (the checks' reasons) in the page's language.
        self.language = language_for_scope(self.scope)
        arrival = await database_sync_to_async(_arrive)(self.scope, self.language)
        if arrival is None:
            await self.send_json(
                {"type": "error", "code": "forbidden", "message": "You are not part of this call.", "fatal": True}
            )
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.identity, state = arrival
        self.recheck_due = time.monotonic() + settings.SIGNALING_RECHECK_SECONDS
        self.flood.who = f"the {self.identity.role} of session {self.identity.session_id}"
        self.instance = _page_instance(self.scope)
        self.group = session_group(self.identity.session_public_id)
        self.order = (time.time(), self.channel_name)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # No database in it: computed here, not on the database thread.
        rtc = selectors.rtc_configuration_for(self.identity.peer_id)
        await self.send_json(
            {"type": "welcome", "peer_id": self.identity.peer_id, "role": self.identity.role, "rtc": rtc}
        )
        # Not recorded as checked: at connect the person's access is read
        # before the state, so a revocation committed between the two would
        # show in the state's version and its nudge would be skipped.
        await self.send_json(state)
        # A change committed between reading that state and joining the
        # group nudged a group this socket was not in yet: the page would
        # wait for a heartbeat to notice. Its commit left its version in the
        # cache before nudging, so a newer version there means read again.
        remembered = await _version_remembered(self.identity.session_id)
        if remembered is not None and remembered > state["version"]:
            await self._send_state()
        await self._announce("roster.hello")

    async def disconnect(self, code):
        try:
            if self.identity is None:
                return
            self.flood.end()
            try:
                await self._say_bye()
                if self.identity.role == CUSTOMER and not self.replaced:
                    await database_sync_to_async(services.participant_disconnected)(
                        participant_id=self.identity.participant_id
                    )
            finally:
                await self.channel_layer.group_discard(self.group, self.channel_name)
        finally:
            await self.release_socket_slot()

    # --- frames from the browser -------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.identity is None:
            return
        if self.closing:
            # Frames the browser sent before it saw the close: counted, not logged one by one.
            self.flood.refuse("socket closing")
            return
        if not await throttle.ip_frame_allowed(self.client_ip):
            # Many sockets of one address together: over its budget, each
            # socket that speaks is closed (kyc/throttle.py logs it).
            self.flood.refuse("over its address's budget")
            await self.close(code=CLOSE_FLOOD)
            return
        if not self.bucket.allow():
            self.strikes += 1
            self.flood.refuse("over the socket's rate")
            if self.strikes >= FLOOD_STRIKES:
                await self.close(code=CLOSE_FLOOD)
            elif self.strikes == 1:
                await self._error("rate_limited", "Too many messages; slow down.")
            return
        self.strikes = 0
        self.flood.end()
        try:
            kind, payload = signaling.parse_frame(
                text=text_data, binary=bytes_data, role=self.identity.role, max_bytes=settings.SIGNALING_MAX_FRAME_BYTES
            )
        except signaling.FrameError as error:
            logger.info("rejected frame from %s: %s", self.identity.role, error.code)
            await self._error(error.code, error.message)
            return
        handler = getattr(self, f"on_{kind}")
        try:
            await handler(payload)
        except ValidationError as error:
            await self._error("rejected", " ".join(error.messages))
        except selectors.LinkInvalid as error:
            await self._error("link_" + error.reason, "This link can no longer be used.")

    async def on_signal(self, payload):
        target = self.roster.get(payload["to"])
        if target is None:
            await self._error("unknown_peer", "That peer is not in this call.", to=payload["to"])
            return
        message = {k: v for k, v in payload.items() if k != "to"}
        await self.channel_layer.send(
            target["channel"], {"type": "relay.signal", "from": self.identity.peer_id, "payload": message}
        )

    async def on_heartbeat(self, payload):
        await self.renew_socket_slot()
        if time.monotonic() >= self.recheck_due:
            # Changes made through the services nudge this socket at once
            # (session_changed); this catches what a lost nudge, a sign-out or
            # a timeout leaves, within SIGNALING_RECHECK_SECONDS.
            still_valid, version = await database_sync_to_async(self._heartbeat_check)()
            self.recheck_due = time.monotonic() + settings.SIGNALING_RECHECK_SECONDS
            if not still_valid:
                await self.send_json(
                    {"type": "error", "code": "forbidden", "message": "You are no longer part of this call.", "fatal": True}
                )
                await self.close(code=CLOSE_FORBIDDEN)
                return
        else:
            # The usual beat: a lease and the version from the cache, off the
            # database thread (kyc/presence.py).
            version = await _heartbeat(identity=self.identity)
            if version is None:
                version = await database_sync_to_async(selectors.session_state_version_cached)(self.identity.session_id)
        await self.send_json({"type": "heartbeat_ack", "t": time.time(), "version": version})
        await self._announce("roster.alive")
        await self._expire_silent_peers()

    async def on_sync(self, payload):
        await self._send_state()

    async def on_media_state(self, payload):
        self.media = payload
        if self.identity.role == CUSTOMER:
            await database_sync_to_async(services.participant_set_media_state)(
                participant_id=self.identity.participant_id, **payload
            )
        await self.channel_layer.group_send(
            self.group, {"type": "peer.media", "peer_id": self.identity.peer_id, "media": payload}
        )

    async def on_end_call(self, payload):
        await database_sync_to_async(self._end_call)()

    async def on_prompt(self, payload):
        await database_sync_to_async(self._set_prompt)(payload)

    async def on_prompt_shown(self, payload):
        # The server decides whose prompt a page may confirm: only its own.
        if payload["participant"] != self.identity.peer_id:
            await self._error("not_your_prompt", "A page can only confirm its own prompts.", prompt=payload["prompt"])
            return
        if payload["prompt"] in self.prompts_confirmed:
            return
        try:
            await database_sync_to_async(services.participant_prompt_confirm)(
                participant_id=self.identity.participant_id, prompt_id=payload["prompt"]
            )
        except ValidationError as error:
            await self._error(error.code or "rejected", " ".join(error.messages), prompt=payload["prompt"])
            return
        self.prompts_confirmed.add(payload["prompt"])

    async def on_prompt_resend(self, payload):
        try:
            await database_sync_to_async(self._resend_prompt)(payload)
        except ValidationError as error:
            await self._error(error.code or "rejected", " ".join(error.messages), prompt=payload["prompt"])

    async def on_integrity_report(self, payload):
        self.integrity_reports += 1
        if self.integrity_reports > INTEGRITY_REPORTS_PER_SOCKET:
            await self._error("too_many_reports", "This page has sent enough integrity reports.")
            return
        await database_sync_to_async(integrity.capture_integrity_report)(
            participant_id=self.identity.participant_id, report=payload
        )

    async def on_call_conditions(self, payload):
        peer_id = payload["participant"]
        # Only a customer this socket knows is in this very call (the roster is
        # the server's, never the client's): a forged id or one of another
        # call is refused and nothing is stored.
        peer = self.roster.get(peer_id)
        if peer is None or peer["info"].get("role") != CUSTOMER:
            await self._error("unknown_participant", "That participant is not in this call.", participant=peer_id)
            return
        now = time.monotonic()
        last = self.conditions_reported_at.get(peer_id)
        if last is not None and now - last < call_conditions.REPORT_MIN_INTERVAL_SECONDS:
            await self._error("too_frequent", "Call conditions are reported at most once a second per participant.")
            return
        if self.conditions_minimum is _NOT_READ:
            self.conditions_minimum = await database_sync_to_async(call_conditions.minimum_for_session)(
                self.identity.session_id
            )
        minimum = self.conditions_minimum
        if minimum is None:
            await self._error("not_required", "This call has no minimum call conditions.")
            return
        self.conditions_reported_at[peer_id] = now
        measurement = payload["measurement"]
        latest = await _conditions_latest(peer_id)
        if latest is not None:
            previous_met = latest["met"]
        else:
            # Nothing cached (the call's first report, a restart): the history
            # says where things stood, read on the database thread.
            previous_met = await database_sync_to_async(call_conditions.last_recorded_met)(
                self.identity.session_id, peer_id
            )
        result = await _conditions_remember(
            participant_public_hex=peer_id, measurement=measurement, minimum=minimum, previous_met=previous_met
        )
        if result.change is not None:
            await database_sync_to_async(call_conditions.call_conditions_change_record)(
                session_id=self.identity.session_id,
                participant_public_hex=peer_id,
                result=result,
                measurement=measurement,
                minimum=minimum,
            )
        with translation.override(self.language):
            answer = call_conditions.report_answer(participant_peer_id=peer_id, measurement=measurement, result=result)
        await self.send_json(answer)

    # --- database work (runs in a thread) -------------------------------------------

    def _still_valid(self) -> bool:
        # Signed out, sessions ended by an admin, timed out: the socket goes too.
        if self.identity.role == OPERATOR and not socket_user_still_signed_in(self.scope):
            return False
        return selectors.call_identity_still_valid(self.identity)

    def _heartbeat_check(self) -> tuple[bool, int | None]:
        # The state's version rides on every answer: a page that missed a
        # change (the channel layer delivers at most once, and loses what is
        # sent while Redis restarts) sees it is behind and asks for the state.
        services.call_identity_heartbeat(identity=self.identity)
        still_valid = self._still_valid()
        version = selectors.session_state_version(self.identity.session_id)
        if version is not None:
            session_version_remember(self.identity.session_id, version, read_from_database=True)
        return still_valid, version

    def _end_call(self):
        services.call_end_by(identity=self.identity)

    def _set_prompt(self, payload):
        services.call_prompt_set(
            identity=self.identity, participant_public_id=uuid_or_none(payload["participant"]), prompt=payload["prompt"]
        )

    def _resend_prompt(self, payload):
        services.call_prompt_resend(
            identity=self.identity, participant_public_id=uuid_or_none(payload["participant"]), prompt_id=payload["prompt"]
        )

    def _state(self) -> dict:
        with translation.override(self.language):
            return selectors.call_state_for(self.identity)

    async def _send_state(self):
        await self.send_json(await database_sync_to_async(self._state)())

    async def _error(self, code: str, message: str, **extra):
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    # --- roster: who is in the call, learned from the other consumers -------------

    async def _announce(self, kind: str):
        await self.channel_layer.group_send(
            self.group,
            {"type": kind, "peer": self._peer_info(), "media": self.media, "channel": self.channel_name, "order": self.order},
        )

    def _peer_info(self) -> dict:
        return {**self.identity.peer_info(), "instance": self.instance}

    def _polite_towards(self, other_peer_id: str, other_role: str) -> bool:
        # Perfect negotiation needs exactly one polite side per pair: the
        # operator never is; between customers the larger id is.
        if self.identity.role == OPERATOR:
            return False
        return other_role == OPERATOR or self.identity.peer_id > other_peer_id

    async def _add_peer(self, event) -> None:
        peer = event["peer"]
        known = self.roster.get(peer["peer_id"])
        order = _socket_order(event)
        if known is not None and known["channel"] != event["channel"] and known["order"] > order:
            # News of a socket this peer has since replaced, arriving late.
            return
        self.roster[peer["peer_id"]] = {"info": peer, "channel": event["channel"], "seen": time.monotonic(), "order": order}
        if known is None or known["channel"] != event["channel"]:
            await self.send_json(
                {
                    "type": "peer_joined",
                    "peer": peer,
                    "media": event.get("media"),
                    "polite": self._polite_towards(peer["peer_id"], peer["role"]),
                }
            )

    async def roster_hello(self, event):
        # A closed socket stays in the group until its disconnect arrives; it
        # must not introduce itself, or a newcomer relays to a dead channel.
        if self.closing or event["channel"] == self.channel_name:
            return
        if event["peer"]["peer_id"] == self.identity.peer_id:
            # The same person connected again (a reload, a second tab): the
            # newest socket wins, so a stale one cannot hold the call. The
            # hello of a socket older than this one is late news: ignored.
            if _socket_order(event) < self.order:
                return
            self.replaced = True
            await self.send_json({"type": "replaced", "message": "This call was opened in another window."})
            await self.close(code=CLOSE_REPLACED)
            return
        await self._add_peer(event)
        await self.channel_layer.send(
            event["channel"],
            {
                "type": "roster.present",
                "peer": self._peer_info(),
                "media": self.media,
                "channel": self.channel_name,
                "order": self.order,
            },
        )

    async def roster_present(self, event):
        if event["peer"]["peer_id"] != self.identity.peer_id:
            await self._add_peer(event)

    async def roster_alive(self, event):
        if event["channel"] != self.channel_name and event["peer"]["peer_id"] != self.identity.peer_id:
            await self._add_peer(event)

    async def roster_bye(self, event):
        known = self.roster.get(event["peer_id"])
        if known is not None and known["channel"] == event["channel"]:
            del self.roster[event["peer_id"]]
            await self.send_json({"type": "peer_left", "peer_id": event["peer_id"]})

    async def _expire_silent_peers(self):
        # A peer whose process died never says goodbye, and a goodbye can be
        # lost (the channel layer delivers at most once); heartbeats refresh
        # every entry, so a silent one is gone, and the browser is told so.
        cutoff = time.monotonic() - settings.PRESENCE_TIMEOUT_SECONDS
        for peer_id in [p for p, entry in self.roster.items() if entry["seen"] < cutoff]:
            del self.roster[peer_id]
            await self.send_json({"type": "peer_left", "peer_id": peer_id})

    # --- messages from the server side ------------------------------------------

    async def relay_signal(self, event):
        await self.send_json({"type": "signal", "from": event["from"], **event["payload"]})

    async def peer_media(self, event):
        if event["peer_id"] != self.identity.peer_id:
            await self.send_json({"type": "peer_media", "peer_id": event["peer_id"], "media": event["media"]})

    async def session_changed(self, event):
        # Nudges queue up behind a slow read (a burst of captures, a busy
        # database thread): one that names a version this socket has already
        # read, state and validity together, after that change committed, has
        # nothing new to say. Messages are handled in order, so that read's
        # state went out before this nudge.
        version = event.get("version")
        if version is not None and self.checked_version is not None and version <= self.checked_version:
            return
        state, still_valid = await database_sync_to_async(self._state_and_validity)()
        self.checked_version = state["version"]
        await self.send_json(state)
        if version is not None:
            # A change made in the checks' worker process (kyc/background.py)
            # left its version in that process's cache, not this one's, where
            # heartbeats read it: what a socket has read, the cache knows.
            await _version_remember(self.identity.session_id, state["version"])
        if state["session"]["ended"]:
            await self.send_json({"type": "call_ended"})
            await self.close(code=CLOSE_CALL_ENDED)
        elif not still_valid:
            await self.close(code=CLOSE_FORBIDDEN)

    async def call_ended(self, event):
        await self.session_changed(event)

    def _state_and_validity(self):
        return self._state(), selectors.call_identity_still_valid(self.identity)

