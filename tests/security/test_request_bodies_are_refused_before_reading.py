"""Unauthenticated memory exhaustion, against a real daphne started as
production starts it (python -m kyc.serve).

Reproduces the finding: one anonymous 60 MB multipart POST to
/call/captures/abc grew the server by ~700 MB and was answered 403 only
after the whole body was in. Now the answer comes while the client is still
sending, and the server's memory barely moves."""

import os
import select
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.e2e.harness import ROOT, free_port

BODY = 60 * 1024 * 1024
PIECE = 64 * 1024


@pytest.fixture(scope="module")
def daphne():
    var = Path(tempfile.mkdtemp(prefix="verity-bodies-"))
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "kyc.settings",
            "VERITY_VAR_DIR": str(var),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "DEBUG": "false",
        }
    )
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    log = open(var / "daphne.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kyc.serve", "-b", "127.0.0.1", "-p", str(port), "kyc.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, (var / "daphne.log").read_text()
                time.sleep(0.2)
        yield port, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def post(
    port: int,
    path: str,
    *,
    length: int,
    headers: dict[str, str] | None = None,
    chunked: bool = False,
    content_type: str = "multipart/form-data; boundary=x",
    method: str = "POST",
):
    """Send a request (a POST unless told) with a body of ``length`` zero bytes piece by piece, watching for an
    answer after every piece, as a client whose upload is refused would.
    Returns (status line, response text, body bytes sent)."""
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Type: {content_type}"]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sent = 0
    answer = b""
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        body = _body(length, multipart=content_type.startswith("multipart/"))
        while sent < length:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            data = body(sent, min(PIECE, length - sent))
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            except OSError:  # the server closed: its answer is waiting to be read
                break
            sent += len(data)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        sock.settimeout(30)
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
            if b"\r\n\r\n" in answer and len(answer.split(b"\r\n\r\n", 1)[1]) >= _content_length(answer):
                break
    finally:
        sock.close()
    status = answer.split(b"\r\n", 1)[0].decode()
    return status, answer.decode("latin-1"), sent


def _body(length: int, *, multipart: bool):
    """The bytes of a body of ``length`` from an offset, made as they are sent
    (the test holds no 60 MB either): a JPEG-named file field of zeros in a
    well-formed multipart body, as the customer's page sends a capture."""
    head = b'--x\r\nContent-Disposition: form-data; name="image"; filename="capture.jpg"\r\n' if multipart else b""
    head += b"Content-Type: image/jpeg\r\n\r\n" if multipart else b""
    tail = b"\r\n--x--\r\n" if multipart else b""
    zeros_end = length - len(tail)

    def piece(offset: int, size: int) -> bytes:
        end = offset + size
        zeros = max(0, min(end, zeros_end) - max(offset, len(head)))
        return head[offset:end] + bytes(zeros) + tail[max(0, offset - zeros_end) : max(0, end - zeros_end)]

    return piece


def _content_length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_anonymous_60_mb_capture_upload_is_refused_before_it_is_sent_and_costs_no_memory(daphne):
    port, server = daphne
    before = server.memory_info().rss

    status, answer, sent = post(port, "/call/captures/abc", length=BODY)

    assert status.startswith("HTTP/1.1 403"), answer
    assert '"not_signed_in"' in answer
    assert sent < 8 * 1024 * 1024, f"the client sent {sent} bytes before the answer"
    grown = server.memory_info().rss - before
    assert grown < 10 * 1024 * 1024, f"the server grew by {grown // 1024} KB"


def test_60_mb_with_a_session_cookie_is_refused_as_too_large_before_it_is_sent(daphne):
    port, server = daphne
    before = server.memory_info().rss

    status, answer, sent = post(port, "/call/captures/abc", length=BODY, headers={"Cookie": "verity_session=forged"})

    assert status.startswith("HTTP/1.1 413"), answer
    assert '"too_large"' in answer
    assert sent < 8 * 1024 * 1024
    assert server.memory_info().rss - before < 10 * 1024 * 1024


def test_chunked_body_is_cut_at_the_routes_cap(daphne):
    """A chunked body declares no length: it is counted and stopped at the
    capture route's cap (about 10 MB), not read to its 60 MB end."""
    port, server = daphne
    before = server.memory_info().rss

    status, answer, sent = post(
        port, "/call/captures/abc", length=BODY, chunked=True, headers={"Cookie": "verity_session=forged"}
    )

    assert status.startswith("HTTP/1.1 413"), answer
    assert sent < 16 * 1024 * 1024
    assert server.memory_info().rss - before < 20 * 1024 * 1024


def test_api_without_a_key_is_refused_with_401_before_the_body(daphne):
    port, _server = daphne

    status, answer, sent = post(port, "/api/v1/sessions", length=BODY)

    assert status.startswith("HTTP/1.1 401"), answer
    assert "WWW-Authenticate: Bearer" in answer
    assert '"urn:verity:problem:not_authenticated"' in answer
    assert sent < 8 * 1024 * 1024


def test_percent_encoded_path_gets_the_cap_of_the_route_it_reaches(daphne):
    port, _server = daphne

    status, answer, sent = post(port, "/%63all/captures/abc", length=BODY)

    assert status.startswith("HTTP/1.1 403"), answer
    assert '"not_signed_in"' in answer
    assert sent < 8 * 1024 * 1024


def test_a_body_within_the_cap_still_reaches_the_application_and_one_over_it_does_not(daphne):
    """(OPTIONS: the health check answers any method, and CSRF lets it through.)"""
    port, _server = daphne

    status, answer, sent = post(
        port, "/healthz", method="OPTIONS", length=32 * 1024, content_type="application/octet-stream"
    )
    assert status.startswith("HTTP/1.1 200"), answer
    assert answer.endswith("ok")
    assert sent == 32 * 1024

    status, answer, _sent = post(
        port, "/healthz", method="OPTIONS", length=65 * 1024, content_type="application/octet-stream"
    )
    assert status.startswith("HTTP/1.1 413"), answer
