"""Plain `websockets` clients that behave like the call pages' sockets.

Each call is two sockets (customer and operator) that connect with their
credentials, wait until the server has introduced them to each other, send a
set-up burst of offer / answer / ICE `signal` frames, then a heartbeat every
10 seconds. On welcome each socket sends its `media_state`, as the pages do. Every relayed frame carries a stamp inside its payload (an SDP
attribute line or the candidate text): which phase, call and direction it
belongs to, a sequence number and the send time. The receiving socket reads
it back, so the benchmark knows each frame's relay latency, and whether any
frame was lost or reached the wrong call.

Everything goes to 127.0.0.1 only, and every loop is bounded in count and time.
"""

import asyncio
import json
import random
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect

HEARTBEAT_S = 10.0
STAMP = "x-bench:"
CANDIDATES_PER_SIDE = 6
# Chromium's offers for audio + video are ~5 KB, answers ~3 KB.
OFFER_BYTES = 5000
ANSWER_BYTES = 3000
OPERATOR, CUSTOMER = 0, 1  # also the direction of a frame: who sent it
MEDIA_STATE_FRAME = '{"type":"media_state","audio":true,"video":true}'


def _sdp(kind: str, size: int, stamp: str) -> str:
    lines = [
        "v=0",
        f"o=- {random.getrandbits(62)} 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        f"a={stamp}",
        "a=msid-semantic: WMS bench",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
        "c=IN IP4 0.0.0.0",
        "a=ice-ufrag:bEnC",
        "a=ice-pwd:" + secrets.token_hex(12),
        "a=fingerprint:sha-256 " + ":".join(secrets.token_hex(1).upper() for _ in range(32)),
        f"a=setup:{'actpass' if kind == 'offer' else 'active'}",
    ]
    codec = 96
    while sum(len(line) + 2 for line in lines) < size:
        lines.append(f"a=rtpmap:{codec} VP8/90000")
        lines.append(f"a=rtcp-fb:{codec} goog-remb transport-cc ccm fir nack nack pli")
        lines.append(f"a=fmtp:{codec} level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
        codec = 96 + (codec - 95) % 30
    return "\r\n".join(lines) + "\r\n"


def _candidate(stamp: str, n: int) -> dict:
    return {
        "candidate": f"candidate:{842163049 + n} 1 udp {2122260223 - n} 127.0.0.1 {50000 + n} typ host "
        f"generation 0 ufrag bEnC network-id 1 {stamp}",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "bEnC",
    }


@dataclass
class Stats:
    """What one phase of a benchmark saw, from the clients' side."""

    sent: int = 0
    received: int = 0
    misrouted: int = 0
    latencies_ms: list = field(default_factory=list)
    heartbeats: int = 0
    heartbeat_rtts_ms: list = field(default_factory=list)
    connect_ms: list = field(default_factory=list)
    ready_ms: list = field(default_factory=list)
    errors: dict = field(default_factory=lambda: defaultdict(int))
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None


def percentile(values, q: float):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Socket:
    def __init__(self, load: "Load", call: "Call", role: int):
        self.load, self.call, self.role = load, call, role
        self.ws: ClientConnection | None = None
        self.welcomed = asyncio.Event()
        self.peer_known = asyncio.Event()
        self.reader: asyncio.Task | None = None
        self.beater: asyncio.Task | None = None
        self.heartbeat_sent: list[float] = []
        self.closed = False

    @property
    def peer_id(self) -> str:
        return self.call.info["operator" if self.role == OPERATOR else "customer"]["peer_id"]

    @property
    def other_peer_id(self) -> str:
        return self.call.info["customer" if self.role == OPERATOR else "operator"]["peer_id"]

    def url(self) -> str:
        base = self.load.ws_base(self.call, self.role)
        if self.load.floor:
            return f"{base}{self.call.info['path']}?peer={self.peer_id}"
        return f"{base}{self.call.info['path']}?instance={secrets.token_hex(8)}"

    async def open(self, stats: Stats):
        who = self.call.info["operator" if self.role == OPERATOR else "customer"]
        started = time.perf_counter()
        self.ws = await connect(
            self.url(),
            # The server takes its own exact origin only (kyc/origins.py):
            # the page's, scheme, host and port.
            origin=self.load.ws_base(self.call, self.role).replace("ws://", "http://", 1),
            additional_headers=[("Cookie", f"{self.load.cookie_name}={who['cookie']}")],
            compression=None,  # browsers offer deflate; daphne does not take it
            proxy=None,  # straight to 127.0.0.1, whatever the environment says
            open_timeout=30,
            ping_interval=None,  # the server pings; browsers do not
            max_size=2**20,
        )
        self.reader = asyncio.create_task(self.read())
        await asyncio.wait_for(self.welcomed.wait(), 30)
        stats.connect_ms.append((time.perf_counter() - started) * 1000)
        if not self.load.floor:
            # What every call page sends on welcome (call-ui.js): its camera
            # and microphone state. The customer's is written to the database
            # (participant_set_media_state), and both are announced to the call.
            # The floor's page has no such frame.
            await self.ws.send(MEDIA_STATE_FRAME)

    async def read(self):
        load = self.load
        try:
            async for text in self.ws:
                at = time.perf_counter_ns()
                where = text.find(STAMP)
                if where >= 0:
                    end = text.find(" ", where)
                    for stop in ("\\r", '"'):
                        cut = text.find(stop, where)
                        if cut >= 0 and (end < 0 or cut < end):
                            end = cut
                    phase, call, direction, _seq, sent_ns = text[where + len(STAMP) : end].split(":")
                    stats = load.phases.get(phase)
                    if stats is None:
                        continue
                    if int(call) != self.call.index or int(direction) == self.role:
                        stats.misrouted += 1
                    else:
                        stats.received += 1
                        stats.latencies_ms.append((at - int(sent_ns)) / 1e6)
                    continue
                message = json.loads(text)
                kind = message.get("type")
                if kind == "welcome":
                    self.welcomed.set()
                elif kind == "peer_joined":
                    peer = message.get("peer_id") or message.get("peer", {}).get("peer_id")
                    if peer == self.other_peer_id:
                        self.peer_known.set()
                elif kind == "peer_left":
                    if message.get("peer_id") == self.other_peer_id:
                        self.peer_known.clear()
                elif kind == "heartbeat_ack":
                    if self.heartbeat_sent:
                        sent = self.heartbeat_sent.pop(0)
                        load.current.heartbeat_rtts_ms.append((time.perf_counter() - sent) * 1000)
                elif kind == "error":
                    load.current.errors[message.get("code", "?")] += 1
        except Exception as error:  # a dropped socket is counted, not raised
            if not self.closed:
                load.current.errors[f"socket_{type(error).__name__}"] += 1
        finally:
            if not self.closed:
                self.load.current.errors["closed_by_server"] += 1
                self.welcomed.set()

    async def heartbeats(self, deadline: float):
        """One heartbeat every 10 s from the socket's opening (as signaling.js),
        until the deadline."""
        try:
            while not self.closed:
                await asyncio.sleep(HEARTBEAT_S)
                if self.closed or time.monotonic() > deadline:
                    return
                self.heartbeat_sent.append(time.perf_counter())
                self.load.current.heartbeats += 1
                await self.ws.send('{"type":"heartbeat"}')
        except Exception:
            pass

    async def signal(self, stats: Stats, phase: str, frame: dict):
        stats.sent += 1
        await self.ws.send(json.dumps({"type": "signal", "to": self.other_peer_id, **frame}))

    def stamp(self, phase: str) -> str:
        self.call.seq += 1
        return f"{STAMP}{phase}:{self.call.index}:{self.role}:{self.call.seq}:{time.perf_counter_ns()}"

    async def close(self):
        self.closed = True
        for task in (self.beater,):
            if task:
                task.cancel()
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 10)
            except Exception:
                pass
        if self.reader:
            try:
                await asyncio.wait_for(self.reader, 5)
            except Exception:
                self.reader.cancel()


class Call:
    def __init__(self, load: "Load", index: int, info: dict):
        self.load, self.index, self.info = load, index, info
        self.seq = 0
        self.operator = Socket(load, self, OPERATOR)
        self.customer = Socket(load, self, CUSTOMER)
        self.connected = False

    async def connect(self, stats: Stats, heartbeat_until: float):
        """Customer first (waiting), then the operator answers, as in the product."""
        started = time.perf_counter()
        await self.customer.open(stats)
        await self.operator.open(stats)
        waits = [asyncio.ensure_future(s.peer_known.wait()) for s in (self.customer, self.operator)]
        _, pending = await asyncio.wait(waits, timeout=30)
        for wait in pending:
            wait.cancel()
        if pending:
            raise TimeoutError("the server did not introduce the two sides of the call")
        stats.ready_ms.append((time.perf_counter() - started) * 1000)
        self.connected = True
        for sock in (self.customer, self.operator):
            sock.beater = asyncio.create_task(sock.heartbeats(heartbeat_until))

    async def burst(self, stats: Stats, phase: str):
        """Offer, answer, and each side's trickled candidates, as Chromium
        sends them: the operator offers, the customer answers."""
        op, cu = self.operator, self.customer
        await op.signal(stats, phase, {"description": {"type": "offer", "sdp": _sdp("offer", OFFER_BYTES, op.stamp(phase))}})
        for n in range(CANDIDATES_PER_SIDE):
            await asyncio.sleep(0.004)
            await op.signal(stats, phase, {"candidate": _candidate(op.stamp(phase), n)})
        await asyncio.sleep(0.01)  # the customer's page sets the offer and answers
        await cu.signal(stats, phase, {"description": {"type": "answer", "sdp": _sdp("answer", ANSWER_BYTES, cu.stamp(phase))}})
        for n in range(CANDIDATES_PER_SIDE):
            await asyncio.sleep(0.004)
            await cu.signal(stats, phase, {"candidate": _candidate(cu.stamp(phase), n)})
        # End of candidates carries no stamp: it is relayed but not timed.

    async def close(self):
        await asyncio.gather(self.customer.close(), self.operator.close())
        self.connected = False


class Load:
    """All the calls of one run against one server (ours or the floor)."""

    def __init__(self, *, calls: list[dict], cookie_name: str, ports: list[int], floor: bool, split: bool = False):
        self.calls = [Call(self, n, info) for n, info in enumerate(calls)]
        self.cookie_name = cookie_name
        self.ports = ports
        self.floor = floor
        # With two daphne processes, the customer of every call is on one and
        # the operator on the other: each relayed frame crosses Redis.
        self.split = split and len(ports) > 1
        self.phases: dict[str, Stats] = {}
        self.current = Stats()

    def ws_base(self, call: Call, role: int) -> str:
        port = self.ports[role] if self.split else self.ports[0]
        return f"ws://127.0.0.1:{port}"

    def phase(self, name: str) -> Stats:
        stats = Stats()
        self.phases[name] = stats
        self.current = stats
        return stats

    async def connect_calls(self, calls: list[Call], stats: Stats, *, concurrency: int, burst_phase: str | None,
                            heartbeat_until: float, deadline: float):
        """Connect calls, `concurrency` at a time, each bursting once connected."""
        queue = list(calls)
        failures = 0

        async def worker():
            nonlocal failures
            while queue and time.monotonic() < deadline:
                call = queue.pop(0)
                try:
                    await call.connect(stats, heartbeat_until)
                    if burst_phase:
                        await call.burst(stats, burst_phase)
                except Exception as error:
                    failures += 1
                    stats.errors[f"connect_{type(error).__name__}"] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return failures

    async def new_calls(self, pool: list[Call], stats: Stats, phase: str, *, rate: float, seconds: float,
                        hold_s: float, heartbeat_until: float):
        """New calls arriving at `rate` a second for `seconds`: each connects,
        sets up (burst), stays `hold_s`, hangs up. Calls of the pool are reused
        once they have hung up."""
        tasks = []
        free = list(pool)
        busy: set[Call] = set()
        started = time.monotonic()
        count = int(rate * seconds)

        async def one(call: Call):
            try:
                await call.connect(stats, heartbeat_until)
                await call.burst(stats, phase)
                await asyncio.sleep(hold_s)
            except Exception as error:
                stats.errors[f"new_call_{type(error).__name__}"] += 1
            finally:
                await call.close()
                # Reconnecting the same person needs the server to have let go
                # of the old socket first.
                await asyncio.sleep(0.5)
                busy.discard(call)
                free.append(call)

        for n in range(count):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            if not free:
                stats.errors["pool_exhausted"] += 1
                continue
            call = free.pop(0)
            call.seq = 0
            call.customer = Socket(self, call, CUSTOMER)
            call.operator = Socket(self, call, OPERATOR)
            busy.add(call)
            tasks.append(asyncio.create_task(one(call)))
        # Bounded: calls still setting up this long after the last arrival
        # are counted and dropped.
        done, pending = await asyncio.wait(tasks, timeout=hold_s + 30) if tasks else (set(), set())
        for task in pending:
            stats.errors["new_call_timeout"] += 1
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=15)

    async def offered_load(self, calls: list[Call], stats: Stats, phase: str, *, rate: float, seconds: float,
                           size: int = 1500):
        """Signals at `rate` a second in total, spread over every socket of
        `calls` in turn, for `seconds` (open loop: a late send goes at once).
        Frames of ~`size` bytes, like the set-up's mix of SDP and candidates."""
        sockets = [s for call in calls if call.connected for s in (call.operator, call.customer)]
        if not sockets:
            stats.errors["no_connected_calls"] += 1
            return
        count = int(rate * seconds)
        started = time.monotonic()
        pad = max(0, size - 250)
        for n in range(count):
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sock = sockets[n % len(sockets)]
            stats.sent += 1
            sdp = f"v=0\r\na={sock.stamp(phase)}\r\n" + "a=x" * (pad // 3)
            try:
                await sock.ws.send(
                    '{"type":"signal","to":"%s","description":{"type":"offer","sdp":%s}}'
                    % (sock.other_peer_id, json.dumps(sdp))
                )
            except Exception as error:
                stats.errors[f"send_{type(error).__name__}"] += 1
        stats.ended = time.monotonic()

    async def close_calls(self, calls: list[Call], concurrency: int = 200):
        for start in range(0, len(calls), concurrency):
            await asyncio.gather(*(call.close() for call in calls[start : start + concurrency]))
