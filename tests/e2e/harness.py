"""Real servers and a real browser for the end-to-end tests.

The product runs as it does in production: daphne processes serving
kyc.asgi over a database the test process does not touch (a fresh SQLite
file, or a fresh PostgreSQL database when E2E_DATABASE_URL is set), with
Redis as the channel layer and a real Celery worker when REDIS_URL is set
(then two daphne processes can share one call, and the checks, compositions
and webhooks run on the worker).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"

CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ProductServer:
    """One product installation (database + var dir) served by N daphne processes."""

    def __init__(self, processes: int = 1):
        self.tmp = Path(tempfile.mkdtemp(prefix="verity-e2e-"))
        self.ports = [free_port() for _ in range(processes)]
        self.base_urls = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.procs: list[subprocess.Popen] = []
        self.env = dict(os.environ)
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "kyc.settings",
                "VERITY_VAR_DIR": str(self.tmp),
                "PUBLIC_BASE_URL": self.base_urls[0],
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "CSRF_TRUSTED_ORIGINS": ",".join(self.base_urls),
                "DEBUG": "false",
                "PYTHONUNBUFFERED": "1",
                # The staff user of the recording test signs in with a password
                # (the mandatory second factor has its own tests in tests/security).
                "STAFF_REQUIRE_SECOND_FACTOR": "false",
                # E-mails and text messages land in files under the var dir,
                # where a test reads what the server sent (mails_sent below).
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "SMS_BACKEND": "kyc.sms.FileBackend",
            }
        )
        self.env.pop("DATABASE_URL", None)
        e2e_database = os.environ.get("E2E_DATABASE_URL")
        if e2e_database:
            self.env["DATABASE_URL"] = e2e_database
        if not os.environ.get("REDIS_URL"):
            self.env.pop("REDIS_URL", None)
        if processes > 1 and not self.env.get("REDIS_URL"):
            raise RuntimeError("several daphne processes need REDIS_URL (a shared channel layer)")

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self):
        if self.env.get("DATABASE_URL"):
            self.manage("flush", "--no-input")
        self.manage("migrate", "--no-input", "-v0")
        self.manage("collectstatic", "--no-input", "-v0")
        for port in self.ports:
            log = open(self.tmp / f"daphne-{port}.log", "w")
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "kyc.serve", "-b", "127.0.0.1", "-p", str(port), "kyc.asgi:application"],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        for url in self.base_urls:
            self._wait_ready(url)
        return self

    def _wait_ready(self, url: str):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"daphne at {url} did not start:\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp.glob("daphne-*.log")) + sorted(self.tmp.glob("celery-*.log")))

    def seed(
        self, *, business: str, multi_user: int = 3, password: str = "e2e-operator-pass-1", rules: tuple = (),
        preset: str | None = None, min_video_height: int | None = None, min_frame_rate: int | None = None,
    ) -> dict:
        """``rules`` and ``preset``: a regulated workflow (kyc.regulations) the seeded sessions run under
        (a preset with all its rules on); ``min_video_height``/``min_frame_rate``: its call conditions' minimum."""
        regulated = (["--rules", ",".join(rules)] if rules else []) + (["--preset", preset] if preset else [])
        if min_video_height is not None:
            regulated += ["--min-video-height", str(min_video_height)]
        if min_frame_rate is not None:
            regulated += ["--min-frame-rate", str(min_frame_rate)]
        out = self.manage(
            "seed_demo", "--json", "--business", business, "--username", f"op-{business}",
            "--compliance-username", f"compliance-{business}",
            "--password", password, "--multi-user", str(multi_user), *regulated,
        )
        return json.loads(out.strip().splitlines()[-1])

    def mails_sent(self) -> list[str]:
        """Every e-mail the server sent so far, as raw text, oldest first
        (Django's file backend: one file per connection, messages divided by
        a line of dashes)."""
        mails = []
        for path in sorted((self.tmp / "mail").glob("*.log"), key=lambda p: p.stat().st_mtime):
            mails.extend(part for part in path.read_text().split("-" * 79) if part.strip())
        return mails

    def kill(self, index: int):
        proc = self.procs[index]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(self.tmp, ignore_errors=True)


# The browser tests' own Redis database when REDIS_URL is set: their worker
# must never take a task some other test left in the default database.
E2E_REDIS_DB = int(os.environ.get("E2E_REDIS_DB", "14"))


@contextmanager
def running_server(processes: int = 1):
    """The product as production runs it: daphne processes, and with REDIS_URL
    a real Celery worker too (checks, compositions and webhooks leave the
    web process there, as they do in production)."""
    server = ProductServer(processes)
    worker = None
    if server.env.get("REDIS_URL"):
        import redis

        from faults.services import CeleryWorker  # the fault suite's worker, reused

        url = urllib.parse.urlsplit(server.env["REDIS_URL"])
        server.env["REDIS_URL"] = urllib.parse.urlunsplit(url._replace(path=f"/{E2E_REDIS_DB}"))
        redis.Redis.from_url(server.env["REDIS_URL"]).flushdb()
    server.start()
    try:
        if server.env.get("REDIS_URL"):
            worker = CeleryWorker(server.env, server.tmp, name="e2e").start()
        yield server
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


def launch_browser(playwright, extra_args=()):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args])


# `make screenshots` sets this: every screenshot the browser tests take is
# also kept there, as the README's gallery (docs/screenshots.md).
GALLERY = os.environ.get("VERITY_SCREENSHOTS")


def screenshot(page, name: str, *, full_page: bool = False):
    """Kept in test-artifacts/ (CI keeps a failed run's), and in the gallery
    when `make screenshots` runs. ``name`` says whose screen it is first:
    "customer-…", "operator-…", "compliance-…" (tests/e2e/gallery.py)."""
    name = re.sub(r"[^\w-]+", "-", name).strip("-").lower()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
    if GALLERY:
        Path(GALLERY).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(GALLERY) / f"{name}.jpg"), type="jpeg", quality=72, full_page=full_page)
