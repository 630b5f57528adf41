"""Where the checks run without a broker (settings.CHECKS_EMBEDDED_MODE):
in the background in production, here and now, or not at all, which is
what tests that are not about the checks get (tests/conftest.py)."""

import threading

import pytest

from kyc.celery import app
from sessions_app.models import Evidence
from tests.checks import fakes
from tests.unit.settings_subprocess import run_python, settings_for
from workflows import tasks
from workflows.models import CheckResult
from workflows.tasks import run_checks_for_evidence


@pytest.fixture
def eager():
    """Celery as in embedded mode, whatever REDIS_URL says."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_production_default_is_the_background_thread(tmp_path):
    result = run_python(tmp_path, "import django; django.setup(); from django.conf import settings; "
                                  "print(settings.CHECKS_EMBEDDED_MODE)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "background"


def test_a_mode_that_does_not_exist_stops_start_up(tmp_path):
    result = run_python(tmp_path, "import django; django.setup()", CHECKS_EMBEDDED_MODE="sometimes")
    assert result.returncode != 0
    assert "CHECKS_EMBEDDED_MODE='sometimes' is not one of background, inline, off" in result.stderr


def test_settings_still_load_with_the_mode_set(tmp_path):
    assert settings_for(tmp_path, CHECKS_EMBEDDED_MODE="inline")["DEBUG"] is False


def test_tests_that_do_not_ask_run_no_checks(live_call, eager):
    evidence = fakes.capture(live_call.participant, Evidence.Kind.FACE)
    assert run_checks_for_evidence.delay(evidence.pk).get() == []
    tasks.background_pool_wait()
    assert not CheckResult.objects.filter(evidence=evidence).exists()


@pytest.mark.checks("inline")
def test_inline_mode_runs_the_checks_in_the_callers_thread(live_call, eager):
    evidence = fakes.capture(live_call.participant, Evidence.Kind.FACE)
    stored = run_checks_for_evidence.delay(evidence.pk).get()
    assert [result["kind"] for result in stored] == ["quality"]
    assert CheckResult.objects.filter(evidence=evidence, kind="quality").exists()


@pytest.mark.checks("background")
@pytest.mark.django_db(transaction=True)
def test_background_work_is_waited_for_before_the_test_ends(live_call, eager, monkeypatch):
    """The teardown hook waits for the thread, so it never reads a flushed database."""
    monkeypatch.setattr(tasks.kyc_background, "in_worker_process", lambda function, *args, timeout=None: function(*args))
    started = threading.Event()
    monkeypatch.setattr(tasks.check_services, "evidence_run_checks", lambda **kw: started.wait(5) or [])
    run_checks_for_evidence.delay(1)
    started.set()
    tasks.background_pool_wait(timeout=10)
