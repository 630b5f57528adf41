"""Two services in two threads, the first holding the session's lock while
the second starts: what the lock-order tests interleave (sessions_app.locks).
On PostgreSQL a wrong order ends in "deadlock detected"; the right one makes
the second wait. Each outcome is what the service returned or the error."""

import threading
import time

from django.db import connections

from sessions_app import locks

WAIT_SECONDS = 3
# How long the first holds the session before it goes on: time for the second
# to take whatever rows it takes first.
HOLD_SECONDS = 0.5


def run_while_the_session_is_held(monkeypatch, *, holder, waiter) -> dict:
    """``holder`` and ``waiter`` are (name, callable): the holder takes the
    session and keeps it HOLD_SECONDS; the waiter starts meanwhile. Returns
    {name: result or "error: …"}."""
    holds_session = threading.Event()
    original_session_lock = locks.session_lock
    holder_name, holder_call = holder
    waiter_name, waiter_call = waiter

    def interleaved_session_lock(session_id):
        session = original_session_lock(session_id)
        if threading.current_thread().name == holder_name:
            holds_session.set()
            time.sleep(HOLD_SECONDS)
        return session

    monkeypatch.setattr(locks, "session_lock", interleaved_session_lock)
    outcomes = {}

    def run(name, call, wait_first):
        try:
            if wait_first:
                holds_session.wait(WAIT_SECONDS)
            outcomes[name] = call()
        except Exception as error:
            outcomes[name] = f"error: {error!r}"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(holder_name, holder_call, False), name=holder_name),
        threading.Thread(target=run, args=(waiter_name, waiter_call, True), name=waiter_name),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
