"""Scenario 7: the recording's upload is cut at random points.

A real WebM (ffmpeg, VP8 + Opus, like Chromium's MediaRecorder) is uploaded
in chunks of random sizes, as the operator's page does, over raw HTTP to
both daphne processes in turn. Attempts are cut at a random byte: in the
request line or headers, in the body, or after the whole request was sent
but before the answer was read (the server stored it; the client does not
know). Every cut attempt is simply retried. After the call the segment is
assembled by the real worker, and the stored file's SHA-256 (recomputed from
its bytes on disk) is the original's.
"""

import hashlib
import json
import random
import shutil
import socket
import subprocess
import time
import uuid

import pytest

from faults.report import record
from faults.services import wait_until

SEED = 20261125
CHUNKS = 24


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> bytes:
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed (make browser installs it)")
    path = tmp_path_factory.mktemp("webm") / "call.webm"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-f", "lavfi",
         "-i", "sine=frequency=440:sample_rate=48000", "-t", "6", "-c:v", "libvpx", "-b:v", "400k",
         "-c:a", "libopus", "-f", "webm", str(path)],
        check=True, timeout=120,
    )
    return path.read_bytes()


def split(data: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(data)), CHUNKS - 1))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]


class Uploader:
    """An operator's HTTP client on raw sockets, so a request can stop anywhere."""

    def __init__(self, ports, cookies: dict, csrf: str, rng: random.Random):
        self.ports = ports
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.csrf = csrf
        self.rng = rng
        self.attempts = 0
        self.cuts = {"headers": 0, "body": 0, "after_request": 0}
        self.duplicates = 0

    def request(self, method: str, path: str, body: bytes, headers: dict, *, cut_at: int | None = None):
        port = self.ports[self.attempts % len(self.ports)]
        self.attempts += 1
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Cookie: {self.cookie}",
                f"X-CSRFToken: {self.csrf}", f"Content-Length: {len(body)}", "Connection: close"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            if cut_at is not None and cut_at < len(raw):
                sock.sendall(raw[:cut_at])
                # RST, not FIN: the connection dies as a dropped network does.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return None
            sock.sendall(raw)
            if cut_at is not None:
                time.sleep(0.3)  # the server has it all; we leave before its answer
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return None
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status_line, _, rest = answer.partition(b"\r\n")
        status = int(status_line.split()[1])
        payload = rest.partition(b"\r\n\r\n")[2]
        return status, (json.loads(payload) if payload.startswith(b"{") else payload)

    def put_chunk(self, path: str, data: bytes):
        digest = hashlib.sha256(data).hexdigest()
        headers = {"Content-Type": "application/octet-stream", "X-Chunk-SHA256": digest}
        for _ in range(20):
            head_len = 300  # about the size of our request head
            if self.rng.random() < 0.6:
                where = self.rng.choice(["headers", "body", "after_request"])
                self.cuts[where] += 1
                if where == "headers":
                    cut = self.rng.randrange(1, head_len)
                elif where == "body":
                    cut = head_len + self.rng.randrange(1, len(data)) if len(data) > 1 else head_len
                else:
                    cut = 10**9
                self.request("PUT", path, data, headers, cut_at=cut)
                continue
            status, body = self.request("PUT", path, data, headers)
            assert status in (200, 201), body
            assert body["sha256"] == digest
            self.duplicates += status == 200
            return
        raise AssertionError(f"chunk {path} not stored after 20 attempts")


def test_a_recording_uploaded_through_cuts_at_random_points_is_assembled_bit_for_bit(stack, original):
    rng = random.Random(SEED)
    business = "faults-recording-cuts"
    stack.seed(business)
    csrf = uuid.uuid4().hex  # 32 characters: a valid CSRF secret as cookie and header
    call = stack.django(
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
    )
    uploader = Uploader(stack.server.ports, {call["cookie_name"]: call["cookie"], call["csrf_name"]: csrf}, csrf, rng)
    base = f"/console/calls/{call['session']}/recordings"
    recording_id = uuid.uuid4().hex
    form = f"id={recording_id}&stream=operator&mime_type=video%2Fwebm%3Bcodecs%3Dvp8%2Copus&elapsed_ms=0".encode()
    status, started = uploader.request("POST", base, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 201, started

    started_at = time.monotonic()
    chunks = split(original, rng)
    for index, data in enumerate(chunks):
        uploader.put_chunk(f"{started['chunk_url_prefix']}{index}", data)
    upload_seconds = time.monotonic() - started_at
    status, finished = uploader.request("POST", started["finish_url"], f"chunks={len(chunks)}".encode(),
                                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, finished

    stack.django(
        "from sessions_app import services\n"
        "from sessions_app.audit import Actor\n"
        "from sessions_app.models import VerificationSession\n"
        f"s = VerificationSession.objects.get(public_id={call['session']!r})\n"
        "services.session_end(session=s, actor=Actor.system())\n"
        "result = s.pk"
    )
    ended_at = time.monotonic()
    # The worker assembles the segment after the call (a Celery task).
    stored = wait_until(
        lambda: stack.django(
            "import hashlib\n"
            "from sessions_app.models import Recording\n"
            f"r = Recording.objects.select_related('evidence').get(public_id={recording_id!r})\n"
            "e = r.evidence\n"
            "result = e and {'sha256': e.sha256, 'size': e.size, 'verification': r.verification,\n"
            "  'on_disk': hashlib.sha256(e.file.open('rb').read()).hexdigest(), 'duration': e.duration_seconds}"
        ),
        timeout=120, interval=2, message="the segment assembled by the worker",
    )
    assembled_after = time.monotonic() - ended_at
    expected = hashlib.sha256(original).hexdigest()
    assert stored["sha256"] == expected
    assert stored["on_disk"] == expected
    assert stored["size"] == len(original)
    assert stored["verification"]["contiguous"] is True
    assert stored["verification"]["chunks"] == len(chunks)
    assert stored["duration"] and stored["duration"] > 5  # ffmpeg read it as the 6 s it is
    assert sum(uploader.cuts.values()) >= len(chunks) // 2, "the upload was really cut, many times"
    assert uploader.cuts["after_request"] == 0 or uploader.duplicates > 0
    record("7 recording upload cut", chunks=len(chunks), cuts=sum(uploader.cuts.values()),
           **{f"cuts_{k}": v for k, v in uploader.cuts.items()}, duplicates_answered=uploader.duplicates,
           upload_seconds=upload_seconds, assembled_after_call_end=assembled_after)
