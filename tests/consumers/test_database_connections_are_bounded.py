"""Connections kept or pooled (kyc/settings.py, "Signaling off the database")
do not pile up: after many sockets and page loads opened and closed, the
database holds no more connections than the pool allows (PostgreSQL:
pg_stat_activity) or the process no more handles on the file (SQLite)."""

import os
from urllib.parse import urlparse

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.conf import settings
from django.db import connection

from kyc.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 40


def _postgres_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _sqlite_handles() -> int:
    name = os.path.realpath(connection.settings_dict["NAME"])
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target == name:
            count += 1
    return count


def _open_connections() -> int:
    return _postgres_backends() if connection.vendor == "postgresql" else _sqlite_handles()


async def test_many_sockets_and_page_loads_leave_the_connections_bounded(sockets, waiting_call):
    path = urlparse(waiting_call.link_url).path
    for _ in range(ROUNDS):
        customer = await sockets.customer(waiting_call.participant)
        assert await customer.heartbeat_answered()
        await customer.disconnect()
        page = HttpCommunicator(application, "GET", path, headers=[(b"host", b"127.0.0.1:8000")])
        assert (await page.get_response(timeout=10))["status"] in (200, 302)

    held = await database_sync_to_async(_open_connections)()

    if connection.vendor == "postgresql":
        # The pool's connections, this test's own, and a few of the server's.
        assert held <= settings.DATABASE_POOL_MAX_SIZE + 4, held
    else:
        # The database thread's kept connection, the test's, a page's thread
        # or two not yet collected: nothing near one per round.
        assert held <= 8, held
