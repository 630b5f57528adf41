"""Load kyc.settings in a fresh Python process with a controlled environment,
so a test can look at what a given environment produces without touching the
settings of the test process itself."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

_PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
from kyc.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECRET_KEY": settings.SECRET_KEY,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "db_engine": db["ENGINE"],
    "db_name": str(db["NAME"]),
    "db_host": db.get("HOST"),
    "db_options": db.get("OPTIONS", {}),
    "db_conn_max_age": db.get("CONN_MAX_AGE"),
    "channel_backend": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "channel_config": settings.CHANNEL_LAYERS["default"].get("CONFIG"),
    "CELERY_TASK_ALWAYS_EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
    "CELERY_TASK_ACKS_LATE": settings.CELERY_TASK_ACKS_LATE,
    "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    "celery_app_eager": app.conf.task_always_eager,
    "celery_app_acks_late": app.conf.task_acks_late,
    "celery_app_reject_on_worker_lost": app.conf.task_reject_on_worker_lost,
    "celery_app_broker": app.conf.broker_url,
}))
"""


def controlled_env(var_dir: Path, **variables: str) -> dict:
    """Only what Python needs plus the given variables: nothing of the
    caller's DATABASE_URL, REDIS_URL, SECRET_KEY, ... leaks in."""
    env = {key: os.environ[key] for key in ("PATH", "LANG", "SYSTEMROOT") if key in os.environ}
    env.update(DJANGO_SETTINGS_MODULE="kyc.settings", VERITY_VAR_DIR=str(var_dir), PYTHONDONTWRITEBYTECODE="1")
    env.update(variables)
    return env


def run_python(var_dir: Path, code: str, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=controlled_env(var_dir, **variables),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_manage(var_dir: Path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=controlled_env(var_dir, **variables),
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_for(var_dir: Path, **variables: str) -> dict:
    result = run_python(var_dir, _PRINT_SETTINGS, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
