"""Embedded mode's stand-in for a Celery worker: a named thread in the web
process, first in first out.

Under daphne every synchronous view and database call shares one thread;
seconds of OCR or minutes of video composition there would stall every
call's signaling and hold the request that asked for them. Each kind of
work gets its own thread ("checks", "compose"), so a long composition never
delays a check the operator is waiting for. With a broker none of this runs:
the work goes to the Celery workers.
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

logger = logging.getLogger(__name__)

_pools: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def background_pool(name: str) -> ThreadPoolExecutor:
    with _lock:
        pool = _pools.get(name)
        if pool is None:
            pool = _pools[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"verity-{name}")
        return pool


def background_submit(name: str, function, *args, **kwargs) -> None:
    """Run ``function(*args, **kwargs)`` on the named thread. Nobody waits for it: a
    failure is logged, and the thread's database connection is closed after
    each piece of work (it would otherwise outlive the request's)."""

    def run():
        try:
            function(*args, **kwargs)
        except Exception:  # noqa: BLE001 - nobody waits for this thread: log it
            logger.exception("background %s work %s%r%r failed", name, getattr(function, "__name__", function), args, kwargs)
        finally:
            connection.close()

    background_pool(name).submit(run)


def background_wait(timeout: float = 300) -> None:
    """Return once every piece of work handed to any background thread so far
    has finished. For tests: nothing may outlive the test database it reads."""
    with _lock:
        pools = list(_pools.values())
    for pool in pools:
        pool.submit(lambda: None).result(timeout=timeout)
