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
    from operators.compliance.retention import session_erase

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
    from operators.compliance.retention import session_erase

    session = answered_call.session
    recording = start(alice, session, "operator").json()["recording"]
    put_chunk(alice, session, recording, 0, b"never assembled")
    session_end(session=session, actor=Actor.system(), reason="test")  # no compose ran (no commit)
    assert len(evidence_files(settings)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        session_erase(session=session)

    assert evidence_files(settings) == []
    assert RecordingChunk.objects.get().file.name == ""


def _recorded_and_ended(alice, session, data: bytes) -> None:
    recording = start(alice, session, "operator").json()["recording"]
    put_chunk(alice, session, recording, 0, data)
    finish(alice, session, recording, 1)
    session_end(session=session, actor=Actor.system(), reason="test")  # no compose ran (no commit)


def test_a_session_erased_while_ffmpeg_composes_keeps_no_recording(
    alice, answered_call, webm_media, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """A business that keeps evidence for 0 days: retention runs while the call is being composed."""
    from operators.compliance.retention import session_erase
    from sessions_app import recording_media

    session = answered_call.session
    _recorded_and_ended(alice, session, webm_media.operator.read_bytes())
    compose = recording_media.compose

    def compose_while_retention_erases(**kwargs):
        session_erase(session=session)
        return compose(**kwargs)

    monkeypatch.setattr(recording_media, "compose", compose_while_retention_erases)
    with django_capture_on_commit_callbacks(execute=True):
        assert recordings.recording_compose_session(session_id=session.pk, force=True) == recordings.ERASED

    assert recordings.composed_recording(session) is None
    assert not Evidence.objects.filter(session=session, erased_at__isnull=True).exists()
    assert evidence_files(settings) == []


def test_a_session_erased_while_a_stream_is_assembled_keeps_no_recording(
    alice, answered_call, webm_media, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from operators.compliance.retention import session_erase
    from sessions_app import recording_media

    session = answered_call.session
    _recorded_and_ended(alice, session, webm_media.operator.read_bytes())
    remux = recording_media.remux

    def remux_while_retention_erases(*args, **kwargs):
        session_erase(session=session)
        return remux(*args, **kwargs)

    monkeypatch.setattr(recording_media, "remux", remux_while_retention_erases)
    with django_capture_on_commit_callbacks(execute=True):
        assert recordings.recording_compose_session(session_id=session.pk, force=True) == recordings.ERASED

    assert not Evidence.objects.filter(session=session).exists()
    assert evidence_files(settings) == []


def test_retention_erases_an_old_calls_recordings_on_its_own(
    alice, answered_call, webm_media, settings, django_capture_on_commit_callbacks
):
    """The hourly retention run (not only an erasure asked for by hand) takes the recordings."""
    from datetime import timedelta

    from django.utils import timezone

    from operators.compliance.retention import retention_erase_due
    from sessions_app.models import VerificationSession

    session = answered_call.session
    _recorded_and_ended(alice, session, webm_media.operator.read_bytes())
    assert recordings.recording_compose_session(session_id=session.pk, force=True) == recordings.COMPOSED
    VerificationSession.objects.filter(pk=session.pk).update(
        ended_at=timezone.now() - timedelta(days=session.business.retention_days + 1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert retention_erase_due() == 1

    assert evidence_files(settings) == []
    recorded = Evidence.objects.filter(session=session, kind=Evidence.Kind.RECORDING)
    assert recorded.count() == 2 and all(e.erased_at and not e.file and len(e.sha256) == 64 for e in recorded)
