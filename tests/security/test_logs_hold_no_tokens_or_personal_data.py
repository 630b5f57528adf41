"""A whole customer journey (open the link, accept the terms, join, the call
over both sockets, the operator's sign-in, answer, prompt, decision, end),
plus the things that make logs talk (a wrong link, a bad frame, a flood),
with every logger at DEBUG: nothing written holds the link token, a session
cookie, a CSRF token, a 43-character token-shaped string, the customer's
name or e-mail address, or the operator's password. Scanned as written
(through the product's formatter and filter) and as recorded (before them:
the filter is a safety net, not the plan)."""

import io
import logging
import logging.config
import re
import runpy
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from kyc.serve import AccessLog
from tests.consumers.helpers import ORIGIN, QUEUE_PATH, Socket, call_path, peer_id

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-1"
TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{43}(?![A-Za-z0-9_\-])")
LOGGERS = ["", "channels", "verity", "celery"]


@pytest.fixture
def all_logs(caplog, settings, monkeypatch):
    """The product's own logging configuration as LOG_LEVEL=DEBUG makes it,
    its console handler writing into a buffer; and every record before the
    handler's filter (caplog), from every logger, propagating or not."""
    written = io.StringIO()
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    config = runpy.run_path(str(Path(settings.BASE_DIR) / "kyc" / "settings.py"))["LOGGING"]
    config["handlers"]["console"]["stream"] = written
    touched = [logging.getLogger(name) for name in ["", *config["loggers"], *LOGGERS]]
    saved = [(logger, list(logger.handlers), logger.level, logger.propagate) for logger in touched]
    logging.config.dictConfig(config)
    caplog.handler.setLevel(logging.DEBUG)
    for name in LOGGERS + list(config["loggers"]):
        logging.getLogger(name).addHandler(caplog.handler)
    yield written, caplog
    # Put back the very handlers the run had (a fresh dictConfig would bind
    # new ones to whatever stderr is at this moment).
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


async def open_socket(sockets, path, client: Client) -> Socket:
    from channels.testing import WebsocketCommunicator

    from kyc.asgi import application

    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, (b"cookie", cookie.encode())])
    communicator.scope["client"] = ["192.0.2.77", 40000]
    socket = Socket(communicator, path)
    sockets.opened.append(socket)
    connected, _ = await communicator.connect(timeout=3)
    assert connected
    return socket


def http(function, *args, **kwargs):
    return database_sync_to_async(function)(*args, **kwargs)


async def test_a_whole_journey_logs_no_token_session_id_or_personal_data(sockets, live_call, operator_a, all_logs, settings):
    settings.SIGNALING_RATE_BURST = 5
    settings.SIGNALING_RATE_PER_SECOND = 0.1
    written, caplog = all_logs
    participant = live_call.participant
    customer, operator = Client(), Client()

    # The customer opens the link, accepts the terms and joins.
    assert (await http(customer.get, f"/v/{live_call.link_token}")).status_code == 302
    assert (await http(customer.get, "/call/")).status_code == 200
    assert (await http(customer.post, "/call/terms/accept", {"accept": "yes"})).status_code == 302
    assert (await http(customer.post, "/call/join")).status_code == 200
    # Somebody mistypes a link; somebody else's browser sends the customer's token in a referrer.
    assert (await http(Client().get, f"/v/{live_call.link_token[:-3]}xyz")).status_code == 404
    await http(Client().get, "/call/", HTTP_REFERER=f"https://mail.example/v/{live_call.link_token}")

    # The operator signs in with a password, sees the queue and answers.
    login = await http(operator.post, "/console/login/", {"username": "alice", "password": PASSWORD})
    assert login.status_code == 302
    await http(operator.post, "/console/login/", {"username": "alice", "password": "wrong " + PASSWORD})
    queue = await open_socket(sockets, QUEUE_PATH, operator)
    assert (await queue.receive())["type"] == "queue"
    session_hex = live_call.session.public_id.hex
    assert (await http(operator.post, f"/console/sessions/{session_hex}/answer")).status_code == 200
    assert (await http(operator.get, f"/console/calls/{session_hex}/")).status_code == 200

    # The call: both sockets, signals, a prompt, a bad frame, a flood.
    await http(live_call.session.refresh_from_db)
    op_socket = await (await open_socket(sockets, call_path(live_call.session), operator)).joined()
    customer_socket = await (await open_socket(sockets, call_path(live_call.session), customer)).joined()
    await op_socket.peers_joined(1)
    await customer_socket.peers_joined(1)
    await op_socket.send({"type": "signal", "to": peer_id(participant), "description": {"type": "offer", "sdp": "v=0 Max Mustermann"}})
    await customer_socket.receive_until("signal")
    await op_socket.send({"type": "prompt", "participant": peer_id(participant), "prompt": {"code": "question", "text": "Max, say your name"}})
    await customer_socket.send_text('{"type": "prompt", "text": "max@example.com"}')
    for _ in range(60):
        await customer_socket.send_text("not json max@example.com")
    await customer_socket.closed_with(4429)

    # The decision, and the end.
    await http(
        operator.post,
        f"/console/calls/{session_hex}/decide",
        {"participant": peer_id(participant), "outcome": "approve", "reason_code": "verified", "comment": "Max Mustermann, max@example.com"},
    )
    assert (await http(operator.post, f"/console/calls/{session_hex}/end")).status_code == 200
    await http(operator.post, "/console/logout/")
    # daphne's access log for the link request, as kyc.serve writes it.
    AccessLog()("http", "complete", {"client": "192.0.2.77:40000", "method": "GET", "path": f"/v/{live_call.link_token}", "status": 302, "size": 0})

    secrets_ = {
        "link token": live_call.link_token,
        "customer session": customer.cookies[settings.SESSION_COOKIE_NAME].value,
        "operator session": login.cookies[settings.SESSION_COOKIE_NAME].value,
        "password": PASSWORD,
        "name": "Mustermann",
        "e-mail": "max@example.com",
    }
    raw = "\n".join(
        record.getMessage() + (caplog.handler.formatter.formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
    )
    output = written.getvalue()
    assert caplog.records, "nothing was logged: the capture does not work"
    assert "rejected frame" in output and "/v/[redacted]" in output
    for label, secret in secrets_.items():
        assert secret not in output, f"{label} written to the log"
    for label, secret in secrets_.items():
        if label != "link token":  # the access log entry and django's "Not Found" carry the path before the filter
            assert secret not in raw, f"{label} recorded in a log record"
    assert TOKEN_SHAPED.findall(output) == []
    for line in output.splitlines():
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line), line
