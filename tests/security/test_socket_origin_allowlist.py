"""Cross-site websocket hijacking: a page of another site, carrying the
victim's own cookie, opens neither socket (kyc.asgi.SiteOriginValidator).

Another site includes the site's own host on another port or scheme: a
program on the same machine (http://127.0.0.1:9999) or the host without TLS.
Reproduces the finding that those were accepted, the origin's host alone
being compared with ALLOWED_HOSTS (with an operator's cookie the queue
socket answered)."""

import pytest
from channels.db import database_sync_to_async

from tests.consumers.helpers import (
    QUEUE_PATH,
    call_path,
    customer_session_key,
    user_session_key,
)

pytestmark = pytest.mark.django_db(transaction=True)

FOREIGN = [
    (b"origin", b"https://evil.example"),
    (b"origin", b"http://127.0.0.1.evil.example"),
    (b"origin", b"null"),
    None,  # no Origin at all
    (b"origin", b"http://127.0.0.1:9999"),  # the site's host, another port
    (b"origin", b"https://127.0.0.1"),  # the site's host, another scheme and port
    (b"origin", b"http://127.0.0.1"),  # the default port is a port too
    (b"origin", b"http://localhost:8000"),  # an allowed host, but not the site's origin
]
FOREIGN_IDS = ["evil", "lookalike", "null", "none", "other-port", "other-scheme", "default-port", "other-host"]


@pytest.mark.parametrize("origin", FOREIGN, ids=FOREIGN_IDS)
async def test_call_socket_refuses_a_foreign_origin_for_operator_and_customer(sockets, answered_call, operator_a, origin):
    operator_key = await database_sync_to_async(user_session_key)(operator_a.user)
    customer_key = await database_sync_to_async(customer_session_key)(answered_call.participant)
    await sockets.open_refused(call_path(answered_call.session), session_key=operator_key, origin=origin)
    await sockets.open_refused(call_path(answered_call.session), session_key=customer_key, origin=origin)


@pytest.mark.parametrize("origin", FOREIGN, ids=FOREIGN_IDS)
async def test_queue_socket_refuses_a_foreign_origin(sockets, operator_a, origin):
    key = await database_sync_to_async(user_session_key)(operator_a.user)
    await sockets.open_refused(QUEUE_PATH, session_key=key, origin=origin)


async def test_an_origin_in_csrf_trusted_origins_opens_the_queue(sockets, operator_a, settings):
    """The site may be reached under a second name (CSRF_TRUSTED_ORIGINS): exactly that origin."""
    settings.CSRF_TRUSTED_ORIGINS = [*settings.CSRF_TRUSTED_ORIGINS, "https://kyc.example.com"]
    key = await database_sync_to_async(user_session_key)(operator_a.user)
    await sockets.open_refused(QUEUE_PATH, session_key=key, origin=(b"origin", b"https://kyc.example.com:8443"))
    socket = await sockets.open(QUEUE_PATH, session_key=key, origin=(b"origin", b"https://kyc.example.com"))
    assert (await socket.receive())["type"] == "queue"


async def test_own_origin_opens_both(sockets, answered_call, operator_a):
    assert (await (await sockets.user(QUEUE_PATH, operator_a.user)).receive())["type"] == "queue"
    assert (await sockets.operator(operator_a, answered_call.session)).welcome["type"] == "welcome"
