"""The evidence path on every store: the recording's and the console's
people (tests/recording/conftest.py, tests/console/conftest.py), and the
stores of tests/evidence_stores.py."""

from tests.console.conftest import document_capture  # noqa: F401
from tests.recording.conftest import (  # noqa: F401
    _fast_password_hashing,
    alice,
    carol,
    celery_eager,
    customer,
    webm_media,
)
