"""Retention erases recordings like any other evidence: the per-stream and
composed files are Evidence, and chunks that were never assembled go with
the session's evidence."""

from sessions_app import recordings
from sessions_app.audit import Actor
from sessions_app.models import Evidence, RecordingChunk
from sessions_app.services import session_end
from tests.console.helpers import evidence_files
from tests.recording.helpers import finish, put_chunk, start


def test_erasing_the_session_deletes_every_recording_file(alice, answered_call, webm_media, settings, django_capture_on_commit_callbacks):
    from operators.retention import session_erase

    session = answered_call.session
    recording = start(alice, session, "operator").json()["recording"]
    put_chunk(alice, session, recording, 0, webm_media.operator.read_bytes())
    finish(alice, session, recording, 1)
    with django_capture_on_commit_callbacks(execute=True):
        session_end(session=session, actor=Actor.system(), reason="test")
    assert Evidence.objects.filter(session=session, kind=Evidence.Kind.RECORDING).count() == 2
    assert evidence_files(settings)

    with django_capture_on_commit_callbacks(execute=True):
        session_erase(session=session)

    assert evidence_files(settings) == []
    assert not Evidence.objects.filter(session=session, erased_at__isnull=True).exists()
    assert recordings.recording_compose_session(session_id=session.pk) == recordings.ERASED


def test_chunks_never_assembled_are_deleted_with_the_sessions_evidence(alice, answered_call, settings, django_capture_on_commit_callbacks):
    from operators.retention import session_erase

    session = answered_call.session
    recording = start(alice, session, "operator").json()["recording"]
    put_chunk(alice, session, recording, 0, b"never assembled")
    session_end(session=session, actor=Actor.system(), reason="test")  # no compose ran (no commit)
    assert len(evidence_files(settings)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        session_erase(session=session)

    assert evidence_files(settings) == []
    assert RecordingChunk.objects.get().file.name == ""
