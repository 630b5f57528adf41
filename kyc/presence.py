"""Presence: who is still there, kept as leases in a cache, not in the database.

Every page beats (the call socket's and the console's heartbeat, every 10 s).
Writing each beat to the database cost a connection and a write on the one
thread ``database_sync_to_async`` uses, so relayed frames and connects queued
behind 200 writes a second at 2,000 sockets. A beat now renews a lease in the
``presence`` cache (Redis with REDIS_URL, shared by every daphne process and
the Celery workers; the process's memory in the embedded mode, which is one
process). The database hears only of changes: a join writes ``last_seen_at``,
a departure or a lapse moves the state (sessions_app.housekeeping).

Whoever asks "is X still here?" combines both (``presence_seen_at``): the
database's ``last_seen_at`` (the join, or the grace a closed socket was
given) and the lease's last beat, whichever is newer.

A lease can be lost without its owner going away: Redis restarted, or the
embedded process restarted. Absence of a lease is therefore only trusted once
the store has existed for a whole lease window (``presence_store_trusted``);
until then everyone whose pages still beat has renewed theirs.
"""

import time
from collections.abc import Iterable
from datetime import datetime, timezone

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches

PRESENCE_CACHE = "presence"
_EPOCH_KEY = "presence:epoch"


def _store():
    return caches[PRESENCE_CACHE]


def _key(kind: str, pk) -> str:
    return f"presence:{kind}:{pk}"


def _lease_seconds() -> int:
    # Long enough for both questions asked of it: the queue's (presence
    # timeout) and the call's (resume window).
    return max(settings.PRESENCE_TIMEOUT_SECONDS, settings.CALL_RESUME_WINDOW_SECONDS) + 5


def presence_beat(kind: str, pk, *, now: float | None = None) -> None:
    """``kind`` ``pk`` was heard from now: one cache write, no database."""
    now = time.time() if now is None else now
    _store().set(_key(kind, pk), now, timeout=_lease_seconds())


def presence_beat_many(beats: Iterable[tuple[str, object]], *, now: float | None = None) -> None:
    now = time.time() if now is None else now
    _store().set_many({_key(kind, pk): now for kind, pk in beats}, timeout=_lease_seconds())


def presence_forget(kind: str, pk) -> None:
    """The lease ends now (a socket closed; the database keeps the grace)."""
    _store().delete(_key(kind, pk))


def presence_store_trusted(*, now: float | None = None) -> bool:
    """True once a missing lease means a page stopped beating, not that the
    store was emptied (restarted) less than a lease window ago. The epoch is
    set by the first reader after the store starts empty, so the beats that
    follow a restart always have a whole window to arrive."""
    now = time.time() if now is None else now
    store = _store()
    store.add(_EPOCH_KEY, now, timeout=None)
    since = store.get(_EPOCH_KEY, now)
    return now - since >= settings.PRESENCE_TIMEOUT_SECONDS


def presence_store_reset(*, since: float | None = None) -> None:
    """Say the store started at ``since`` (now by default): as after a
    restart, missing leases are not trusted for a lease window (tests)."""
    _store().set(_EPOCH_KEY, time.time() if since is None else since, timeout=None)


def presence_beats(kind: str, pks: Iterable) -> dict:
    """The last beat of each of ``pks`` that still has a lease (epoch seconds)."""
    pks = list(pks)
    if not pks:
        return {}
    found = _store().get_many([_key(kind, pk) for pk in pks])
    return {pk: found[_key(kind, pk)] for pk in pks if _key(kind, pk) in found}


def presence_seen_at(kind: str, rows: Iterable, *, now: float | None = None) -> dict:
    """When each row (a model with ``pk`` and ``last_seen_at``) was last heard
    from: the newer of its database stamp and its lease. While the store is not
    trusted yet (see the module's docstring), anyone with a database stamp
    counts as seen now: they had no chance to beat into the new store."""
    rows = list(rows)
    now = time.time() if now is None else now
    beats = presence_beats(kind, [row.pk for row in rows])
    trusted = presence_store_trusted(now=now)
    seen = {}
    for row in rows:
        stamps = [row.last_seen_at] if row.last_seen_at else []
        if row.pk in beats:
            stamps.append(datetime.fromtimestamp(beats[row.pk], tz=timezone.utc))
        elif not trusted and row.last_seen_at:
            stamps.append(datetime.fromtimestamp(now, tz=timezone.utc))
        seen[row.pk] = max(stamps) if stamps else None
    return seen


# The consumers beat from the event loop. Django's async cache methods run
# on the one thread database_sync_to_async uses (thread_sensitive), where
# the beat would queue behind every connect's queries: a beat runs in the
# general thread pool instead (the cache clients are thread-safe).
apresence_beat = sync_to_async(presence_beat, thread_sensitive=False)
apresence_forget = sync_to_async(presence_forget, thread_sensitive=False)
