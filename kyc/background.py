"""Embedded mode's stand-in for a Celery worker: a named thread in the web
process, first in first out, and for CPU-bound work a worker process beside it.

Under daphne every synchronous view and database call shares one thread;
seconds of OCR or minutes of video composition there would stall every
call's signaling and hold the request that asked for them. Each kind of
work gets its own thread ("checks", "compose"), so a long composition never
delays a check the operator is waiting for. With a broker none of this runs:
the work goes to the Celery workers.

A thread is not enough for the checks: some native code holds Python's
global lock for seconds (dlib's CNN face detector, the last resort on a
frame where no other detector finds a face: a liveness frame with the head
turned, a camera pointed at a document) and the whole web process, every
call's signaling included, stood still meanwhile. So the checks thread hands
each piece of work to a worker process (``in_worker_process``), waits for it,
and sends on what the work told the browsers (kyc/realtime.py collects it
there: the in-memory channel layer does not cross processes).
"""

import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor

from asgiref.sync import SyncToAsync
from django.db import connection

from kyc import realtime

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
    # Called from a request's thread under daphne: the server's event loop.
    # The work's nudges to the browsers go through it (kyc/realtime.py: the
    # in-memory channel layer's queues belong to that loop).
    loop = None
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid():
        loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)

    def run():
        realtime.send_through(loop)
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


# --- the worker process -------------------------------------------------------------

# The checks yield the processor to the calls: niceness added to the worker's.
WORKER_NICENESS = 10
# How often the worker looks whether its web process is still there.
ORPHAN_CHECK_SECONDS = 2

_worker: ProcessPoolExecutor | None = None
_worker_lock = threading.Lock()


def _worker_start() -> None:
    import django

    # Ctrl-C in `make run` reaches the whole process group: the web process
    # stops its worker, which must not die mid-work with a traceback first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A web process killed outright (SIGKILL, the out-of-memory killer) never
    # stops its worker, which would wait for work forever: it leaves when its
    # parent has gone.
    parent = os.getppid()
    threading.Thread(target=_leave_when_orphaned, args=(parent,), daemon=True, name="verity-worker-watch").start()
    os.nice(WORKER_NICENESS)
    django.setup()


def _leave_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os._exit(0)


def _worker_pool() -> ProcessPoolExecutor:
    global _worker
    with _worker_lock:
        if _worker is None:
            # spawn, not fork: the web process has threads (a fork would copy
            # locks held by them) and an event loop.
            _worker = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start
            )
        return _worker


class WorkFailed(Exception):
    """The work raised in the worker process: ``error`` is what it raised
    (or its text), ``told`` what it had told the browsers before."""

    def __init__(self, error: BaseException, told: list):
        super().__init__(repr(error))
        try:
            pickle.dumps(error)
        except Exception:  # noqa: BLE001 - what cannot cross the process boundary goes as text
            error = RuntimeError(repr(error))
        self.error = error
        self.told = told

    def __reduce__(self):
        return (WorkFailed, (self.error, self.told))


def _in_worker(function, args, kwargs) -> list:
    """In the worker process: run, and return what it told the browsers.
    A failure carries them too: results stored before it must still reach
    the pages."""
    with realtime.collected() as told:
        try:
            function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - sent back whole, raised again in the web process
            raise WorkFailed(error, list(told)) from None
        finally:
            connection.close()
    return told


def in_worker_process(function, *args, timeout: float | None = None, **kwargs) -> None:
    """Run ``function(*args, **kwargs)`` in the worker process (started on
    first use, one per web process; ``function`` must be importable by name)
    and wait for it; then send what it told the browsers from here (all at
    once, when it is done). Raises what the function raised. A worker that
    died (killed, out of memory; also while idle) is replaced and the work
    tried once more; one that overran ``timeout`` seconds (native code that
    never returns) is killed and replaced, and this work raises TimeoutError."""
    for attempt in (1, 2):
        pool = _worker_pool()
        try:
            told = pool.submit(_in_worker, function, args, kwargs).result(timeout=timeout)
        except BrokenProcessPool:
            _worker_discard(pool)
            if attempt == 2:
                raise
            logger.warning("the worker process had died: a new one takes %s", getattr(function, "__name__", function))
            continue
        except TimeoutError:
            _worker_discard(pool, kill=True)
            raise
        except WorkFailed as failed:
            realtime.send_collected(failed.told)
            raise failed.error from None
        realtime.send_collected(told)
        return


def _worker_discard(pool: ProcessPoolExecutor, *, kill: bool = False) -> None:
    global _worker
    with _worker_lock:
        if _worker is pool:
            _worker = None
    if kill:
        # No public way before Python 3.14 (terminate_workers).
        for process in list((pool._processes or {}).values()):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
