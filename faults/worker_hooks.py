"""Loaded into a fault test's Celery worker (``--include faults.worker_hooks``).

When FAULTS_HOLD_MARKER names a file that does not exist yet, the first run
of ``run_checks_for_evidence`` stops right after it stored its first result,
writes its process id into that file and waits there, so the test can kill
the worker mid-check. Every later run (the marker exists) goes straight
through. The product's code is untouched outside this worker.
"""

import os
import time

from celery.signals import task_prerun

MARKER = os.environ.get("FAULTS_HOLD_MARKER")
HOLD_SECONDS = 120


@task_prerun.connect
def _hold_the_first_check_after_its_first_result(sender=None, task=None, **kwargs):
    if not MARKER or task is None or task.name != "workflows.tasks.run_checks_for_evidence":
        return
    from workflows import check_services

    if getattr(check_services, "_faults_hold_installed", False):
        return
    store = check_services.check_result_store

    def store_then_hold(**arguments):
        result = store(**arguments)
        if not os.path.exists(MARKER):
            with open(MARKER, "w") as marker:
                marker.write(str(os.getpid()))
            time.sleep(HOLD_SECONDS)  # the test kills this process here
        return result

    check_services.check_result_store = store_then_hold
    check_services._faults_hold_installed = True
