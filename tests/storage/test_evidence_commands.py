"""The operations commands: evidence_migrate moves evidence kept in the
clear (before encryption, or on a single machine's disk) into the configured
store, encrypted, verified and resumable; evidence_rewrap moves every data
key to a new key-encryption key without re-encrypting any content."""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kyc.evidence_crypto import HEADER_SIZE
from kyc.storage import evidence_storage
from sessions_app import evidence_operations
from sessions_app.models import Evidence
from tests.checks.fakes import evidence_from_bytes


def legacy_evidence(participant, legacy: Path, count: int) -> list[tuple[Evidence, bytes]]:
    """Evidence as an installation before encryption kept it: plaintext
    files in a folder, rows with their SHA-256."""
    made = []
    for number in range(count):
        data = os.urandom(70_000) + bytes([number])
        evidence = evidence_from_bytes(participant, Evidence.Kind.FACE, data, content_type="image/jpeg", width=1, height=1)
        evidence_storage().delete(evidence.file.name)
        (legacy / evidence.file.name).parent.mkdir(parents=True, exist_ok=True)
        (legacy / evidence.file.name).write_bytes(data)
        made.append((evidence, data))
    return made


def _run(*args) -> str:
    out = io.StringIO()
    call_command("evidence_migrate", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_plaintext_evidence_moves_into_the_store_encrypted_and_verified(live_call, evidence_store, tmp_path):
    legacy = tmp_path / "legacy"
    made = legacy_evidence(live_call.participant, legacy, 3)

    assert "moved 3, already in the store 0, problems 0" in _run("--source", str(legacy), "--delete-source")

    for evidence, data in made:
        assert evidence_store.raw(evidence.file.name)[:4] == b"VEVD"
        with evidence.file.open("rb") as stored:
            assert stored.read() == data
        assert not (legacy / evidence.file.name).exists()


def test_an_interrupted_migration_resumes_where_it_stopped(live_call, evidence_store, tmp_path):
    legacy = tmp_path / "legacy"
    made = legacy_evidence(live_call.participant, legacy, 3)

    def crash_after_the_first(name, outcome):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evidence_operations.evidence_migrate(source=legacy, progress=crash_after_the_first)

    assert "moved 2, already in the store 1, problems 0" in _run("--source", str(legacy))
    for evidence, data in made:
        with evidence.file.open("rb") as stored:
            assert stored.read() == data


def test_the_embedded_store_is_encrypted_in_place(live_call, settings):
    root = Path(settings.EVIDENCE_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    [(evidence, data)] = legacy_evidence(live_call.participant, root, 1)

    _run()

    assert (root / evidence.file.name).read_bytes()[:4] == b"VEVD"
    with evidence.file.open("rb") as stored:
        assert stored.read() == data


def test_a_source_file_that_fails_its_checksum_is_left_where_it_is_and_reported(live_call, evidence_store, tmp_path):
    legacy = tmp_path / "legacy"
    [(evidence, _data)] = legacy_evidence(live_call.participant, legacy, 1)
    (legacy / evidence.file.name).write_bytes(b"changed since it was captured")

    with pytest.raises(CommandError, match="1 file"):
        _run("--source", str(legacy), "--delete-source")

    assert (legacy / evidence.file.name).exists()
    assert not evidence_store.exists(evidence.file.name)


def test_rewrap_moves_every_data_key_to_the_new_key_and_leaves_the_content_alone(
    live_call, evidence_store, settings
):
    data = os.urandom(100_000)
    evidence = evidence_from_bytes(live_call.participant, Evidence.Kind.FACE, data, content_type="image/jpeg", width=1, height=1)
    old_id = settings.EVIDENCE_KEY_ID
    before = evidence_store.raw(evidence.file.name)
    settings.EVIDENCE_KEYS = {**settings.EVIDENCE_KEYS, "2027-01": os.urandom(32)}
    settings.EVIDENCE_KEY_ID = "2027-01"

    out = io.StringIO()
    call_command("evidence_rewrap", stdout=out)
    assert "rewrapped 1, already 0, problems 0" in out.getvalue()

    after = evidence_store.raw(evidence.file.name)
    assert after[HEADER_SIZE:] == before[HEADER_SIZE:]  # not re-encrypted
    assert b"2027-01" in after[:HEADER_SIZE] and old_id.encode() not in after[:HEADER_SIZE]
    settings.EVIDENCE_KEYS = {"2027-01": settings.EVIDENCE_KEYS["2027-01"]}  # the old key retired
    with evidence.file.open("rb") as stored:
        assert stored.read() == data

    out = io.StringIO()
    call_command("evidence_rewrap", stdout=out)
    assert "rewrapped 0, already 1" in out.getvalue()
