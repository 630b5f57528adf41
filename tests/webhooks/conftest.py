"""A real HTTP receiver on 127.0.0.1 standing in for the business's webhook
endpoint. It records every request and answers what the test scripts:
``receiver.script = [500, 500, 200]`` answers two errors, then success (the
last entry repeats); ``receiver.delay_first = 2`` makes the first answer late;
``receiver.stop()`` / ``receiver.start()`` take it down and up on the same port.
Business A (Alpha Bank) points its webhook at it. A receiver on this machine
is refused by the egress policy (kyc/egress.py) unless allowed, so the
``receiver`` fixture allows plain http to 127.0.0.1 (``allow_local_receiver``),
as a developer does with WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOWED_NETWORKS."""

import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.models import Business
from operators.webhooks import webhook_deliver, webhook_emit
from tests.api.conftest import (  # noqa: F401  (shared fixtures, some autouse)
    _fast_password_hashing,
    _mail,
    api_a,
    api_b,
    celery_eager,
    key_a,
    key_b,
)


@dataclass
class Received:
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers["verity-event-id"]


@dataclass
class Receiver:
    port: int = 0
    script: list = field(default_factory=lambda: [200])
    delay_first: float = 0.0
    reply_body: bytes | None = None  # instead of "ok" / "nope"
    reply_type: str = "text/plain"
    tls: "ssl.SSLContext | None" = None  # serve https with this server context
    received: list = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _answered: int = 0

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/hooks/verity"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                index = receiver._answered
                receiver._answered += 1
                if index == 0 and receiver.delay_first:
                    time.sleep(receiver.delay_first)
                status = receiver.script[min(index, len(receiver.script) - 1)]
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Type", receiver.reply_type)
                self.end_headers()
                try:
                    self.wfile.write(receiver.reply_body or (b"ok" if status < 300 else b"nope"))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        if self.tls:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def ids(self) -> list[str]:
        return [request.event_id for request in self.received]

    def types(self) -> list[str]:
        return [request.headers["verity-event-type"] for request in self.received]


def allow_local_receiver(settings) -> None:
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def receiver(settings):
    allow_local_receiver(settings)
    running = Receiver()
    running.start()
    yield running
    running.stop()


def point_webhook_at(business: Business, url: str) -> None:
    """Straight to the database, past the check at saving: as a URL saved
    before the check existed, or whose DNS changed since."""
    Business.objects.filter(pk=business.pk).update(webhook_url=url)
    business.refresh_from_db()


def deliver_once(business: Business, session):
    """Write a session.created event and make its first attempt: the delivery."""
    event = webhook_emit(business=business, event_type="session.created", session=session, data={})
    webhook_deliver(event_id=event.pk)
    return event.deliveries.get()


@pytest.fixture
def hooked_business_a(business_a, receiver) -> Business:
    point_webhook_at(business_a, receiver.url)
    return business_a


@dataclass
class Listener:
    """A TCP service only this machine can reach (an internal admin port, a
    cache, a metadata service): it records every connection and, if anybody
    talks to it, answers with its secrets."""

    host: str = "127.0.0.1"
    connections: list = field(default_factory=list)
    port: int = 0
    _socket: socket.socket | None = None

    def start(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.bind((self.host, 0))
        self._socket.listen(16)
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self):
        while self._socket is not None:
            try:
                connection, peer = self._socket.accept()
            except (TimeoutError, OSError):
                continue
            self.connections.append(peer)
            with connection:
                connection.sendall(
                    b"HTTP/1.0 500 Internal\r\nContent-Type: text/plain\r\n\r\nINTERNAL-SECRET redis password hunter2\r\n"
                )

    def stop(self):
        listening, self._socket = self._socket, None
        if listening:
            listening.close()


@pytest.fixture
def listener():
    running = Listener().start()
    yield running
    running.stop()


@pytest.fixture
def listener_v6():
    running = Listener(host="::1").start()
    yield running
    running.stop()


@pytest.fixture
def connect_attempts(monkeypatch) -> list:
    """Every outgoing TCP connection this process tries (http.client, ftplib
    and urllib all open theirs with socket.create_connection)."""
    attempts = []
    real = socket.create_connection

    def recording(address, *args, **kwargs):
        attempts.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", recording)
    return attempts


@pytest.fixture
def fake_dns(monkeypatch) -> dict:
    """``fake_dns["hooks.partner.example"] = ["127.0.0.1"]``: what the name
    resolves to, a list per lookup (the last repeats), as a DNS server the
    attacker controls would answer. ``fake_dns.lookups`` counts them."""
    answers = FakeDns()
    lookups = answers.lookups = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if host not in answers:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        script = answers[host]
        addresses = script[min(lookups.count(host) - 1, len(script) - 1)]
        addresses = [addresses] if isinstance(addresses, str) else addresses
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port or 0))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


class FakeDns(dict):
    lookups: list
