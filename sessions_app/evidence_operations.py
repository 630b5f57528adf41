"""Operations on the evidence store as a whole: moving existing evidence into
the configured store (and encrypting what is not), and re-wrapping data keys
after a key rotation. The management commands evidence_migrate and
evidence_rewrap are thin shells around these.

Both work file by file, each step atomic in the store (a rename on disk, one
PUT in a bucket) and checked before it counts, so an interrupted run is
simply started again: a file already in the store and verified is skipped.
"""

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from kyc.evidence_crypto import MAGIC, EvidenceIntegrityError
from kyc.storage import evidence_storage
from sessions_app.models import Evidence, RecordingChunk

HASH_BLOCK_BYTES = 1024 * 1024


def evidence_files_stored() -> Iterator[tuple[str, str]]:
    """(file name, SHA-256 of the plaintext) of every evidence file the
    database still points at: captures, segments, composed calls, and
    recording chunks not yet assembled."""
    for model in (Evidence, RecordingChunk):
        yield from model.objects.exclude(file="").order_by("pk").values_list("file", "sha256").iterator()


def _stored_sha256(name: str) -> str | None:
    """The SHA-256 of the file's plaintext as the store gives it back; None
    if it is not there or not (validly) encrypted."""
    digest = hashlib.sha256()
    try:
        with evidence_storage().open(name, "rb") as stored:
            for block in iter(lambda: stored.read(HASH_BLOCK_BYTES), b""):
                digest.update(block)
    except (FileNotFoundError, EvidenceIntegrityError):
        return None
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(HASH_BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class MigrationReport:
    moved: int = 0  # copied (encrypted if it was not) and verified
    already: int = 0  # in the store and verified before this run
    problems: list[str] = field(default_factory=list)


def evidence_migrate(*, source: Path, delete_source: bool = False, report: MigrationReport | None = None,
                     progress=lambda name, outcome: None) -> MigrationReport:
    """Move every evidence file from the folder ``source`` (an EVIDENCE_ROOT
    of before) into the configured store, encrypted. A plaintext file is
    checked against the SHA-256 the audit trail holds before it is moved, and
    every file is read back from the store and checked again; a file that
    fails is left where it is and reported. ``delete_source`` removes a
    source file once its copy is verified (never when the store is that same
    folder, where the file was encrypted in place)."""
    report = report or MigrationReport()
    source = Path(source).resolve()
    in_place = settings.EVIDENCE_STORE == "filesystem" and Path(settings.EVIDENCE_ROOT).resolve() == source
    storage = evidence_storage()
    for name, sha256 in evidence_files_stored():
        path = source / name
        if _stored_sha256(name) == sha256:
            report.already += 1
            outcome = "already"
        elif not path.is_file():
            report.problems.append(f"{name}: not in the store and not in {source}")
            progress(name, "missing")
            continue
        else:
            with open(path, "rb") as original:
                encrypted = original.read(len(MAGIC)) == MAGIC
                original.seek(0)
                if encrypted and in_place:
                    report.problems.append(f"{name}: encrypted but does not decrypt to its SHA-256 (key missing or file changed)")
                    progress(name, "problem")
                    continue
                if not encrypted and _file_sha256(path) != sha256:
                    report.problems.append(f"{name}: its bytes do not match the SHA-256 in the audit trail; left as it is")
                    progress(name, "problem")
                    continue
                if encrypted:
                    storage.replace_ciphertext(name, original)  # already sealed: copied as it is
                else:
                    storage.replace_encrypted(name, original)
            if _stored_sha256(name) != sha256:
                report.problems.append(f"{name}: the copy in the store does not verify; the source is kept")
                progress(name, "problem")
                continue
            report.moved += 1
            outcome = "moved"
        if delete_source and not in_place and path.is_file():
            os.unlink(path)
        progress(name, outcome)
    return report


@dataclass
class RewrapReport:
    rewrapped: int = 0
    already: int = 0
    problems: list[str] = field(default_factory=list)


def evidence_rewrap(*, key_id: str | None = None, progress=lambda name, outcome: None) -> RewrapReport:
    """Wrap every evidence file's data key with ``key_id`` (EVIDENCE_KEY_ID
    by default): after a rotation, so the old key can leave the keyring. The
    content's ciphertext is copied as it is, never decrypted or re-encrypted."""
    report = RewrapReport()
    storage = evidence_storage()
    for name, _sha256 in evidence_files_stored():
        try:
            changed = storage.rewrap(name, key_id=key_id)
        except (FileNotFoundError, EvidenceIntegrityError) as error:
            report.problems.append(f"{name}: {error}")
            progress(name, "problem")
            continue
        if changed:
            report.rewrapped += 1
        else:
            report.already += 1
        progress(name, "rewrapped" if changed else "already")
    return report
