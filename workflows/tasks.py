"""Celery tasks of the automated checks. Each takes ids, loads what it needs
and is idempotent: tasks are acknowledged late, so one may run twice, and a
result already stored for an evidence, check and engine version is kept."""

import logging
from concurrent.futures import ThreadPoolExecutor

from celery import current_app, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from kyc import background as kyc_background
from workflows import check_services

logger = logging.getLogger(__name__)

# The OCR reads a capture in about a second of CPU, a liveness burst's two
# checks take less (docs/checks.md, "CPU per participant"); the soft limit leaves room for a loaded worker, then each running
# engine is stopped and stored as an "error" result (the recommendation turns
# it into a review). The hard limit catches native code that ignores it.
SOFT_TIME_LIMIT = 120
TIME_LIMIT = 150


def _inline() -> bool:
    """True in embedded mode, where Celery runs tasks inside the request."""
    return bool(current_app.conf.task_always_eager)


def background_pool() -> ThreadPoolExecutor:
    """Embedded mode's stand-in for a worker (kyc.background): one thread in
    the web process keeps the checks in arrival order (a burst's last frame
    after the face), each run in the worker process beside it."""
    return kyc_background.background_pool("checks")


def background_pool_wait(timeout: float = 300) -> None:
    """Return once everything handed to a background thread so far (checks,
    compositions) has finished. For tests: nothing may outlive the test
    database it reads."""
    kyc_background.background_wait(timeout=timeout)


def _run_in_background(evidence_id: int) -> None:
    # On the checks thread, in the worker process: the engines' native code
    # must not hold the web process's interpreter (kyc/background.py).
    kyc_background.in_worker_process(_check_evidence, evidence_id, timeout=TIME_LIMIT)


def _check_evidence(evidence_id: int) -> None:
    check_services.evidence_run_checks(evidence_id=evidence_id)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
)
def run_checks_for_evidence(self, evidence_id: int) -> list[dict]:
    """Run the checks one stored capture calls for; returns what was stored.

    On a worker: transient database errors (a dropped connection, a
    failover) are retried with backoff; anything else fails the task.
    In embedded mode (no broker, Celery runs ``delay`` inline, right after
    the capture's upload commits) the checks go to the worker process (by a background thread), or
    run right here, or not at all (settings.CHECKS_EMBEDDED_MODE), and a
    failure is only logged: a check never turns a stored capture into a
    failed upload, and the missing result makes the recommendation a review.
    Called directly (tests, a shell), it runs here and now.
    """
    if _inline() and self.request.is_eager and not self.request.called_directly:
        mode = settings.CHECKS_EMBEDDED_MODE
        if mode == "off":
            return []
        if mode == "background":
            kyc_background.background_submit("checks", _run_in_background, evidence_id)
            return []
        # "inline": here and now, in the request that stored the capture.
    try:
        results = check_services.evidence_run_checks(evidence_id=evidence_id)
    except Exception:
        if _inline():
            logger.exception("checks of evidence %s failed", evidence_id)
            return []
        raise
    return [{"id": result.pk, "kind": result.kind, "status": result.status} for result in results]
