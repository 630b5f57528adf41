"""The checkpoint log: signed heads of the businesses' audit chains, kept
outside the database.

A checkpoint says "business B's chain had event #N with hash H at time T",
signed with an Ed25519 key that is not in the database
(settings.AUDIT_CHECKPOINT_SIGNING_KEY). Each one is appended to a file
(settings.AUDIT_CHECKPOINT_LOG) and written as a log line of the
"verity.audit.checkpoint" logger, so a log shipper keeps a copy where the
application server cannot reach. Anybody with the public key can check a
checkpoint; nobody without the private key can make one.

This module knows the file and the signatures only; what is checkpointed and
when is in sessions_app.audit.
"""

import base64
import fcntl
import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

logger = logging.getLogger("verity.audit.checkpoint")

CHECKPOINT_FORMAT = "verity-audit-checkpoint-v1"


@dataclass(frozen=True)
class Checkpoint:
    business: str  # Business.public_id: stable, unlike the slug
    sequence: int
    head_hash: str
    at: str  # ISO 8601, UTC
    key_id: str  # which signing key (signing_key_id of its public key)
    signature: str = ""

    def signed_bytes(self) -> bytes:
        fields = {**asdict(self), "format": CHECKPOINT_FORMAT}
        del fields["signature"]
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def as_dict(self) -> dict:
        return {"format": CHECKPOINT_FORMAT, **asdict(self)}


def signing_key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def checkpoint_public_keys() -> dict[str, bytes]:
    """Every public key a checkpoint may be signed with, by key id: the
    current signing key's and those rotated out (AUDIT_CHECKPOINT_PUBLIC_KEYS)."""
    current = _raw_public(Ed25519PrivateKey.from_private_bytes(settings.AUDIT_CHECKPOINT_SIGNING_KEY).public_key())
    return {signing_key_id(key): key for key in [current, *settings.AUDIT_CHECKPOINT_PUBLIC_KEYS]}


def checkpoint_sign(*, business: str, sequence: int, head_hash: str, at: str) -> Checkpoint:
    private_key = Ed25519PrivateKey.from_private_bytes(settings.AUDIT_CHECKPOINT_SIGNING_KEY)
    unsigned = Checkpoint(
        business=business,
        sequence=sequence,
        head_hash=head_hash,
        at=at,
        key_id=signing_key_id(_raw_public(private_key.public_key())),
    )
    signature = base64.b64encode(private_key.sign(unsigned.signed_bytes())).decode()
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


def checkpoint_problem(checkpoint: Checkpoint, public_keys: dict[str, bytes]) -> str | None:
    """Why the checkpoint is not to be believed, or None when its signature holds."""
    public_key = public_keys.get(checkpoint.key_id)
    if public_key is None:
        return f"signed with an unknown key {checkpoint.key_id!r}"
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            base64.b64decode(checkpoint.signature, validate=True), checkpoint.signed_bytes()
        )
    except (InvalidSignature, ValueError):
        return "signature does not verify (forged or damaged)"
    return None


def checkpoint_from_dict(data) -> Checkpoint:
    """Raises ValueError when ``data`` is not a checkpoint of this format."""
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ValueError("not a checkpoint")
    try:
        checkpoint = Checkpoint(
            business=str(data["business"]),
            sequence=int(data["sequence"]),
            head_hash=str(data["head_hash"]),
            at=str(data["at"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a checkpoint: {exc}") from exc
    return checkpoint


def checkpoint_append(checkpoint: Checkpoint, *, path: Path | None = None) -> None:
    """Append to the log file (synced before returning) and log it."""
    line = json.dumps(checkpoint.as_dict(), sort_keys=True, separators=(",", ":"))
    path = Path(path or settings.AUDIT_CHECKPOINT_LOG)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as log_file:
        # The beat task and a manual `audit_checkpoint` may append at once.
        fcntl.flock(log_file, fcntl.LOCK_EX)
        log_file.write(line + "\n")
        log_file.flush()
        os.fsync(log_file.fileno())
    logger.info("%s", line)


@dataclass(frozen=True)
class RejectedCheckpoint:
    line: int
    business: str | None
    reason: str


def checkpoints_read(*, path: Path | None = None) -> tuple[dict[str, list[Checkpoint]], list[RejectedCheckpoint]]:
    """The log's checkpoints whose signature holds, by business, in the order
    written; and every line that was refused, with why."""
    path = Path(path or settings.AUDIT_CHECKPOINT_LOG)
    public_keys = checkpoint_public_keys()
    accepted: dict[str, list[Checkpoint]] = {}
    rejected: list[RejectedCheckpoint] = []
    try:
        log_file = open(path, encoding="utf-8")
    except FileNotFoundError:
        return accepted, rejected
    with log_file:
        for number, line in enumerate(log_file, start=1):
            if not line.strip():
                continue
            try:
                checkpoint = checkpoint_from_dict(json.loads(line))
            except ValueError as exc:  # json's errors are ValueErrors too
                rejected.append(RejectedCheckpoint(number, None, str(exc)))
                continue
            problem = checkpoint_problem(checkpoint, public_keys)
            if problem:
                rejected.append(RejectedCheckpoint(number, checkpoint.business, problem))
            else:
                accepted.setdefault(checkpoint.business, []).append(checkpoint)
    return accepted, rejected
