"""The whole evidence path, run on the filesystem and on an S3-compatible
server on loopback (moto in server mode): a capture uploaded and checked, a
recording uploaded in chunks and composed, played back with Range, exported,
and erased by retention. At rest every file is ciphertext; a file changed at
rest is refused with a clear answer, never served."""

import hashlib
import io
import json
import zipfile
from datetime import timedelta

from django.urls import reverse

from operators.compliance.retention import session_erase
from sessions_app import recordings
from sessions_app.audit import Actor
from sessions_app.models import Evidence, VerificationSession
from sessions_app.services import session_end
from tests.console import images
from tests.console.helpers import customer_capture_url, upload
from tests.recording.helpers import finish, put_chunk, split, start
from workflows.check_services import evidence_run_checks
from workflows.models import CheckResult


def _plaintext(evidence) -> bytes:
    with evidence.file.open("rb") as source:
        return source.read()


def _record_and_compose(alice, session, data: bytes, django_capture_on_commit_callbacks):
    recording = start(alice, session, "operator").json()["recording"]
    for index, part in enumerate(split(data, 3)):
        assert put_chunk(alice, session, recording, index, part).status_code == 201
    finish(alice, session, recording, 3)
    session_end(session=session, actor=Actor.system(), reason="test")
    # The composition covers the call from its answer to its end; a test's call
    # ends within a second, so it is given the recording's 4 s before composing.
    VerificationSession.objects.filter(pk=session.pk).update(ended_at=session.answered_at + timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=True):  # the assembled chunks are deleted on commit
        assert recordings.recording_compose_session(session_id=session.pk, force=True) == recordings.COMPOSED
    composed = recordings.composed_recording(session)
    assert composed is not None
    return recording, composed


def _export(carol, session) -> zipfile.ZipFile:
    response = carol.get(reverse("admin:sessions_app_verificationsession_export", args=[session.pk]))
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_a_capture_is_ciphertext_at_rest_and_the_checks_read_it_from_the_store(
    customer, document_capture, evidence_store, settings
):
    settings.CHECKS_EMBEDDED_MODE = "off"
    jpeg = images.jpeg()
    response = upload(customer, customer_capture_url(document_capture.public_id.hex), jpeg)
    assert response.status_code == 201
    evidence = Evidence.objects.get(capture=document_capture)

    at_rest = evidence_store.raw(evidence.file.name)
    assert at_rest[:4] == b"VEVD"
    stored = _plaintext(evidence)
    assert hashlib.sha256(stored).hexdigest() == evidence.sha256
    assert stored[:3] == b"\xff\xd8\xff" and stored[:64] not in at_rest  # a JPEG, nowhere readable at rest

    results = evidence_run_checks(evidence_id=evidence.pk)
    quality = next(result for result in results if result.kind == CheckResult.Kind.QUALITY)
    assert all(reason["code"] != "evidence.unreadable" for reason in quality.reasons)


def test_a_capture_changed_at_rest_is_refused_by_the_console_and_the_checks(
    customer, alice, document_capture, evidence_store, settings
):
    settings.CHECKS_EMBEDDED_MODE = "off"
    upload(customer, customer_capture_url(document_capture.public_id.hex), images.jpeg())
    evidence = Evidence.objects.get(capture=document_capture)
    evidence_store.tamper(evidence.file.name, 300)

    response = alice.get(reverse("operators:evidence", args=[evidence.public_id.hex]))
    assert response.status_code == 409
    assert "failed its integrity check" in response.content.decode()
    assert "Traceback" not in response.content.decode()

    [quality] = [r for r in evidence_run_checks(evidence_id=evidence.pk) if r.kind == CheckResult.Kind.QUALITY]
    assert quality.status == "error"
    assert [reason["code"] for reason in quality.reasons] == ["evidence.integrity"]


def test_a_recording_is_composed_played_with_ranges_exported_and_erased_on_the_store(
    alice, carol, answered_call, webm_media, evidence_store, django_capture_on_commit_callbacks, settings
):
    settings.EVIDENCE_ENCRYPTION_CHUNK_BYTES = 4096  # many chunk boundaries in a short recording
    session = answered_call.session
    original = webm_media.operator.read_bytes()
    _, composed = _record_and_compose(alice, session, original, django_capture_on_commit_callbacks)
    segment = Evidence.objects.get(session=session, source=Evidence.Source.OPERATOR_VIEW)

    # At rest: ciphertext only, the chunk files gone once assembled.
    assert sorted(evidence_store.names()) == sorted([segment.file.name, composed.file.name])
    assert _plaintext(segment) == original
    for evidence in (segment, composed):
        at_rest = evidence_store.raw(evidence.file.name)
        assert at_rest[:4] == b"VEVD"
        assert _plaintext(evidence)[:4096] not in at_rest
    played = _plaintext(composed)
    assert hashlib.sha256(played).hexdigest() == composed.sha256 and b"ftyp" in played[:16]

    # Review playback: ranges across the encryption's chunk boundaries.
    size = composed.size
    assert size > 3 * 4096
    for first, last in ((0, 99), (4090, 4100), (4096, 3 * 4096 - 1), (1, size - 2), (size - 10, size - 1)):
        response = carol.get(f"/recordings/{composed.public_id.hex}", headers={"Range": f"bytes={first}-{last}"})
        assert response.status_code == 206
        assert b"".join(response.streaming_content) == played[first : last + 1]

    # Export: the plaintext, verified against the audit trail's SHA-256.
    archive = _export(carol, session)
    record = json.loads(archive.read("record.json"))
    [entry] = [e for e in record["session_evidence"] if e["id"] == str(composed.public_id)]
    assert entry["sha256_verified"] is True
    assert archive.read(entry["file"]) == played

    # Retention erases from the store.
    with django_capture_on_commit_callbacks(execute=True):
        session_erase(session=session)
    assert evidence_store.names() == []


def test_a_recording_changed_at_rest_is_refused_on_playback_and_flagged_in_the_export(
    alice, carol, answered_call, webm_media, evidence_store, django_capture_on_commit_callbacks
):
    session = answered_call.session
    _, composed = _record_and_compose(
        alice, session, webm_media.operator.read_bytes(), django_capture_on_commit_callbacks
    )
    evidence_store.tamper(composed.file.name, 200)  # in the first chunk

    response = carol.get(f"/recordings/{composed.public_id.hex}", headers={"Range": "bytes=0-1023"})
    assert response.status_code == 409
    assert "failed its integrity check" in response.content.decode()

    record = json.loads(_export(carol, session).read("record.json"))
    [entry] = [e for e in record["session_evidence"] if e["id"] == str(composed.public_id)]
    assert entry["sha256_verified"] is False
    assert entry["file"] is None and "integrity" in entry["file_problem"]


def test_a_file_swapped_for_another_files_ciphertext_is_refused(
    customer, alice, document_capture, evidence_store, settings
):
    """Each file has its own data key and file id: valid ciphertext of another
    capture put in its place does not pass for it."""
    settings.CHECKS_EMBEDDED_MODE = "off"
    upload(customer, customer_capture_url(document_capture.public_id.hex), images.jpeg())
    evidence = Evidence.objects.get(capture=document_capture)
    other = evidence.file.storage.save("other.jpg", io.BytesIO(images.jpeg(colour=(1, 2, 3))))
    header = evidence_store.raw(evidence.file.name)[:128]
    evidence_store.write_raw(evidence.file.name, header + evidence_store.raw(other)[128:])

    response = alice.get(reverse("operators:evidence", args=[evidence.public_id.hex]))
    assert response.status_code == 409
