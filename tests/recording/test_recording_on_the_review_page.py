"""The compliance review page plays the composed call beside the audit
timeline: each event seeks the video to the event's time minus the
recording's time 0, and the video comes through the authorised,
range-capable /recordings/<id> view (who else is refused there:
test_recording_playback; who may not open the review page at all:
tests/compliance/test_compliance_admin_access)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from sessions_app import recordings
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, VerificationSession
from sessions_app.services import session_end
from tests.recording.helpers import finish, put_chunk, start


def review_url(session) -> str:
    return reverse("admin:sessions_app_verificationsession_review", args=[session.pk])


@pytest.fixture
def composed(alice, answered_call, webm_media):
    """Alice's call, recorded for 4 s from its answer, ended and composed."""
    session = answered_call.session
    recording = start(alice, session, "operator").json()["recording"]
    put_chunk(alice, session, recording, 0, webm_media.operator.read_bytes())
    finish(alice, session, recording, 1)
    session_end(session=session, actor=Actor.system(), reason="test")
    VerificationSession.objects.filter(pk=session.pk).update(ended_at=session.answered_at + timedelta(seconds=5))
    assert recordings.recording_compose_session(session_id=session.pk, force=True) == recordings.COMPOSED
    return recordings.composed_recording(session)


def test_compliance_gets_the_player_beside_the_timeline_and_a_206_for_its_video(carol, composed):
    page = carol.get(review_url(composed.session))

    assert page.status_code == 200
    html = page.content.decode()
    assert "data-recording-player" in html and "recording-player.js" in html
    sources = re.findall(r'<video[^>]* src="([^"]+)"', html)
    assert sources == [f"/recordings/{composed.public_id.hex}"], "the authorised view, never a public URL"
    assert 'aria-label="Audit timeline"' in html
    inline_scripts = [body for body in re.findall(r"<script[^>]*>(.*?)</script>", html, re.S) if body.strip()]
    assert inline_scripts == [] and " style=" not in html, "the site's CSP refuses inline code"

    video = carol.get(sources[0], headers={"Range": "bytes=0-1023"})
    assert video.status_code == 206
    assert video["Content-Range"] == f"bytes 0-1023/{composed.size}"
    assert len(b"".join(video.streaming_content)) == 1024


def test_each_event_seeks_to_its_time_minus_the_recordings_time_zero(carol, composed):
    html = carol.get(review_url(composed.session)).content.decode()
    seeks = dict(
        re.findall(r'data-action="([\w.]+)">\s*<span class="recording-when">\s*<button [^>]*data-seek="([\d.]+)"', html)
    )
    assert 'aria-label="Play from +00:0' in html, "the offset from the call's start, then the event by name"

    started = AuditEvent.objects.get(session=composed.session, action="recording.started")
    time_zero = recordings.composed_time_zero(composed)
    assert time_zero == composed.session.answered_at
    assert float(seeks["recording.started"]) == pytest.approx((started.created_at - time_zero).total_seconds(), abs=0.05)
    assert "session.created" not in seeks, "before the answer: not in the video"


def test_a_call_without_a_recording_says_so(carol, answered_call):
    session_end(session=answered_call.session, actor=Actor.system(), reason="test")
    html = carol.get(review_url(answered_call.session)).content.decode()

    assert "No recording of this call has been composed" in html
    assert "<video" not in html
