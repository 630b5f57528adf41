"""Fixtures of the job scenarios: the test's own database, committed for
real (``django_db(transaction=True)``), shared with real ``celery -A kyc
worker`` processes over our own Redis as the broker."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from faults.services import CeleryWorker, RedisServer, WebhookReceiver


def test_database_url() -> str:
    """The URL of the database this test runs on, for a worker process."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"  # NAME is absolute: sqlite:////tmp/...
    auth = ""
    if db.get("USER"):
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "") + "@"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{auth}{db.get('HOST') or '127.0.0.1'}{port}/{db['NAME']}"


test_database_url.__test__ = False  # not a test, whatever its name says


@pytest.fixture(scope="module")
def job_redis():
    workdir = Path(tempfile.mkdtemp(prefix="verity-faults-jobs-"))
    redis = RedisServer(workdir).start()
    yield redis
    redis.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture()
def job_dir(settings):
    # Not tmp_path: pytest runs of other people on this machine prune
    # /tmp/pytest-of-*/ while ours still uses it.
    workdir = Path(tempfile.mkdtemp(prefix="verity-faults-job-"))
    settings.EVIDENCE_ROOT = workdir / "evidence"
    yield workdir
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture()
def broker_celery(settings, job_redis):
    """Tasks sent from this process go to our Redis, for the workers."""
    from kyc.celery import app

    previous = (app.conf.broker_url, app.conf.task_always_eager)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _forget_broker_connections(app)
    app.conf.broker_url = job_redis.url(1)
    app.conf.task_always_eager = False
    yield app
    _forget_broker_connections(app)
    app.conf.broker_url, app.conf.task_always_eager = previous


def _forget_broker_connections(app):
    """Drop the connection and producer pools made for another broker (an
    earlier test's, or the in-memory one): a task sent through them would
    never reach this test's Redis. Celery has no public call for this. Not
    closed: kombu keeps them in global pool groups, per broker URL, and hands
    a closed one out again."""
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture()
def start_worker(job_redis, job_dir, broker_celery):
    """Start real workers on this test's database; all stopped afterwards."""
    started = []

    def start(*, beat=False, include=None, name="w", extra_env=None) -> CeleryWorker:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "kyc.settings",
                "DATABASE_URL": test_database_url(),
                "REDIS_URL": job_redis.url(1),
                "VERITY_VAR_DIR": str(job_dir / "var"),
                "EVIDENCE_ROOT": str(job_dir / "evidence"),
                "PYTHONUNBUFFERED": "1",
                **(extra_env or {}),
            }
        )
        worker = CeleryWorker(env, job_dir, beat=beat, include=include, name=f"{name}{len(started)}")
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture()
def receiver(business_a):
    """Business A's webhook endpoint."""
    from accounts.models import Business

    running = WebhookReceiver().start()
    Business.objects.filter(pk=business_a.pk).update(webhook_url=running.url)
    business_a.refresh_from_db()
    yield running
    running.stop()
