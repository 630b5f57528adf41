"""Embedded mode (no broker) composes the recording on a background thread
(settings.RECORDING_COMPOSE_EMBEDDED_MODE): the operator's last "finish"
answers at once, and the page follows the composition's progress."""

import threading

import pytest
from django.urls import reverse

from kyc import background
from sessions_app import recordings
from sessions_app.audit import Actor
from sessions_app.services import session_end
from tests.recording.helpers import finish, put_chunk, split, start


def progress(client, session):
    response = client.get(reverse("operators:recording_progress", args=[session.public_id.hex]))
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_the_last_finish_answers_before_the_recording_is_composed(alice, answered_call, webm_media, settings):
    settings.RECORDING_COMPOSE_EMBEDDED_MODE = "background"
    session = answered_call.session
    recording = start(alice, session, "operator").json()["recording"]
    chunks = split(webm_media.operator.read_bytes(), 3)
    for index, chunk in enumerate(chunks):
        put_chunk(alice, session, recording, index, chunk)
    assert progress(alice, session) == {"state": "recording", "percent": None}
    session_end(session=session, actor=Actor.system(), reason="test")
    background.background_wait(timeout=60)
    assert progress(alice, session)["state"] == "waiting"  # the segment is still open

    # Hold the composing thread, so "before" is certain, not a race.
    release = threading.Event()
    background.background_submit("compose", release.wait, 30)
    try:
        assert finish(alice, session, recording, len(chunks)).status_code == 200
        assert recordings.composed_recording(session) is None
        assert progress(alice, session) == {"state": "queued", "percent": None}
    finally:
        release.set()
    background.background_wait(timeout=120)
    assert recordings.composed_recording(session) is not None
    assert progress(alice, session) == {"state": "composed", "percent": 100}


def test_another_operator_cannot_follow_the_progress(bob, answered_call):
    """Bob (Beta Bank) is not on Alice's call."""
    response = bob.get(reverse("operators:recording_progress", args=[answered_call.session.public_id.hex]))
    assert response.status_code == 404


def test_ffmpeg_reports_its_progress_while_composing(alice, answered_call, webm_media, monkeypatch, django_capture_on_commit_callbacks):
    session = answered_call.session
    recording = start(alice, session, "operator").json()["recording"]
    put_chunk(alice, session, recording, 0, webm_media.operator.read_bytes())
    finish(alice, session, recording, 1)
    seen = []
    original = recordings.recording_compose_progress_set

    def spy(session_id, *, state, percent=None):
        seen.append((state, percent))
        original(session_id, state=state, percent=percent)

    monkeypatch.setattr(recordings, "recording_compose_progress_set", spy)
    with django_capture_on_commit_callbacks(execute=True):
        session_end(session=session, actor=Actor.system(), reason="test")
    assert seen[0] == ("composing", 0)
    assert recordings.composed_recording(session) is not None
    assert all(state == "composing" and 0 <= percent <= 99 for state, percent in seen)
