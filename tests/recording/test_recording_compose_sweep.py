"""Celery beat runs a sweep that composes recordings whose own task was lost
(the worker was down when the call ended): a backstop that starts once the
call's own task has had its chance, gives up on calls that keep failing,
and never runs beside itself."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from sessions_app import recordings
from sessions_app.audit import Actor, audit_record
from sessions_app.models import VerificationSession
from sessions_app.services import session_end
from sessions_app.tasks import (
    COMPOSE_SWEEP_LEASE_KEY,
    COMPOSE_SWEEP_MAX_FAILURES,
    recording_compose_pending,
)
from tests.recording.helpers import finish, put_chunk, start


@pytest.fixture
def call_left_uncomposed(alice, answered_call, webm_media):
    """Alice recorded her call; it ended, and no compose task ever ran (the
    end's on-commit callbacks are not run here, as if the worker were down)."""
    session = answered_call.session
    recording = start(alice, session, "operator").json()["recording"]
    put_chunk(alice, session, recording, 0, webm_media.operator.read_bytes())
    finish(alice, session, recording, 1)
    session_end(session=session, actor=Actor.system(), reason="test")
    assert recordings.composed_recording(session) is None
    return session


def _ended_ago(session, delta: timedelta) -> None:
    ended = timezone.now() - delta
    VerificationSession.objects.filter(pk=session.pk).update(answered_at=ended - timedelta(seconds=5), ended_at=ended)


@pytest.fixture(autouse=True)
def _no_sweep_lease():
    cache.delete(COMPOSE_SWEEP_LEASE_KEY)
    yield
    cache.delete(COMPOSE_SWEEP_LEASE_KEY)


def test_the_beat_schedule_runs_the_compose_sweep(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["recording-compose-pending"]

    assert entry["task"] == recording_compose_pending.name == "sessions_app.tasks.recording_compose_pending"
    assert 0 < entry["schedule"] <= 600


def test_a_composition_lost_with_its_worker_is_picked_up_by_the_sweep(call_left_uncomposed):
    _ended_ago(call_left_uncomposed, timedelta(minutes=30))

    assert recording_compose_pending() == {recordings.COMPOSED: 1}
    assert recordings.composed_recording(call_left_uncomposed) is not None
    assert recording_compose_pending() == {}, "composed once"


def test_a_call_just_ended_is_left_to_its_own_task(call_left_uncomposed):
    _ended_ago(call_left_uncomposed, timedelta(seconds=30))

    assert recording_compose_pending() == {}
    assert recordings.composed_recording(call_left_uncomposed) is None


def test_a_call_older_than_the_sweep_window_is_left_to_the_management_command(call_left_uncomposed, settings):
    settings.RECORDING_COMPOSE_SWEEP_HOURS = 48
    _ended_ago(call_left_uncomposed, timedelta(hours=49))

    assert recording_compose_pending() == {}
    assert recordings.recording_sessions_pending() == [call_left_uncomposed.pk]


def test_the_sweep_gives_up_on_a_call_that_keeps_failing_to_compose(call_left_uncomposed):
    _ended_ago(call_left_uncomposed, timedelta(minutes=30))
    for _ in range(COMPOSE_SWEEP_MAX_FAILURES):
        audit_record(
            business=call_left_uncomposed.business,
            session=call_left_uncomposed,
            actor=Actor.system(),
            action="recording.compose_failed",
            data={"error": "test"},
        )

    assert recording_compose_pending() == {}
    assert recordings.composed_recording(call_left_uncomposed) is None


def test_a_sweep_does_not_run_beside_another(call_left_uncomposed):
    _ended_ago(call_left_uncomposed, timedelta(minutes=30))
    cache.add(COMPOSE_SWEEP_LEASE_KEY, 1)

    assert recording_compose_pending() == {"skipped": 1}
    assert recordings.composed_recording(call_left_uncomposed) is None
