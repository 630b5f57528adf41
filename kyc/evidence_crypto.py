"""Envelope encryption of evidence files, independent of where they are kept.

Every file gets a fresh 256-bit data key. The content is cut into chunks of a
fixed plaintext size, each sealed with AES-GCM under the data key, so a range
of the plaintext (a <video> seeking) is read by decrypting only the chunks
that cover it. The data key is wrapped (AES-GCM again) by a key-encryption
key (KEK) from the keyring in the settings (EVIDENCE_KEYS), and the header
names that KEK by id: rotating means adding a key, pointing EVIDENCE_KEY_ID at
it, and re-wrapping the headers (``manage.py evidence_rewrap``); the content
is never re-encrypted.

Layout (all integers big-endian)::

    header (HEADER_SIZE bytes)
      magic "VEVD" | version (1) | chunk size (4) | file id (16)
      | key id length (1) | key id (KEY_ID_MAX, zero-padded)
      | wrap nonce (12) | wrapped data key (32 + 16 tag) | zero padding
    chunk 0 .. n-1: AES-GCM(chunk plaintext) + 16-byte tag

A chunk's nonce is its index and a flag for the last chunk (safe: a data key
seals one file only); its associated data is the header's first fields
(magic, version, chunk size, file id), which a re-wrap leaves alone. So a
chunk cannot be moved, swapped with one of another file, dropped from the end
(the new last chunk lacks the flag) or changed without decryption failing.
The plaintext's size follows from the ciphertext's: every chunk but the last
is full, and the last is never empty unless the file is.
"""

import hashlib
import io
import os
import secrets
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

MAGIC = b"VEVD"
VERSION = 1
KEY_ID_MAX = 40
TAG = 16
HEADER_SIZE = 128
_FIXED = struct.Struct(">4sBI16s")  # magic, version, chunk size, file id: the chunks' associated data
_WRAP_AAD = b"verity-evidence-data-key:"
DEFAULT_CHUNK_BYTES = 64 * 1024


class EvidenceIntegrityError(Exception):
    """An evidence file is not what Verity wrote: not encrypted by Verity, a
    key id the keyring lacks, or a byte changed (the GCM tag fails). The
    message says which, never any of the file's content."""


@dataclass(frozen=True)
class Header:
    chunk_size: int
    file_id: bytes
    key_id: str
    wrap_nonce: bytes
    wrapped_key: bytes

    @property
    def chunk_aad(self) -> bytes:
        return _FIXED.pack(MAGIC, VERSION, self.chunk_size, self.file_id)

    def pack(self) -> bytes:
        kid = self.key_id.encode()
        packed = (
            self.chunk_aad
            + bytes([len(kid)])
            + kid.ljust(KEY_ID_MAX, b"\0")
            + self.wrap_nonce
            + self.wrapped_key
        )
        return packed.ljust(HEADER_SIZE, b"\0")

    @classmethod
    def unpack(cls, raw: bytes) -> "Header":
        if len(raw) < HEADER_SIZE or raw[:4] != MAGIC:
            raise EvidenceIntegrityError("not an encrypted evidence file (run manage.py evidence_migrate)")
        magic, version, chunk_size, file_id = _FIXED.unpack_from(raw)
        if version != VERSION or chunk_size <= 0:
            raise EvidenceIntegrityError(f"unknown evidence file format (version {version})")
        at = _FIXED.size
        kid_length = raw[at]
        if kid_length > KEY_ID_MAX:
            raise EvidenceIntegrityError("damaged evidence file header")
        key_id = raw[at + 1 : at + 1 + kid_length].decode("ascii", "replace")
        at += 1 + KEY_ID_MAX
        return cls(chunk_size, file_id, key_id, raw[at : at + 12], raw[at + 12 : at + 12 + 32 + TAG])


def keyring() -> dict[str, bytes]:
    return settings.EVIDENCE_KEYS


def current_key_id() -> str:
    return settings.EVIDENCE_KEY_ID


def _wrap(data_key: bytes, *, key_id: str, file_id: bytes) -> tuple[bytes, bytes]:
    nonce = secrets.token_bytes(12)
    return nonce, AESGCM(keyring()[key_id]).encrypt(nonce, data_key, _WRAP_AAD + file_id + key_id.encode())


def _unwrap(header: Header) -> bytes:
    kek = keyring().get(header.key_id)
    if kek is None:
        raise EvidenceIntegrityError(f"the key {header.key_id!r} that wraps this file is not in EVIDENCE_KEYS")
    try:
        return AESGCM(kek).decrypt(
            header.wrap_nonce, header.wrapped_key, _WRAP_AAD + header.file_id + header.key_id.encode()
        )
    except InvalidTag:
        raise EvidenceIntegrityError("the file's data key does not unwrap: its header was changed") from None


def _nonce(index: int, last: bool) -> bytes:
    return struct.pack(">Q3xB", index, 1 if last else 0)


def plaintext_size(ciphertext_size: int, chunk_size: int) -> int:
    body = ciphertext_size - HEADER_SIZE
    if body < TAG:
        raise EvidenceIntegrityError("the evidence file is truncated")
    chunks = -(-body // (chunk_size + TAG))
    return body - chunks * TAG


def encrypt_stream(source, sink, *, chunk_size: int | None = None) -> tuple[int, str]:
    """Read plaintext from ``source`` and write the encrypted file to
    ``sink``, one chunk in memory at a time. Returns the plaintext's size and
    SHA-256 (hex)."""
    chunk_size = chunk_size or settings.EVIDENCE_ENCRYPTION_CHUNK_BYTES
    key_id = current_key_id()
    data_key = AESGCM.generate_key(bit_length=256)
    file_id = secrets.token_bytes(16)
    nonce, wrapped = _wrap(data_key, key_id=key_id, file_id=file_id)
    header = Header(chunk_size, file_id, key_id, nonce, wrapped)
    sink.write(header.pack())
    aead = AESGCM(data_key)
    digest = hashlib.sha256()
    size = 0
    index = 0
    pending = _read_full(source, chunk_size)
    while True:
        following = _read_full(source, chunk_size) if len(pending) == chunk_size else b""
        last = not following
        sink.write(aead.encrypt(_nonce(index, last), pending, header.chunk_aad))
        digest.update(pending)
        size += len(pending)
        if last:
            return size, digest.hexdigest()
        pending = following
        index += 1


def _read_full(source, length: int) -> bytes:
    """Exactly ``length`` bytes unless the source ends (a socket or pipe may
    answer a read with fewer)."""
    parts = []
    wanted = length
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def rewrapped_header(raw_header: bytes, *, key_id: str | None = None) -> bytes | None:
    """The header with the data key wrapped by ``key_id`` (the current key by
    default); None when it already is."""
    header = Header.unpack(raw_header)
    key_id = key_id or current_key_id()
    if header.key_id == key_id:
        return None
    data_key = _unwrap(header)
    nonce, wrapped = _wrap(data_key, key_id=key_id, file_id=header.file_id)
    return Header(header.chunk_size, header.file_id, key_id, nonce, wrapped).pack()


# A function (start, end inclusive) -> a readable of those ciphertext bytes.
SpanOpener = Callable[[int, int], io.RawIOBase]


class EncryptedFile:
    """Random access to the plaintext of one encrypted file, given a way to
    read spans of its ciphertext (a local file, an S3 ranged GET)."""

    def __init__(self, *, header_bytes: bytes, ciphertext_size: int, open_span: SpanOpener):
        self.header = Header.unpack(header_bytes)
        self.size = plaintext_size(ciphertext_size, self.header.chunk_size)
        self._aead = AESGCM(_unwrap(self.header))
        self._ciphertext_size = ciphertext_size
        self._open_span = open_span

    @property
    def chunk_count(self) -> int:
        return max(1, -(-self.size // self.header.chunk_size))

    def _decrypt(self, index: int, sealed: bytes) -> bytes:
        last = index == self.chunk_count - 1
        try:
            return self._aead.decrypt(_nonce(index, last), sealed, self.header.chunk_aad)
        except InvalidTag:
            raise EvidenceIntegrityError(f"chunk {index} of the evidence file fails authentication") from None

    def iter_range(self, start: int, length: int) -> Iterator[bytes]:
        """The plaintext bytes [start, start + length), decrypting only the
        chunks that cover them, read in one span of ciphertext."""
        if length <= 0 or start >= self.size:
            return
        length = min(length, self.size - start)
        chunk_size = self.header.chunk_size
        sealed_size = chunk_size + TAG
        first, last = start // chunk_size, (start + length - 1) // chunk_size
        span_start = HEADER_SIZE + first * sealed_size
        span_end = min(HEADER_SIZE + (last + 1) * sealed_size, self._ciphertext_size) - 1
        source = self._open_span(span_start, span_end)
        try:
            for index in range(first, last + 1):
                sealed = _read_full(source, sealed_size)
                if len(sealed) < TAG:
                    raise EvidenceIntegrityError("the evidence file is truncated")
                plain = self._decrypt(index, sealed)
                offset = start - index * chunk_size if index == first else 0
                piece = plain[offset : offset + length]
                length -= len(piece)
                start += len(piece)
                yield piece
        finally:
            source.close()


class DecryptingReader(io.RawIOBase):
    """A seekable, read-only file of the plaintext (what ``Storage.open``
    hands out), holding one chunk in memory. Sequential reads stream one span
    of ciphertext; a seek elsewhere starts a new span."""

    def __init__(self, encrypted: EncryptedFile):
        super().__init__()
        self._file = encrypted
        self._position = 0
        self._stream: Iterator[bytes] | None = None
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    @property
    def size(self) -> int:
        return self._file.size

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._file.size}[whence]
        position = max(0, base + offset)
        if position != self._position:
            self._drop_stream()
            self._position = position
        return position

    def _drop_stream(self):
        if self._stream is not None:
            self._stream.close()
        self._stream = None
        self._buffer = b""

    def readinto(self, target) -> int:
        # Fills the whole target unless the file ends: callers of read(n)
        # (zipfile, the checks, hashlib loops) expect n bytes, not a chunk's rest.
        wanted = len(target)
        done = 0
        while done < wanted and self._position < self._file.size:
            if not self._buffer:
                if self._stream is None:
                    self._stream = self._file.iter_range(self._position, self._file.size - self._position)
                self._buffer = next(self._stream, b"")
                if not self._buffer:
                    break
            piece = self._buffer[: wanted - done]
            self._buffer = self._buffer[len(piece) :]
            target[done : done + len(piece)] = piece
            done += len(piece)
            self._position += len(piece)
        return done

    def readall(self) -> bytes:
        return b"".join(iter(lambda: self.read(1024 * 1024), b""))

    def close(self):
        self._drop_stream()
        super().close()
