"""Celery tasks of the call. Each takes ids, loads what it needs and is
idempotent: tasks are acknowledged late, so one may run twice."""

from celery import current_app, shared_task

from sessions_app import recordings

# While a segment is still open after the call (its last chunks uploading),
# look again this often until the grace period has passed.
COMPOSE_RETRY_SECONDS = 10


@shared_task(acks_late=True)
def recording_compose(session_id: int) -> str:
    """Assemble and compose the call's recording once every segment is in."""
    outcome = recordings.recording_compose_session(session_id=session_id)
    if outcome == recordings.WAITING and not current_app.conf.task_always_eager:
        # Eager mode has no later: there the page's last "finished" composes,
        # and `manage.py recording_compose --pending` catches crashed pages.
        recording_compose.apply_async((session_id,), countdown=COMPOSE_RETRY_SECONDS)
    return outcome


@shared_task(acks_late=True)
def recording_compose_pending() -> dict:
    """Periodic sweep: compose every ended session whose recording was left
    waiting (a worker restart lost its task, a crashed page never finished)."""
    outcomes: dict[str, int] = {}
    for session_id in recordings.recording_sessions_pending():
        outcome = recordings.recording_compose_session(session_id=session_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
