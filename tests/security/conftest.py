"""Security tests: the named people of tests/conftest.py, plus clean
throttles (the cache outlives a test; with REDIS_URL it outlives the run)."""

import pytest

from kyc import throttle
from tests.compliance.conftest import superuser  # noqa: F401  (fixture shared with the compliance tests)
from tests.consumers.conftest import answered_other_call, sockets  # noqa: F401  (fixtures shared with the consumer tests)
from tests.security.admin_world import admin_world  # noqa: F401  (fixture of the per-business admin tests)

TEST_CLIENT_IP = "127.0.0.1"  # django.test.Client's REMOTE_ADDR


@pytest.fixture(autouse=True)
def _clean_throttles(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    throttle.link_throttle_forget(TEST_CLIENT_IP)
    throttle.ip_frame_budget().buckets.clear()
    yield
    throttle.link_throttle_forget(TEST_CLIENT_IP)
    throttle.ip_frame_budget().buckets.clear()

