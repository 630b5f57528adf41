"""Celery tasks of the call. Each takes ids, loads what it needs and is
idempotent: tasks are acknowledged late, so one may run twice."""

from celery import current_app, shared_task
from django.conf import settings
from django.core.cache import cache

from kyc.background import background_submit
from sessions_app import audit, recordings
# Defined beside its service; imported here so the worker's autodiscovery registers it.
from sessions_app.one_time_codes import one_time_code_deliver_task  # noqa: F401

# While a segment is still open after the call (its last chunks uploading),
# look again this often until the grace period has passed.
COMPOSE_RETRY_SECONDS = 10
# The sweep gives up on a call whose composition failed this often (each
# failure is a recording.compose_failed audit event); the management command
# still takes it.
COMPOSE_SWEEP_MAX_FAILURES = 3
# A sweep killed with its worker frees the lease after this long.
COMPOSE_SWEEP_LEASE_KEY = "recording-compose-pending"
COMPOSE_SWEEP_LEASE_SECONDS = 30 * 60


@shared_task(bind=True, acks_late=True)
def recording_compose(self, session_id: int) -> str:
    """Assemble and compose the call's recording once every segment is in.

    In embedded mode (no broker: Celery runs ``delay`` inside the request
    that ended the call or finished the last segment) the composition goes
    to a background thread (settings.RECORDING_COMPOSE_EMBEDDED_MODE), so
    that request answers at once and the operator's page is free while
    ffmpeg works; "inline" composes in the request, after its commit.
    Called directly (tests, a shell), it runs here and now."""
    if current_app.conf.task_always_eager and self.request.is_eager and not self.request.called_directly:
        if settings.RECORDING_COMPOSE_EMBEDDED_MODE == "background":
            recordings.recording_compose_progress_set(session_id, state=recordings.QUEUED)
            background_submit("compose", recordings.recording_compose_session, session_id=session_id)
            return recordings.QUEUED
    outcome = recordings.recording_compose_session(session_id=session_id)
    if outcome == recordings.WAITING and not current_app.conf.task_always_eager:
        # Eager mode has no later: there the page's last "finished" composes,
        # and `manage.py recording_compose --pending` catches crashed pages.
        recording_compose.apply_async((session_id,), countdown=COMPOSE_RETRY_SECONDS)
    return outcome


@shared_task(acks_late=True)
def recording_compose_pending() -> dict:
    """Periodic sweep (CELERY_BEAT_SCHEDULE): compose every ended session
    whose recording was left waiting (a worker down at the end of the call
    lost its task, a crashed page never finished). One sweep at a time: a
    sweep composing long calls can outlast the beat interval, and the next
    one must not compose the same calls beside it."""
    if not cache.add(COMPOSE_SWEEP_LEASE_KEY, 1, timeout=COMPOSE_SWEEP_LEASE_SECONDS):
        return {"skipped": 1}
    outcomes: dict[str, int] = {}
    try:
        ended_after, ended_before = recordings.compose_sweep_window()
        pending = recordings.recording_sessions_pending(
            ended_after=ended_after, ended_before=ended_before, max_failures=COMPOSE_SWEEP_MAX_FAILURES
        )
        for session_id in pending:
            outcome = recordings.recording_compose_session(session_id=session_id)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    finally:
        cache.delete(COMPOSE_SWEEP_LEASE_KEY)
    return outcomes


@shared_task(acks_late=True)
def audit_checkpoint() -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE, AUDIT_CHECKPOINT_INTERVAL_SECONDS):
    sign every business's audit chain head into the checkpoint log. Running
    twice signs nothing new the second time."""
    outcomes = audit.audit_checkpoint_all()
    return {
        "written": sum(1 for outcome in outcomes if outcome.written),
        "refused": sum(1 for outcome in outcomes if outcome.problems),
    }
