"""GET /recordings/<id> streams a recording with HTTP range requests (so a
<video> can seek) to compliance reviewers, superusers and operators of the
session's own business, and to nobody else. Never a public URL."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from operators.compliance.recording_views import recording_player_context
from sessions_app import recordings
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Evidence
from sessions_app.services import session_end
from tests.console.helpers import operator_browser
from tests.recording.helpers import finish, put_chunk, start


@pytest.fixture
def composed(alice, answered_call, webm_media, django_capture_on_commit_callbacks):
    session = answered_call.session
    recording = start(alice, session, "operator").json()["recording"]
    put_chunk(alice, session, recording, 0, webm_media.operator.read_bytes())
    finish(alice, session, recording, 1)
    with django_capture_on_commit_callbacks(execute=True):
        session_end(session=session, actor=Actor.system(), reason="test")
    evidence = recordings.composed_recording(session)
    assert evidence is not None
    return evidence


def _url(evidence) -> str:
    return f"/recordings/{evidence.public_id.hex}"


def _bytes(evidence) -> bytes:
    with evidence.file.open("rb") as source:
        return source.read()


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_compliance_gets_a_range_as_206_partial_content(carol, composed):
    response = carol.get(_url(composed), headers={"Range": "bytes=100-1099"})

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-1099/{composed.size}"
    assert response["Content-Length"] == "1000"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["Cache-Control"] == "private, no-store"
    assert _body(response) == _bytes(composed)[100:1100]


def test_open_ended_and_suffix_ranges(carol, composed):
    size = composed.size
    tail = carol.get(_url(composed), headers={"Range": f"bytes={size - 10}-"})
    suffix = carol.get(_url(composed), headers={"Range": "bytes=-10"})
    beyond = carol.get(_url(composed), headers={"Range": f"bytes={size - 5}-{size + 100}"})

    assert tail.status_code == suffix.status_code == beyond.status_code == 206
    assert _body(tail) == _body(suffix) == _bytes(composed)[-10:]
    assert tail["Content-Range"] == f"bytes {size - 10}-{size - 1}/{size}"
    assert beyond["Content-Range"] == f"bytes {size - 5}-{size - 1}/{size}"


def test_without_a_range_the_whole_file_comes_with_accept_ranges(carol, composed):
    response = carol.get(_url(composed))

    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(composed.size)
    assert _body(response) == _bytes(composed)


def test_a_range_past_the_end_is_416(carol, composed):
    response = carol.get(_url(composed), headers={"Range": f"bytes={composed.size}-"})

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{composed.size}"


@pytest.mark.parametrize("header", ["bytes=5-2", "items=0-1", "bytes=0-1,5-6"])
def test_a_range_it_does_not_serve_gets_the_whole_file(carol, composed, header):
    response = carol.get(_url(composed), headers={"Range": header})

    assert response.status_code == 200
    assert _body(response) == _bytes(composed)


def test_if_range_with_another_version_gets_the_whole_file(carol, composed):
    response = carol.get(_url(composed), headers={"Range": "bytes=0-9", "If-Range": '"not-this-one"'})

    assert response.status_code == 200
    same = carol.get(_url(composed), headers={"Range": "bytes=0-9", "If-Range": f'"{composed.sha256}"'})
    assert same.status_code == 206


def test_head_says_the_size_without_a_body(carol, composed):
    response = carol.head(_url(composed))

    assert response.status_code == 200
    assert response["Content-Length"] == str(composed.size)
    assert response.content == b""


def test_a_superuser_may_play_it(composed, db):
    admin = get_user_model().objects.create_superuser("root", password="correct-horse-battery-1")
    response = operator_browser(admin).get(_url(composed), headers={"Range": "bytes=0-0"})

    assert response.status_code == 206


def test_an_operator_of_the_sessions_business_may_play_it(anton, composed):
    assert anton.get(_url(composed), headers={"Range": "bytes=0-0"}).status_code == 206


def test_the_per_stream_originals_are_served_the_same_way(carol, composed):
    segment = Evidence.objects.get(session=composed.session, source=Evidence.Source.OPERATOR_VIEW)
    response = carol.get(_url(segment), headers={"Range": "bytes=0-3"})

    assert response.status_code == 206
    assert _body(response) == b"\x1a\x45\xdf\xa3"  # the EBML magic of a WebM file
    assert response["Content-Type"].startswith("video/webm")


def test_the_operators_evidence_view_serves_the_same_ranges(alice, composed):
    """The console's /console/evidence/<id> and /recordings/<id> share one
    range-serving helper: the same 206, and the playback is audited once."""
    url = f"/console/evidence/{composed.public_id.hex}"
    first = alice.get(url, headers={"Range": "bytes=0-99"})
    seek = alice.get(url, headers={"Range": f"bytes=100-{composed.size - 1}"})

    assert first.status_code == seek.status_code == 206
    assert first["Content-Range"] == f"bytes 0-99/{composed.size}"
    assert first["Accept-Ranges"] == "bytes"
    assert first["Content-Type"] == "video/mp4"
    assert first["Content-Disposition"] == f'inline; filename="{composed.public_id.hex}.mp4"'
    assert _body(first) + _body(seek) == _bytes(composed)
    assert AuditEvent.objects.filter(session=composed.session, action="recording.viewed").count() == 1


def test_the_operators_evidence_view_refuses_another_business(bob, composed):
    response = bob.get(f"/console/evidence/{composed.public_id.hex}", headers={"Range": "bytes=0-"})

    assert response.status_code == 404


@pytest.mark.parametrize("who", ["bob", "oscar"])
def test_other_businesses_and_outsiders_get_404(request, who, composed):
    response = request.getfixturevalue(who).get(_url(composed), headers={"Range": "bytes=0-"})

    assert response.status_code == 404
    assert _bytes(composed)[:64] not in response.content


def test_staff_outside_the_compliance_group_get_404(composed, db):
    staff = get_user_model().objects.create_user("sam", password="correct-horse-battery-1", is_staff=True)

    assert operator_browser(staff).get(_url(composed)).status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_customers_and_anonymous_visitors_get_403(request, who, answered_call):
    client = request.getfixturevalue(who)  # the customer opened the link during the call
    composed = request.getfixturevalue("composed")
    response = client.get(_url(composed), headers={"Range": "bytes=0-"})

    assert response.status_code == 403


def test_an_erased_recording_is_gone(carol, composed):
    Evidence.objects.filter(pk=composed.pk).update(erased_at=timezone.now())

    assert carol.get(_url(composed)).status_code == 404


def test_every_playback_is_in_the_audit_trail_once_not_per_range(carol, composed, compliance_user):
    carol.get(_url(composed), headers={"Range": "bytes=0-"})
    carol.get(_url(composed), headers={"Range": "bytes=5000-"})

    views = AuditEvent.objects.filter(session=composed.session, action="recording.viewed")
    assert views.count() == 1
    assert views.get().actor_user_id == compliance_user.pk


def test_the_player_gets_the_timeline_with_offsets_on_the_calls_clock(composed, compliance_user):
    player = recording_player_context(session=composed.session, user=compliance_user)

    assert player["src"] == _url(composed)
    actions = [event["action"] for event in player["events"]]
    assert "recording.started" in actions and "recording.composed" in actions
    started = next(e for e in player["events"] if e["action"] == "recording.started")
    assert 0 <= started["offset"] <= composed.duration_seconds
    created = next(e for e in player["events"] if e["action"] == "session.created")
    assert created["offset"] is None  # before the call: not in the video


def test_the_player_is_withheld_from_whoever_may_not_review(composed, operator_b, outsider):
    assert recording_player_context(session=composed.session, user=operator_b.user) is None
    assert recording_player_context(session=composed.session, user=outsider) is None


def test_the_player_template_renders_the_video_and_seekable_events(carol, composed):
    response = carol.get(f"/recordings/sessions/{composed.session.public_id.hex}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'src="{_url(composed)}"' in html
    assert 'data-seek="' in html
    assert "recording-player.js" in html
    assert Client().get(f"/recordings/sessions/{composed.session.public_id.hex}/").status_code == 403
