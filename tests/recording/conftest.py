"""The recording's people and media.

- ``alice`` is Alice's browser (``operator_a``, Alpha Bank), the operator of
  ``answered_call``; ``anton`` her colleague, not on the call.
- ``bob`` is Bob's (``operator_b``, Beta Bank); ``oscar`` the outsider;
  ``anonymous`` is not logged in; ``customer`` is the customer's browser.
- ``carol`` is the compliance reviewer's browser (``compliance_user``).
- ``webm_media`` are short WebM files made by ffmpeg (VP8 + Opus, like
  Chromium's MediaRecorder), for the compose tests that need no browser.

Celery runs eagerly here whatever the environment (CI also runs the suite
with REDIS_URL set, where nothing would consume the queue).
"""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client

from tests.console.helpers import customer_browser, operator_browser


@pytest.fixture(autouse=True)
def celery_eager(settings):
    from kyc.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(operator_a):
    return operator_browser(operator_a.user)


@pytest.fixture
def anton(operator_a2):
    return operator_browser(operator_a2.user)


@pytest.fixture
def bob(operator_b):
    return operator_browser(operator_b.user)


@pytest.fixture
def oscar(outsider):
    return operator_browser(outsider)


@pytest.fixture
def carol(compliance_user):
    return operator_browser(compliance_user)


@pytest.fixture
def anonymous(db):
    return Client()


@pytest.fixture
def customer(answered_call):
    return customer_browser(answered_call.link_token)


@dataclass(frozen=True)
class WebmMedia:
    customer: Path  # 4 s, 640x480, a tone
    operator: Path  # 4 s, 320x240, another tone
    audio_only: Path  # 3 s of Opus


def _make(path: Path, *inputs: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", *inputs, "-c:v", "libvpx", "-b:v", "400k", "-deadline",
         "realtime", "-cpu-used", "8", "-c:a", "libopus", "-f", "webm", str(path)],
        check=True,
        timeout=120,
    )
    return path


@pytest.fixture(scope="session")
def webm_media(tmp_path_factory) -> WebmMedia:
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed (make browser installs it)")
    folder = tmp_path_factory.mktemp("webm")
    return WebmMedia(
        customer=_make(
            folder / "customer.webm",
            "-f", "lavfi", "-i", "testsrc=s=640x480:r=20:d=4", "-f", "lavfi", "-i", "sine=f=440:d=4",
        ),
        operator=_make(
            folder / "operator.webm",
            "-f", "lavfi", "-i", "testsrc2=s=320x240:r=20:d=4", "-f", "lavfi", "-i", "sine=f=660:d=4",
        ),
        audio_only=_make(folder / "audio.webm", "-f", "lavfi", "-i", "sine=f=330:d=3", "-vn"),
    )
