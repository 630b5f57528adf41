"""Verity's settings with database connections kept between calls (what the
signaling benchmark's `redis-reuse` configuration runs, to show what the
per-call connection costs). Not for production as it is: see the benchmark's
notes in README.md."""

from kyc.settings import *  # noqa: F403
from kyc.settings import DATABASES

# database_sync_to_async runs the consumers' database work in one thread;
# with a lifetime the connection there is reused instead of opened and
# closed around every call (health-checked before reuse).
DATABASES["default"]["CONN_MAX_AGE"] = 300
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
