"""The product as a call needs it, with every part reachable for a fault:

    customer browser ─┐                ┌─ balancer (prefers daphne 0) ─┐
                      ├─ namespace ────┤                               ├─ daphne 0, daphne 1 ── our Redis
    operator browser ─┘   relays       └─ balancer (prefers daphne 1) ─┘        │
                                                                         Celery worker + beat ── webhook receiver

The customer's page is served by daphne 0 and the operator's by daphne 1
while both live, so every call crosses the Redis channel layer; each browser
keeps one URL and reaches the survivor when its daphne dies. The browsers sit
in their own network namespace when the machine allows it (see netns.py).
"""

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

from faults.netns import Namespace, unavailable_reason
from faults.netproxy import Balancer
from faults.services import CeleryWorker, RedisServer, WebhookReceiver
from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, ROOT, ProductServer

# The "≈ 30 s": a call nobody is heard from for this long ends.
RESUME_WINDOW_SECONDS = 30
CUSTOMER_PORT_IN_NAMESPACE = 8001
OPERATOR_PORT_IN_NAMESPACE = 8002


class CallStack:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.exit = ExitStack()
        self.redis = RedisServer(workdir)
        self.server: ProductServer | None = None
        self.balancer: Balancer | None = None
        self.namespace: Namespace | None = None
        self.namespace_missing = unavailable_reason()
        self.worker: CeleryWorker | None = None
        self.receiver = WebhookReceiver()
        self.customer_url = self.operator_url = ""

    def start(self):
        self.exit.callback(self.redis.stop)
        self.redis.start()
        with mock.patch.dict(os.environ, {"REDIS_URL": self.redis.url(0)}):
            self.server = ProductServer(processes=2)
        self.server.env.update(
            {"REDIS_URL": self.redis.url(0), "CALL_RESUME_WINDOW_SECONDS": str(RESUME_WINDOW_SECONDS)}
        )
        self.exit.callback(self.server.stop)
        self.balancer = Balancer()
        self.exit.callback(self.balancer.close)
        backends = [("127.0.0.1", port) for port in self.server.ports]
        if self.namespace_missing is None:
            self.namespace = Namespace(self.server.tmp).__enter__()
            self.exit.callback(self.namespace.close)
            customer_sock = str(self.server.tmp / "customer.sock")
            operator_sock = str(self.server.tmp / "operator.sock")
            self.balancer.listen(backends, unix=customer_sock)
            self.balancer.listen(list(reversed(backends)), unix=operator_sock)
            self.customer_url = self.namespace.relay(CUSTOMER_PORT_IN_NAMESPACE, customer_sock)
            self.operator_url = self.namespace.relay(OPERATOR_PORT_IN_NAMESPACE, operator_sock)
        else:
            host, port = self.balancer.listen(backends)
            self.customer_url = f"http://{host}:{port}"
            host, port = self.balancer.listen(list(reversed(backends)))
            self.operator_url = f"http://{host}:{port}"
        # The browsers reach the servers through the balancers: their pages'
        # origins are the site's own origins (exact websocket Origin check).
        self.server.env["CSRF_TRUSTED_ORIGINS"] = ",".join(
            [*self.server.base_urls, self.customer_url, self.operator_url]
        )
        self.server.start()
        self.receiver.start()
        self.exit.callback(self.receiver.stop)
        self.worker = CeleryWorker(self.server.env, self.server.tmp, beat=True, name="stack")
        self.exit.callback(self.worker.stop)
        self.worker.start()
        return self

    def close(self):
        self.exit.close()

    # --- the browser ------------------------------------------------------------------

    def launch_browser(self, playwright):
        executable = self.namespace.chromium() if self.namespace else CHROMIUM
        return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)

    # --- the product's data -------------------------------------------------------------

    def django(self, code: str, *, env: dict | None = None):
        """Run Python with Django set up against the product's database; the
        code assigns ``result``, which comes back through JSON."""
        script = (
            "import django, json, sys\n"
            "django.setup()\n"
            f"{code}\n"
            "print('RESULT ' + json.dumps(result, default=str))\n"
        )
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env or self.server.env,
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"django code failed:\n{code}\n{out.stderr}")
        line = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")][-1]
        return json.loads(line[len("RESULT "):])

    def seed(self, business: str) -> dict:
        seed = self.server.seed(business=business, multi_user=2)
        self.django(
            "from accounts.models import Business\n"
            f"result = Business.objects.filter(slug={business!r}).update(webhook_url={self.receiver.url!r})"
        )
        base = self.server.base_urls[0]
        seed["one_on_one"]["links"] = [
            link.replace(base, self.customer_url, 1) for link in seed["one_on_one"]["links"]
        ]
        return seed

    def session_of(self, business: str) -> dict:
        """The one-on-one session of a seeded business, with its webhook events."""
        return self.django(
            "from sessions_app.models import VerificationSession\n"
            "from operators.models import WebhookEvent\n"
            f"s = VerificationSession.objects.filter(business__slug={business!r}, kind='one_on_one').get()\n"
            "result = {'id': str(s.public_id), 'state': s.state, 'version': s.state_version,\n"
            "  'ended_at': s.ended_at,\n"
            "  'events': [dict(type=e.event_type, state=e.state, id=str(e.public_id), body=json.loads(e.body))\n"
            "             for e in WebhookEvent.objects.filter(session=s).order_by('created_at', 'pk')]}"
        )

    # --- faults on daphne ---------------------------------------------------------------

    def restart_daphne(self, index: int):
        """Start the killed process again, on its port (the harness's command)."""
        server = self.server
        port = server.ports[index]
        log = open(server.tmp / f"daphne-{port}.log", "a")
        server.procs[index] = subprocess.Popen(
            [sys.executable, "-m", "kyc.serve", "-b", "127.0.0.1", "-p", str(port), "kyc.asgi:application"],
            cwd=ROOT, env=server.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        server._wait_ready(server.base_urls[index])

    def daphne_alive(self, index: int) -> bool:
        proc = self.server.procs[index]
        return proc.poll() is None


def stop_process_group(proc: subprocess.Popen):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def monotonic_ms() -> float:
    return time.monotonic() * 1000
