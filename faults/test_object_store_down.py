"""Scenario 8: the object store stops in the middle of a recording's upload.

The product runs as on a second machine would: evidence in an S3-compatible
store (a moto server process on loopback, EVIDENCE_STORE=s3), encrypted. A
real WebM is uploaded in chunks over raw HTTP; after a third of them the
store's process is frozen (SIGSTOP: it stops answering, as a crashed or
cut-off host does; connections hang until the client's timeout) and every
upload meanwhile is answered 5xx and retried, as the operator's page
retries; then the store is thawed (SIGCONT). The segment is assembled and
composed from the store, and its SHA-256, recomputed from the decrypted
bytes, is the original's; the bytes in the bucket are ciphertext.

(Frozen, not killed: moto keeps its objects in memory, so a killed moto
would lose what was stored before the outage, which a real store keeps.
Connection refused, the other face of a store that is down, is covered by
tests/storage/test_evidence_store_down.py, which stops and restarts a moto
server that keeps its objects.)
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid

import pytest

from faults.report import record
from faults.services import wait_until
from faults.test_recording_upload_cut import Uploader, original, split  # noqa: F401 (the WebM fixture)
from tests.e2e.harness import ROOT, ProductServer, free_port

SEED = 20261206
BUCKET = "verity-faults-evidence"


class MotoProcess:
    def __init__(self, workdir):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / "moto.log", "w")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_until(self.answers, timeout=60, message="moto answering")
        self.client().create_bucket(Bucket=BUCKET)

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id="faults",
                            aws_secret_access_key="faults-secret", config=Config(connect_timeout=2, read_timeout=5))

    def answers(self) -> bool:
        try:
            self.client().list_buckets()
            return True
        except Exception:
            return False

    def freeze(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.thaw()
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def s3_product():
    server = ProductServer(processes=1)
    store = MotoProcess(server.tmp)
    try:
        store.start()
        server.env.pop("REDIS_URL", None)  # embedded: the composition runs in the request that ends the call
        server.env.update({
            "EVIDENCE_STORE": "s3", "EVIDENCE_S3_BUCKET": BUCKET, "EVIDENCE_S3_ENDPOINT_URL": store.endpoint,
            "EVIDENCE_S3_REGION": "us-east-1", "EVIDENCE_S3_ACCESS_KEY_ID": "faults",
            "EVIDENCE_S3_SECRET_ACCESS_KEY": "faults-secret", "EVIDENCE_S3_TIMEOUT_SECONDS": "2",
            "CHECKS_EMBEDDED_MODE": "off",
        })
        server.start()
        yield server, store
    finally:
        server.stop()
        store.stop()


def django(server, code: str):
    script = f"import django, json\ndjango.setup()\n{code}\nprint('RESULT ' + json.dumps(result, default=str))\n"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=server.env, capture_output=True, text=True,
                         timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"django code failed:\n{code}\n{out.stderr}")
    return json.loads([line for line in out.stdout.splitlines() if line.startswith("RESULT ")][-1][len("RESULT "):])


class RetryingUploader(Uploader):
    """The operator's page as static/js/recorder.js behaves: a 5xx or a dead
    connection is retried with backoff, for as long as it takes."""

    def put_chunk(self, path, data):
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        headers = {"Content-Type": "application/octet-stream", "X-Chunk-SHA256": digest}
        backoff = 0.25
        for _ in range(200):
            try:
                status, body = self.request("PUT", path, data, headers)
            except OSError:
                status, body = 0, None
            if status in (200, 201):
                assert body["sha256"] == digest
                return
            assert status == 0 or status >= 500, body
            self.refused += 1
            time.sleep(backoff)
            backoff = min(backoff * 2, 2.0)
        raise AssertionError(f"chunk {path} not stored")


def test_a_recording_uploaded_while_the_object_store_stops_and_comes_back_is_kept_bit_for_bit(s3_product, original):
    server, store = s3_product
    rng = random.Random(SEED)
    business = "faults-object-store"
    server.seed(business=business, multi_user=2)
    csrf = uuid.uuid4().hex
    call = django(server, (
        "from django.test import Client\n"
        "from accounts.models import Operator\n"
        "from sessions_app import services\n"
        "from sessions_app.models import VerificationSession\n"
        f"s = VerificationSession.objects.get(business__slug={business!r}, kind='one_on_one')\n"
        "p = s.participants.get()\n"
        "services.participant_accept_terms(participant=p, ip_address='127.0.0.1', user_agent='faults')\n"
        "services.participant_join(participant=p)\n"
        f"op = Operator.objects.get(business__slug={business!r})\n"
        "services.session_assign_operator(session_id=s.pk, operator=op)\n"
        "c = Client()\n"
        "c.force_login(op.user)\n"
        "from django.conf import settings\n"
        "result = {'session': s.public_id.hex, 'cookie': c.cookies[settings.SESSION_COOKIE_NAME].value,\n"
        "          'cookie_name': settings.SESSION_COOKIE_NAME, 'csrf_name': settings.CSRF_COOKIE_NAME}"
    ))
    uploader = RetryingUploader(server.ports, {call["cookie_name"]: call["cookie"], call["csrf_name"]: csrf}, csrf, rng)
    uploader.refused = 0
    base = f"/console/calls/{call['session']}/recordings"
    recording_id = uuid.uuid4().hex
    form = f"id={recording_id}&stream=operator&mime_type=video%2Fwebm%3Bcodecs%3Dvp8%2Copus&elapsed_ms=0".encode()
    status, started = uploader.request("POST", base, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 201, started

    chunks = split(original, rng)
    outage_from, outage_to = len(chunks) // 3, len(chunks) // 3 + 4
    down_seconds = 0.0
    for index, data in enumerate(chunks):
        if index == outage_from:
            store.freeze()
            frozen_at = time.monotonic()
            # Thawed from another thread while the page keeps retrying.
            import threading

            threading.Timer(12.0, store.thaw).start()
        if index == outage_to:
            wait_until(store.answers, timeout=60, message="the store back")
            down_seconds = time.monotonic() - frozen_at
        uploader.put_chunk(f"{started['chunk_url_prefix']}{index}", data)
    status, finished = uploader.request("POST", started["finish_url"], f"chunks={len(chunks)}".encode(),
                                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, finished
    assert uploader.refused > 0, "the outage was met by the uploads"

    stored = django(server, (
        "import hashlib\n"
        "from sessions_app import services\n"
        "from sessions_app.audit import Actor\n"
        "from sessions_app.models import Recording, VerificationSession\n"
        "from sessions_app.recordings import recording_compose_session\n"
        f"s = VerificationSession.objects.get(public_id={call['session']!r})\n"
        "services.session_end(session=s, actor=Actor.system())\n"
        "recording_compose_session(session_id=s.pk, force=True)\n"
        f"r = Recording.objects.select_related('evidence').get(public_id={recording_id!r})\n"
        "e = r.evidence\n"
        "result = e and {'sha256': e.sha256, 'name': e.file.name, 'verification': r.verification,\n"
        "  'decrypted': hashlib.sha256(e.file.open('rb').read()).hexdigest()}"
    ))
    expected = __import__("hashlib").sha256(original).hexdigest()
    assert stored["sha256"] == expected and stored["decrypted"] == expected
    assert stored["verification"]["contiguous"] is True
    at_rest = store.client().get_object(Bucket=BUCKET, Key=stored["name"])["Body"].read()
    assert at_rest[:4] == b"VEVD" and original[:4096] not in at_rest
    record("8 object store down during upload", chunks=len(chunks), refused_while_down=uploader.refused,
           store_down_seconds=down_seconds)
