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
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.models import Business
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
    received: list = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _answered: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/verity"

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
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                try:
                    self.wfile.write(b"ok" if status < 300 else b"nope")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
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


@pytest.fixture
def hooked_business_a(business_a, receiver) -> Business:
    Business.objects.filter(pk=business_a.pk).update(webhook_url=receiver.url)
    business_a.refresh_from_db()
    return business_a
