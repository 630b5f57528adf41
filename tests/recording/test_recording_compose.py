"""After the call: every segment is assembled and verified, and one playable
file of the whole call is composed (streams side by side, audio mixed, the
call's clock kept), with duration, size and SHA-256 of every file in the
audit trail and on the Evidence rows. Running it again changes nothing."""

import hashlib
import json
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import recordings
from sessions_app.audit import Actor
from sessions_app.models import (
    AuditEvent,
    Evidence,
    Recording,
    RecordingChunk,
    VerificationSession,
)
from sessions_app.services import session_end
from tests.evidence_stores import at_rest_path, plaintext_copy
from tests.recording.helpers import customer_stream, finish, put_chunk, split, start

CALL_SECONDS = 6.0


def ffprobe(path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type,codec_name,width,height",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout)


def record(client, session, stream, data: bytes, parts: int) -> str:
    recording = start(client, session, stream).json()["recording"]
    for index, chunk in enumerate(split(data, parts)):
        assert put_chunk(client, session, recording, index, chunk).status_code == 201
    assert finish(client, session, recording, len(split(data, parts))).status_code == 200
    return recording


@pytest.fixture
def recorded_call(alice, answered_call, webm_media):
    """A 6-second call: the customer's stream from 0.5 s, the operator's from
    1.0 s, each 4 s long; the call then ended (composition not run yet)."""
    session = answered_call.session
    customer = record(alice, session, customer_stream(answered_call.participant), webm_media.customer.read_bytes(), 5)
    operator = record(alice, session, "operator", webm_media.operator.read_bytes(), 3)
    session_end(session=session, actor=Actor.operator(session.operator), reason="test")
    answered = timezone.now() - timedelta(seconds=60)
    VerificationSession.objects.filter(pk=session.pk).update(
        answered_at=answered, ended_at=answered + timedelta(seconds=CALL_SECONDS)
    )
    Recording.objects.filter(public_id=customer).update(started_at=answered + timedelta(seconds=0.5))
    Recording.objects.filter(public_id=operator).update(started_at=answered + timedelta(seconds=1.0))
    session.refresh_from_db()
    return session


def test_the_composed_file_plays_the_whole_call_with_audio_and_video(recorded_call, tmp_path):
    assert recordings.recording_compose_session(session_id=recorded_call.pk) == recordings.COMPOSED

    composed = recordings.composed_recording(recorded_call)
    playable = plaintext_copy(composed.file, tmp_path)
    probe = ffprobe(playable)
    kinds = {s["codec_type"]: s for s in probe["streams"]}
    assert set(kinds) == {"video", "audio"}
    assert kinds["video"]["codec_name"] == "h264" and kinds["audio"]["codec_name"] == "aac"
    assert abs(float(probe["format"]["duration"]) - CALL_SECONDS) < 1.0
    # Two streams side by side.
    assert (kinds["video"]["width"], kinds["video"]["height"]) == (1280, 480)
    assert composed.content_type == "video/mp4"
    with composed.file.open("rb") as source:
        data = source.read()
    assert composed.sha256 == hashlib.sha256(data).hexdigest()
    assert composed.size == len(data)
    assert abs(composed.duration_seconds - CALL_SECONDS) < 1.0
    # The call's clock (time 0 = the answer) is kept as metadata.
    tags = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", str(playable)],
            capture_output=True, text=True, check=True,
        ).stdout
    )["format"]["tags"]
    assert tags["creation_time"].startswith(recorded_call.answered_at.strftime("%Y-%m-%dT%H:%M:%S"))


def test_every_file_is_evidence_with_duration_size_and_checksum_in_the_audit_trail(
    recorded_call, webm_media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        recordings.recording_compose_session(session_id=recorded_call.pk)

    segments = Evidence.objects.filter(session=recorded_call, kind=Evidence.Kind.RECORDING, source=Evidence.Source.OPERATOR_VIEW)
    assert segments.count() == 2
    originals = {webm_media.customer.read_bytes(), webm_media.operator.read_bytes()}
    for segment in segments:
        with segment.file.open("rb") as source:
            assert source.read() in originals  # the exact bytes the browser made
        assert segment.duration_seconds == pytest.approx(4.0, abs=0.2)
    customer_segment = segments.get(participant__isnull=False)
    assert customer_segment.participant_id == recorded_call.participants.get().pk

    stored = AuditEvent.objects.filter(session=recorded_call, action="recording.segment_stored")
    assert {e.data["evidence"] for e in stored} == {s.public_id.hex for s in segments}
    for event in stored:
        evidence = segments.get(public_id=event.data["evidence"])
        assert (event.data["sha256"], event.data["size"]) == (evidence.sha256, evidence.size)
        assert event.data["duration_seconds"] == evidence.duration_seconds
        assert event.data["contiguous"] is True
    composed_event = AuditEvent.objects.get(session=recorded_call, action="recording.composed")
    composed = recordings.composed_recording(recorded_call)
    assert composed_event.data["sha256"] == composed.sha256
    assert composed_event.data["size"] == composed.size
    assert composed_event.data["duration_seconds"] == composed.duration_seconds
    # Chunk files are gone; their numbers and checksums stay.
    assert RecordingChunk.objects.count() == 8
    assert not RecordingChunk.objects.exclude(file="").exists()


def test_composing_twice_changes_nothing(recorded_call):
    assert recordings.recording_compose_session(session_id=recorded_call.pk) == recordings.COMPOSED
    files = sorted(Evidence.objects.filter(session=recorded_call).values_list("sha256", flat=True))
    events = AuditEvent.objects.filter(session=recorded_call).count()

    assert recordings.recording_compose_session(session_id=recorded_call.pk) == recordings.ALREADY

    assert sorted(Evidence.objects.filter(session=recorded_call).values_list("sha256", flat=True)) == files
    assert AuditEvent.objects.filter(session=recorded_call).count() == events


def test_a_chunk_changed_on_disk_after_upload_is_left_out_and_reported(recorded_call):
    chunk = RecordingChunk.objects.filter(recording__stream="operator").order_by("index").last()
    with open(at_rest_path(chunk.file.name), "r+b") as stored:
        stored.seek(200)  # past the header: in the first chunk's ciphertext
        stored.write(b"tampered")

    recordings.recording_compose_session(session_id=recorded_call.pk)

    segment = Recording.objects.get(stream="operator")
    assert segment.verification["corrupt"] == [chunk.index]
    assert segment.verification["contiguous"] is False
    assert recordings.composed_recording(recorded_call) is not None


def test_the_composition_waits_for_a_segment_still_uploading(alice, answered_call, webm_media):
    session = answered_call.session
    recording = start(alice, session, "operator").json()["recording"]
    put_chunk(alice, session, recording, 0, webm_media.operator.read_bytes())
    session_end(session=session, actor=Actor.system(), reason="test")

    assert recordings.recording_compose_session(session_id=session.pk) == recordings.WAITING
    # The page's last "finished" (after its last chunk) lets it through.
    finish(alice, session, recording, 1)
    assert recordings.recording_compose_session(session_id=session.pk) == recordings.COMPOSED


def test_a_segment_never_finished_is_composed_once_the_grace_has_passed(alice, answered_call, webm_media, settings):
    session = answered_call.session
    recording = start(alice, session, "operator").json()["recording"]
    put_chunk(alice, session, recording, 0, webm_media.operator.read_bytes())
    session_end(session=session, actor=Actor.system(), reason="test")
    settings.RECORDING_FINISH_GRACE_SECONDS = 0

    assert recordings.recording_compose_session(session_id=session.pk) == recordings.COMPOSED


def test_an_audio_only_stream_still_composes_with_a_picture(alice, answered_call, webm_media, tmp_path):
    session = answered_call.session
    record(alice, session, "operator", webm_media.audio_only.read_bytes(), 2)
    session_end(session=session, actor=Actor.system(), reason="test")
    VerificationSession.objects.filter(pk=session.pk).update(ended_at=session.answered_at + timedelta(seconds=3))

    assert recordings.recording_compose_session(session_id=session.pk) == recordings.COMPOSED
    kinds = {s["codec_type"] for s in ffprobe(plaintext_copy(recordings.composed_recording(session).file, tmp_path))["streams"]}
    assert kinds == {"video", "audio"}


def test_a_call_nobody_recorded_composes_nothing(answered_call):
    session_end(session=answered_call.session, actor=Actor.system(), reason="test")

    assert recordings.recording_compose_session(session_id=answered_call.session.pk) == recordings.NOTHING


def test_a_running_call_is_not_composed(answered_call):
    assert recordings.recording_compose_session(session_id=answered_call.session.pk) == recordings.NOT_ENDED


def test_ending_the_call_queues_the_composition_after_commit(alice, answered_call, webm_media, django_capture_on_commit_callbacks):
    session = answered_call.session
    record(alice, session, "operator", webm_media.operator.read_bytes(), 2)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        session_end(session=session, actor=Actor.system(), reason="test")
    assert recordings.composed_recording(session) is None  # nothing before the commit
    for callback in callbacks:
        callback()

    assert recordings.composed_recording(session) is not None


def test_the_task_takes_an_id_and_is_idempotent(recorded_call):
    from sessions_app.tasks import recording_compose

    assert recording_compose(recorded_call.pk) == recordings.COMPOSED
    assert recording_compose(recorded_call.pk) == recordings.ALREADY


def test_the_management_command_composes_pending_sessions(recorded_call, capsys):
    from django.core.management import call_command

    call_command("recording_compose", "--pending")

    assert json.loads(capsys.readouterr().out.strip()) == {"session": recorded_call.public_id.hex, "outcome": "composed"}
    assert recordings.recording_sessions_pending() == []
