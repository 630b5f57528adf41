"""A tiny TCP relay and load balancer for the fault tests.

``Balancer`` runs an asyncio loop in a thread. Each listener (a TCP port on
127.0.0.1 or a unix socket) forwards every connection it accepts to the first
of its backends that accepts one, in the listener's order of preference, so a
browser keeps one URL and lands on a surviving daphne process when its
preferred one is dead. ``cut()`` closes every relayed connection at once (a
dropped link); ``stall()`` keeps them open but forwards nothing (a silent
one).

Run as a program (``python -m faults.netproxy --listen 127.0.0.1:PORT --unix
PATH``) it is the other half of the bridge into a network namespace: it
listens on the namespace's own loopback and forwards to a unix socket, which
the test's balancer serves from outside. Sockets on the file system cross
network namespaces; nothing else leaves them.
"""

import argparse
import asyncio
import socket
import threading
from dataclasses import dataclass, field

CONNECT_TIMEOUT = 2.0
CHUNK = 64 * 1024


@dataclass
class Listener:
    backends: list  # (host, port) or unix path, in order of preference
    address: object = None  # (host, port) or path once listening
    server: asyncio.AbstractServer | None = None
    connections: dict = field(default_factory=dict)  # backend -> count of connections made


async def _open(backend):
    if isinstance(backend, str):
        return await asyncio.wait_for(asyncio.open_unix_connection(backend), CONNECT_TIMEOUT)
    return await asyncio.wait_for(asyncio.open_connection(*backend), CONNECT_TIMEOUT)


class Balancer:
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fault-balancer", daemon=True)
        self.thread.start()
        self.listeners: list[Listener] = []
        self._pipes: set[tuple] = set()
        self._stalled = asyncio.Event()  # set: forward nothing
        self.loop.call_soon_threadsafe(self._stalled.clear)

    def _run(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def listen(self, backends, *, unix: str | None = None) -> object:
        """Start a listener; returns its (host, port) or unix path."""
        listener = Listener(backends=list(backends))

        async def start():
            handler = lambda r, w: self._serve(listener, r, w)  # noqa: E731
            if unix:
                listener.server = await asyncio.start_unix_server(handler, path=unix)
                listener.address = unix
            else:
                listener.server = await asyncio.start_server(handler, "127.0.0.1", 0)
                listener.address = listener.server.sockets[0].getsockname()[:2]

        self._run(start())
        self.listeners.append(listener)
        return listener.address

    async def _serve(self, listener: Listener, client_reader, client_writer):
        upstream = None
        for backend in listener.backends:
            try:
                upstream = await _open(backend)
            except (OSError, asyncio.TimeoutError):
                continue
            listener.connections[backend] = listener.connections.get(backend, 0) + 1
            break
        if upstream is None:
            client_writer.close()
            return
        backend_reader, backend_writer = upstream
        pair = (client_writer, backend_writer)
        self._pipes.add(pair)
        try:
            await asyncio.gather(
                self._pump(client_reader, backend_writer), self._pump(backend_reader, client_writer), return_exceptions=True
            )
        finally:
            self._pipes.discard(pair)
            for writer in pair:
                writer.close()

    async def _pump(self, reader, writer):
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                while self._stalled.is_set():
                    await asyncio.sleep(0.05)
                writer.write(data)
                await writer.drain()
        finally:
            # Either side closing ends the pair: a dead backend's clients see
            # their connection drop, as they would behind a real balancer.
            writer.close()

    def cut(self):
        """Drop every relayed connection now (new ones are still accepted)."""

        async def cut():
            for pair in list(self._pipes):
                for writer in pair:
                    transport = writer.transport
                    transport.abort()

        self._run(cut())

    def stall(self, on: bool = True):
        self.loop.call_soon_threadsafe(self._stalled.set if on else self._stalled.clear)

    def close(self):
        async def close():
            for listener in self.listeners:
                if listener.server is not None:
                    listener.server.close()
            for pair in list(self._pipes):
                for writer in pair:
                    writer.transport.abort()

        try:
            self._run(close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)


def _serve_forever(listen: str, unix: str):
    host, port = listen.rsplit(":", 1)

    async def main():
        async def handle(client_reader, client_writer):
            try:
                backend_reader, backend_writer = await _open(unix)
            except (OSError, asyncio.TimeoutError):
                client_writer.close()
                return

            async def pump(reader, writer):
                try:
                    while data := await reader.read(CHUNK):
                        writer.write(data)
                        await writer.drain()
                except OSError:
                    pass
                finally:
                    writer.close()

            await asyncio.gather(
                pump(client_reader, backend_writer), pump(backend_reader, client_writer), return_exceptions=True
            )

        server = await asyncio.start_server(handle, host, int(port), reuse_address=True, family=socket.AF_INET)
        print("listening", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="host:port to listen on")
    parser.add_argument("--unix", required=True, help="unix socket to forward to")
    args = parser.parse_args()
    _serve_forever(args.listen, args.unix)
