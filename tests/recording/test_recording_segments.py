"""Segments: one per stream and page; a page that comes back opens the next
one; nothing starts once the call is over."""

from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Recording
from sessions_app.services import session_end
from tests.recording.helpers import customer_stream, error_code, start


def test_each_stream_counts_its_own_segments(alice, answered_call):
    session = answered_call.session
    customer = customer_stream(answered_call.participant)

    assert start(alice, session, customer).json()["segment"] == 1
    assert start(alice, session, "operator").json()["segment"] == 1
    assert start(alice, session, customer).json()["segment"] == 2

    assert list(Recording.objects.filter(stream=customer).values_list("segment", "state")) == [
        (1, Recording.State.INTERRUPTED),
        (2, Recording.State.RECORDING),
    ]
    started = AuditEvent.objects.filter(session=session, action="recording.started").order_by("sequence")
    assert [e.data["segment"] for e in started] == [1, 1, 2]
    assert started.last().participant_id == answered_call.participant.pk


def test_the_segment_start_is_placed_by_the_recorders_own_start(alice, answered_call):
    """A start that reached the server late (retries) keeps its place on the call's clock."""
    from django.utils import timezone

    before = timezone.now()
    recording_id = start(alice, answered_call.session, "operator", elapsed_ms=5000).json()["recording"]

    started_at = Recording.objects.get(public_id=recording_id).started_at
    assert (before - started_at).total_seconds() > 4.5


def test_nothing_starts_after_the_call_ended(alice, answered_call):
    session_end(session=answered_call.session, actor=Actor.system(), reason="test")

    response = start(alice, answered_call.session, "operator")

    assert response.status_code == 409
    assert error_code(response) == "call_not_running"


def test_only_webm_is_recorded(alice, answered_call):
    response = start(alice, answered_call.session, "operator", mime_type="text/html")

    assert response.status_code == 400
    assert error_code(response) == "unsupported_type"


def test_a_malformed_recording_id_is_refused(alice, answered_call):
    response = start(alice, answered_call.session, "operator", recording_id="not-a-uuid")

    assert response.status_code == 400
    assert error_code(response) == "invalid_id"
