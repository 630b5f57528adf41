"""Envelope encryption of evidence (kyc/evidence_crypto.py): a fresh data key
per file, AES-GCM in chunks, any range readable by decrypting only the
chunks under it, and every change to the ciphertext refused."""

import base64
import io
import os

import pytest

from kyc.evidence_crypto import HEADER_SIZE, TAG, EncryptedFile, EvidenceIntegrityError, encrypt_stream, rewrapped_header

CHUNK = 4096


@pytest.fixture(autouse=True)
def keyring(settings):
    settings.EVIDENCE_KEYS = {"k1": os.urandom(32), "k2": os.urandom(32)}
    settings.EVIDENCE_KEY_ID = "k1"
    return settings


def seal(data: bytes) -> bytes:
    out = io.BytesIO()
    size, _sha = encrypt_stream(io.BytesIO(data), out, chunk_size=CHUNK)
    assert size == len(data)
    return out.getvalue()


class Spans:
    """Ciphertext in memory, counting what is read of it."""

    def __init__(self, sealed: bytes):
        self.sealed = sealed
        self.read = 0

    def open(self, start, end):
        self.read += end - start + 1
        return io.BytesIO(self.sealed[start : end + 1])


def opened(sealed: bytes, spans: Spans | None = None) -> EncryptedFile:
    spans = spans or Spans(sealed)
    return EncryptedFile(header_bytes=sealed[:HEADER_SIZE], ciphertext_size=len(sealed), open_span=spans.open)


def plaintext(sealed: bytes) -> bytes:
    encrypted = opened(sealed)
    return b"".join(encrypted.iter_range(0, encrypted.size))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17])
def test_every_size_round_trips_and_is_never_plaintext_at_rest(size):
    data = os.urandom(size // 2) + b"A" * (size - size // 2)
    sealed = seal(data)
    assert plaintext(sealed) == data
    assert opened(sealed).size == size
    if size >= 64:
        assert b"A" * 64 not in sealed


def test_two_files_of_the_same_content_share_no_ciphertext():
    data = b"the same face" * 1000
    assert seal(data)[HEADER_SIZE:] != seal(data)[HEADER_SIZE:]


def test_a_range_decrypts_only_the_chunks_under_it():
    data = os.urandom(10 * CHUNK + 5)
    sealed = seal(data)
    spans = Spans(sealed)
    encrypted = opened(sealed, spans)
    assert b"".join(encrypted.iter_range(CHUNK * 4 + 10, 100)) == data[CHUNK * 4 + 10 : CHUNK * 4 + 110]
    assert spans.read == CHUNK + TAG  # one chunk, not the file
    for start, length in [(0, 1), (CHUNK - 1, 2), (CHUNK, CHUNK), (5, 9 * CHUNK), (len(data) - 3, 10)]:
        assert b"".join(encrypted.iter_range(start, length)) == data[start : start + length]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[:HEADER_SIZE + 10] + bytes([b[HEADER_SIZE + 10] ^ 1]) + b[HEADER_SIZE + 11 :], id="a bit of content"),
        pytest.param(lambda b: b[:-1] + bytes([b[-1] ^ 1]), id="the last tag"),
        pytest.param(lambda b: b[: HEADER_SIZE + 2 * (CHUNK + TAG)], id="truncated at a chunk boundary"),
        pytest.param(lambda b: b[:-5], id="truncated inside a chunk"),
        pytest.param(
            lambda b: b[:HEADER_SIZE] + b[HEADER_SIZE + CHUNK + TAG : HEADER_SIZE + 2 * (CHUNK + TAG)]
            + b[HEADER_SIZE : HEADER_SIZE + CHUNK + TAG] + b[HEADER_SIZE + 2 * (CHUNK + TAG) :],
            id="two chunks swapped",
        ),
        pytest.param(lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:], id="the wrapped data key"),
        pytest.param(lambda b: b[:9] + bytes([b[9] ^ 1]) + b[10:], id="the file id"),
        pytest.param(lambda b: b"plain JPEG bytes" + b[16:], id="not encrypted at all"),
    ],
)
def test_a_changed_ciphertext_is_refused(damage):
    sealed = seal(os.urandom(3 * CHUNK + 100))
    with pytest.raises(EvidenceIntegrityError):
        plaintext(damage(sealed))


def test_a_file_wrapped_by_a_key_the_keyring_lacks_is_refused_by_name(settings):
    sealed = seal(b"evidence")
    settings.EVIDENCE_KEYS = {"k2": settings.EVIDENCE_KEYS["k2"]}
    with pytest.raises(EvidenceIntegrityError, match="'k1'"):
        plaintext(sealed)


def test_rewrapping_changes_the_header_only_and_the_old_key_can_go(settings):
    data = os.urandom(2 * CHUNK + 3)
    sealed = seal(data)
    header = rewrapped_header(sealed[:HEADER_SIZE], key_id="k2")
    assert header is not None and len(header) == HEADER_SIZE
    moved = header + sealed[HEADER_SIZE:]
    settings.EVIDENCE_KEYS = {"k2": settings.EVIDENCE_KEYS["k2"]}
    settings.EVIDENCE_KEY_ID = "k2"
    assert plaintext(moved) == data
    assert rewrapped_header(header) is None  # already under the current key


def test_the_embedded_default_generates_one_key_and_keeps_it(tmp_path, monkeypatch):
    """Without EVIDENCE_KEYS, a key is made once in var/ (owner-only) and the
    same one is read on every start, like SECRET_KEY."""
    import subprocess
    import sys

    code = "from django.conf import settings; import django; django.setup(); print(settings.EVIDENCE_KEY_ID, list(settings.EVIDENCE_KEYS))"
    env = {**os.environ, "VERITY_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "kyc.settings"}
    env.pop("EVIDENCE_KEYS", None)
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert first == second and first.startswith("local-")
    key_file = tmp_path / "evidence_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(base64.b64decode(key_file.read_text().partition(":")[2])) == 32
