"""Telling connected browsers that something changed.

Every message here is a nudge, never the data itself: the receiving consumer
reloads what its client may see from the database. Channel layers deliver at
most once, so a lost nudge only delays a client until its next resync.
Messages are sent after commit, so nobody is told about a row that could
still roll back.
"""

import asyncio
import contextlib
import logging
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def session_group(session_public_id) -> str:
    return f"call.{session_public_id.hex}"


def queue_group(business_id: int) -> str:
    return f"queue.{business_id}"


# In a worker process (kyc/background.py) messages are kept here and sent by
# the web process once the work is done: the in-memory channel layer does not
# cross processes.
_collecting: list | None = None


@contextlib.contextmanager
def collected():
    """Keep the messages sent inside instead of sending them; yields the list."""
    global _collecting
    outer, _collecting = _collecting, []
    try:
        yield _collecting
    finally:
        _collecting = outer


def send_collected(messages: list) -> None:
    for group, message in messages:
        _group_send(group, message)


# A background thread of the web process (kyc/background.py) sends through
# the server's event loop, which owns the in-memory layer's queues, and only
# while it runs: at shutdown a send would wait for a loop that never turns.
_thread = threading.local()
SEND_TIMEOUT_SECONDS = 10


def send_through(loop) -> None:
    """Messages sent from this thread go through ``loop`` (None: the usual
    way, async_to_sync)."""
    _thread.loop = loop


def _group_send(group: str, message: dict) -> None:
    if _collecting is not None:
        _collecting.append((group, message))
        return
    layer = get_channel_layer()
    if layer is None:
        return
    loop = getattr(_thread, "loop", None)
    try:
        if loop is None:
            async_to_sync(layer.group_send)(group, message)
        elif loop.is_running():
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).result(SEND_TIMEOUT_SECONDS)
        else:
            logger.info("not notifying group %s: the server is stopping", group)
    except Exception:  # the database is the truth; clients resync on their own
        logger.warning("could not notify group %s", group, exc_info=True)


def session_changed_on_commit(session) -> None:
    """The nudge names the state version the change made: a socket that has
    already sent its page a state at least that new skips it, so a burst of
    changes queued behind a slow read costs one read, not one each."""
    group = session_group(session.public_id)
    message = {"type": "session.changed", "version": session.state_version}
    transaction.on_commit(lambda: _group_send(group, message))


def call_ended_on_commit(session) -> None:
    group = session_group(session.public_id)
    transaction.on_commit(lambda: _group_send(group, {"type": "call.ended"}))


def queue_changed_on_commit(business_id: int) -> None:
    group = queue_group(business_id)
    transaction.on_commit(lambda: _group_send(group, {"type": "queue.changed"}))
