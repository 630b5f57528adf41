"""Scenario 4: a Celery worker is SIGKILLed in the middle of a check.

The checks of a passport photo (image quality, then the MRZ) run in a real
``celery -A kyc worker``; faults/worker_hooks.py holds the first run right
after it stored its first result, and the test kills it there. Two ways to
die: the pool process alone (what the kernel's OOM killer does; the worker
hands the task back at once: acks_late + reject_on_worker_lost), or the
whole worker (the message stays unacknowledged until the broker's
visibility timeout, then a new worker takes it). Either way the check runs
again, each result is stored exactly once, and exactly one checks.completed
webhook event is written (the session has ended, so the last result says it).
"""

import hashlib
import os
import signal
import time
import uuid

import pytest
from django.core.files.base import ContentFile

from faults.report import record
from faults.services import wait_until
from sessions_app.audit import Actor
from sessions_app.models import Evidence
from sessions_app.services import session_cancel

tasks = pytest.importorskip("workflows.tasks", reason="waits for the checks task workflows.tasks.run_checks_for_evidence")
pytest.importorskip("workflows.check_services", reason="waits for workflows.check_services (the checks' writes)")

from operators.models import WebhookEvent  # noqa: E402
from tests.checks import testdata as td  # noqa: E402
from workflows.models import CheckResult  # noqa: E402

# Short enough for the test; the product's default is 600 s (kyc/settings.py).
VISIBILITY_TIMEOUT = 20


@pytest.fixture(scope="module")
def passport():
    image, _ = td.document_capture(td.random_holder(7), "TD3", portrait=td.astronaut(), seed=11)
    return image


def store_document(participant, image) -> Evidence:
    # checks.completed is said once the call is over and every result is in:
    # the session ends first, so the check's last result says it.
    session_cancel(session=participant.session, actor=Actor.system())
    data = td.jpeg_bytes(image, 92)
    evidence = Evidence(
        session=participant.session, participant=participant, kind=Evidence.Kind.DOCUMENT_FRONT,
        source=Evidence.Source.CUSTOMER_DEVICE, content_type="image/jpeg", size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), width=image.shape[1], height=image.shape[0],
    )
    evidence.file.save(f"{uuid.uuid4().hex}.jpg", ContentFile(data), save=False)
    evidence.save()
    return evidence


def results_of(evidence) -> list[str]:
    return sorted(CheckResult.objects.filter(evidence=evidence).values_list("kind", flat=True))


def run_and_kill(*, evidence, start_worker, job_dir, kill_whole_worker: bool):
    marker = job_dir / f"held-{uuid.uuid4().hex[:6]}"
    env = {"FAULTS_HOLD_MARKER": str(marker), "CELERY_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_TIMEOUT)}
    worker = start_worker(include="faults.worker_hooks", name="checks", extra_env=env)
    tasks.run_checks_for_evidence.delay(evidence.pk)
    try:
        wait_until(lambda: marker.exists() and marker.read_text().strip(), timeout=120,
                   message="the first check stored and held")
    except TimeoutError as error:
        raise AssertionError(f"{error}; worker log:\n{worker.log()[-3000:]}") from None
    held_pid = int(marker.read_text())
    assert results_of(evidence) == ["quality"], "held mid-check: one of two results stored"

    killed_at = time.monotonic()
    if kill_whole_worker:
        worker.kill_all()
        start_worker(name="checks-after", extra_env=env)
    else:
        assert held_pid in worker.children()
        os.kill(held_pid, signal.SIGKILL)
    wait_until(lambda: results_of(evidence) == ["mrz", "quality"], timeout=VISIBILITY_TIMEOUT + 120, interval=0.5,
               message="the check ran again to the end")
    rerun_after = time.monotonic() - killed_at
    time.sleep(1)  # anything else that would run would have by now
    return worker, rerun_after


def assert_exactly_once(evidence):
    for kind in ("quality", "mrz"):
        assert CheckResult.objects.filter(evidence=evidence, kind=kind).count() == 1
    events = WebhookEvent.objects.filter(session=evidence.session, event_type="checks.completed")
    assert events.count() <= 1
    return events.count()


@pytest.mark.django_db(transaction=True)
def test_a_pool_process_killed_mid_check_runs_the_check_again_and_stores_each_result_once(
    live_call, passport, start_worker, job_dir, receiver
):
    evidence = store_document(live_call.participant, passport)
    worker, rerun_after = run_and_kill(evidence=evidence, start_worker=start_worker, job_dir=job_dir,
                                       kill_whole_worker=False)
    assert "WorkerLostError" in worker.log() or "signal 9" in worker.log()
    webhook_events = assert_exactly_once(evidence)
    record("4a pool process killed mid-check", check_complete_after_kill=rerun_after)
    assert webhook_events == 1, "the checks of the ended session are complete: said once"
    wait_until(lambda: receiver.delivered("checks.completed"), timeout=30, message="checks.completed delivered")
    assert len({hook.event_id for hook in receiver.delivered("checks.completed")}) == 1


@pytest.mark.django_db(transaction=True)
def test_a_whole_worker_killed_mid_check_hands_the_check_to_the_next_worker_which_stores_each_result_once(
    live_call, passport, start_worker, job_dir, receiver
):
    evidence = store_document(live_call.participant, passport)
    _worker, rerun_after = run_and_kill(evidence=evidence, start_worker=start_worker, job_dir=job_dir,
                                        kill_whole_worker=True)
    assert rerun_after >= VISIBILITY_TIMEOUT - 5  # not before the broker gave it up
    webhook_events = assert_exactly_once(evidence)
    record("4b whole worker killed mid-check", visibility_timeout=VISIBILITY_TIMEOUT,
           check_complete_after_kill=rerun_after)
    assert webhook_events == 1, "the checks of the ended session are complete: said once"
    wait_until(lambda: receiver.delivered("checks.completed"), timeout=30, message="checks.completed delivered")
    assert len({hook.event_id for hook in receiver.delivered("checks.completed")}) == 1
