"""Fixtures of the fault-injection suite (``make faults``).

The browser scenarios share one stack (faults/stack.py), started once, and
run one after another; each seeds its own business, so calls never meet.
The job scenarios use pytest-django's database with real commits and a real
Celery worker against our own Redis (faults/jobs.py).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.test.utils import override_settings

from faults.stack import CallStack
from tests.e2e.harness import CHROMIUM

# Counts the ICE restarts a page asks for (test-only, like tests/e2e's INSTRUMENT).
COUNT_ICE_RESTARTS = """
(() => {
  window.__iceRestarts = 0;
  const restart = RTCPeerConnection.prototype.restartIce;
  RTCPeerConnection.prototype.restartIce = function (...args) {
    window.__iceRestarts += 1;
    return restart.apply(this, args);
  };
})();
"""


# The webhook receivers of these scenarios listen on 127.0.0.1 over plain
# http, which the egress policy (kyc/egress.py) refuses unless allowed: the
# product's processes (servers, workers) inherit these, and this process
# gets the same through _webhook_receiver_on_this_machine.
LOCAL_RECEIVER = {"WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}
os.environ.update(LOCAL_RECEIVER)


@pytest.fixture(autouse=True, scope="session")
def _webhook_receiver_on_this_machine():
    with override_settings(WEBHOOK_ALLOW_HTTP=True, WEBHOOK_ALLOWED_NETWORKS=["127.0.0.1/32"]):
        yield


def pytest_collection_modifyitems(config, items):
    _jobs_first(items)
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}")
    for item in items:
        if "browser" in item.fixturenames or "call" in item.fixturenames:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def stack():
    workdir = Path(tempfile.mkdtemp(prefix="verity-faults-"))
    product = CallStack(workdir)
    try:
        product.start()
        yield product
    finally:
        product.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(stack, playwright_instance):
    browser = stack.launch_browser(playwright_instance)
    yield browser
    browser.close()


@pytest.fixture()
def call(stack, browser, request):
    """A customer (on daphne 0) and an operator (on daphne 1) in a connected
    one-on-one call, each page decoding the other's video."""
    from faults.calls import start_call

    business = f"faults-{request.node.name.replace('_', '-')[:40]}"
    live = start_call(stack, browser, business)
    yield live
    live.close()


def pytest_terminal_summary(terminalreporter):
    from faults.report import write_and_format

    for line in write_and_format():
        terminalreporter.write_line(line)


# --- the job scenarios: pytest-django's database, shared with real workers ------------

from tests.conftest import (  # noqa: E402,F401  (shared named fixtures)
    business_a,
    django_db_modify_db_settings,
    live_call,
    operator_a,
    workflow_a,
)


def _jobs_first(items):
    """The job scenarios first, so their workers are gone before the browser
    stack starts (this machine has two cores); what checks the stack after
    every fault (``after_the_faults``) last."""
    items.sort(
        key=lambda item: (
            1 if {"call", "browser", "stack"} & set(item.fixturenames) else 0,
            1 if item.get_closest_marker("after_the_faults") else 0,
        )
    )

from faults.jobs import broker_celery, job_dir, job_redis, receiver, start_worker  # noqa: E402,F401
