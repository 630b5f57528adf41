"""The moving parts the faults are injected into, each one started by the
test itself so it can be killed and restarted without touching anyone
else's: a Redis server on a free port, Celery workers, a webhook receiver.
Every wait here is bounded."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.e2e.harness import ROOT, free_port


def wait_until(predicate, *, timeout: float, interval: float = 0.2, message: str = "condition"):
    """Poll until predicate() is truthy; returns its value. Raises after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{message} not met within {timeout:.0f} s")
        time.sleep(interval)


class RedisServer:
    """Our own redis-server, configured as this machine runs its shared one
    (nothing kept on disk), on a free port."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.restarts: list[float] = []  # seconds each restart took until PING answered

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self.ping, timeout=15, message="redis-server answering PING")
        return self

    def ping(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1).ping()
        except redis.RedisError:
            return False

    def kill(self):
        """Crash it: SIGKILL, as an OOM kill or a host failure would."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self, *, down_for: float = 0.0):
        started = time.monotonic()
        self.kill()
        time.sleep(down_for)
        self.start()
        self.restarts.append(time.monotonic() - started)

    def stop(self):
        self.kill()


class CeleryWorker:
    """A real ``celery -A kyc worker`` process (optionally with beat)."""

    def __init__(self, env: dict, workdir: Path, *, beat: bool = False, include: str | None = None, name="w"):
        self.env = env
        self.workdir = workdir
        self.beat = beat
        self.include = include
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.log_path = workdir / f"celery-{name}.log"

    def start(self):
        args = [sys.executable, "-m", "celery", "-A", "kyc", "worker", "--loglevel=INFO", "--concurrency=1",
                "--pool=prefork", "-n", f"{self.name}-{os.getpid()}@faults", "--without-mingle", "--without-gossip"]
        if self.beat:
            args += ["-B", "-s", str(self.workdir / f"beat-{self.name}")]
        if self.include:
            args += ["--include", self.include]
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_until(lambda: "ready." in self.log() or self.proc.poll() is not None, timeout=60,
                   message="celery worker ready")
        if self.proc.poll() is not None:
            raise RuntimeError(f"celery worker exited:\n{self.log()}")
        return self

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def kill_all(self):
        """SIGKILL the whole worker: main process and pool children."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


@dataclass
class Hook:
    at: float
    event_id: str
    event_type: str
    body: dict
    status: int


@dataclass
class WebhookReceiver:
    """The business's webhook endpoint on 127.0.0.1. While ``down`` it refuses
    connections (the port is closed); ``answer`` is the status it gives."""

    port: int = field(default_factory=free_port)
    answer: int = 200
    received: list = field(default_factory=list)  # every request, answered or not
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/verity"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.answer
                receiver.received.append(
                    Hook(time.monotonic(), self.headers.get("Verity-Event-Id", ""),
                         self.headers.get("Verity-Event-Type", ""), json.loads(body or b"{}"), status)
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self, event_type: str | None = None) -> list[Hook]:
        return [h for h in self.received if h.status < 300 and (event_type is None or h.event_type == event_type)]
