"""The floor: a bare signaling relay, written for the benchmarks.

One `websockets` server on 127.0.0.1 that does only what a relay must: keep
who is in which room, forward a `signal` frame to the peer it names (adding
who it is from), answer heartbeats. No authentication, no validation, no
database, no channel layer. What Verity does beyond this is its cost.

It also serves two tiny pages (`/customer.html`, `/operator.html`) with the
same getUserMedia + RTCPeerConnection steps as the product's call engine
(the impolite side opens the connection, candidates trickle), for the
browser benchmarks' floor.

    python -m bench.floor_relay --port 8765     # stand-alone, for a look
"""

import argparse
import asyncio
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve

# The page's whole call engine: join a room as `peer`, call every peer already
# there, answer the offers of those who arrive later.
# Same constraints and order as static/js/local-media.js + call-engine.js:
# camera first, then the socket.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>floor %(peer)s</title></head>
<body><h1>floor %(peer)s</h1><div id="videos"></div>
<script type="module">
const params = new URLSearchParams(location.search);
const room = params.get("room") || "r";
const me = "%(peer)s";
const videos = document.getElementById("videos");
const pcs = new Map();
let stream = null;
let ws = null;

function send(message) { ws.send(JSON.stringify(message)); }

function connection(peer) {
  let pc = pcs.get(peer);
  if (pc) return pc;
  pc = new RTCPeerConnection({ iceServers: [] });
  pcs.set(peer, pc);
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.onicecandidate = ({ candidate }) => send({ type: "signal", to: peer, candidate: candidate ? candidate.toJSON() : null });
  pc.ontrack = ({ streams }) => {
    let video = document.getElementById("v-" + peer);
    if (!video) {
      video = document.createElement("video");
      video.id = "v-" + peer; video.autoplay = true; video.muted = true; video.playsInline = true;
      videos.append(video);
    }
    video.srcObject = streams[0];
  };
  return pc;
}

async function call(peer) {
  const pc = connection(peer);
  await pc.setLocalDescription();
  send({ type: "signal", to: peer, description: pc.localDescription.toJSON() });
}

async function onSignal({ from, description, candidate }) {
  const pc = connection(from);
  if (description) {
    await pc.setRemoteDescription(description);
    if (description.type === "offer") {
      await pc.setLocalDescription();
      send({ type: "signal", to: from, description: pc.localDescription.toJSON() });
    }
  } else if (candidate) {
    await pc.addIceCandidate(candidate);
  }
}

window.benchMedia = async () => {
  stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 24, max: 30 } },
    audio: { echoCancellation: true, noiseSuppression: true },
  });
};

window.benchJoin = () => new Promise((resolve) => {
  ws = new WebSocket(`ws://${location.host}/ws/call/${room}/?peer=${me}`);
  ws.onopen = () => resolve();
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    // The page that arrives calls the ones already there (as the product's
    // operator, arriving last, opens the connection): one offer per pair.
    if (message.type === "peer_joined" && !message.arrived_first) call(message.peer_id);
    if (message.type === "signal") onSignal(message);
  };
});

window.benchStart = async () => { await window.benchMedia(); await window.benchJoin(); };
</script></body></html>
"""


class FloorRelay:
    """Rooms of peers; forwards what each names. Runs its own event loop in a
    thread (for the sync Playwright benchmarks) or inside the caller's."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.rooms: dict[str, dict[str, ServerConnection]] = {}
        self.relayed = 0
        self.server = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None

    # --- HTTP: the two pages --------------------------------------------------------

    def process_request(self, connection: ServerConnection, request):
        path = urlsplit(request.path).path
        if path.startswith("/ws/"):
            return None
        name = path.strip("/").removesuffix(".html")
        if not name:
            name = "customer"
        response = connection.respond(200, PAGE % {"peer": name})
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        return response

    # --- websocket: the relay ---------------------------------------------------------

    async def handler(self, ws: ServerConnection):
        url = urlsplit(ws.request.path)
        room_name = url.path.strip("/").split("/")[-1]
        peer = (parse_qs(url.query).get("peer") or ["?"])[0]
        room = self.rooms.setdefault(room_name, {})
        room[peer] = ws
        await ws.send('{"type":"welcome","peer_id":%s}' % json.dumps(peer))
        # Who is here: the newcomer learns of everyone, everyone of the newcomer.
        for other, other_ws in list(room.items()):
            if other == peer:
                continue
            await ws.send(json.dumps({"type": "peer_joined", "peer_id": other, "arrived_first": False}))
            try:
                await other_ws.send(json.dumps({"type": "peer_joined", "peer_id": peer, "arrived_first": True}))
            except Exception:
                pass
        try:
            async for text in ws:
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "signal":
                    target = room.get(frame.pop("to", None))
                    if target is None:
                        await ws.send('{"type":"error","code":"unknown_peer"}')
                        continue
                    frame["from"] = peer
                    self.relayed += 1
                    try:
                        await target.send(json.dumps(frame))
                    except Exception:
                        pass  # the target went away: a bare relay drops it
                elif kind == "heartbeat":
                    await ws.send('{"type":"heartbeat_ack","t":%f}' % time.time())
        except Exception:
            pass
        finally:
            if room.get(peer) is ws:
                del room[peer]
            if not room:
                self.rooms.pop(room_name, None)

    async def start_async(self):
        # Same transport choices as daphne's: no per-message compression, and
        # keep-alive pings every 20 s.
        self.server = await serve(
            self.handler,
            self.host,
            self.port,
            process_request=self.process_request,
            compression=None,
            max_size=2**20,
            ping_interval=20,
            ping_timeout=30,
        )
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop_async(self):
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    # --- in a thread, for sync callers ---------------------------------------------------

    def start_in_thread(self):
        ready = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.start_async())
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.stop_async())
            self.loop.close()

        self.thread = threading.Thread(target=run, name="floor-relay", daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("the floor relay did not start")
        return self

    def stop_thread(self):
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    relay = FloorRelay(port=args.port)

    async def forever():
        await relay.start_async()
        print(f"floor relay on {relay.base_url}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(forever())


if __name__ == "__main__":
    main()
