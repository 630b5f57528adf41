"""The SMS backends (kyc.sms): console, file, and HTTP against a local server."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kyc.sms import ConsoleBackend, DisabledBackend, FileBackend, HttpBackend, Sms, SmsNotSent, sms_backend, sms_send


class _Provider(BaseHTTPRequestHandler):
    status = 202
    delay = 0.0
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
        if self.delay:
            threading.Event().wait(self.delay)
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        payload = b'{"error": "number blocked"}' if self.status >= 400 else b"{}"
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def provider(settings):
    """A local SMS provider; the egress policy lets the test reach it."""
    handler = type("Provider", (_Provider,), {"received": [], "status": 202, "delay": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/messages"
    settings.SMS_HTTP_TOKEN = "provider-token"
    yield handler
    server.shutdown()
    server.server_close()


def test_the_console_backend_logs_the_message(caplog):
    with caplog.at_level(logging.INFO, logger="kyc.sms"):
        ConsoleBackend().send(Sms(to="+4915112345678", text="123456 is your code", sender="Verity"))
    assert "+4915112345678" in caplog.text and "123456 is your code" in caplog.text


def test_the_file_backend_appends_one_json_line_per_message(settings, tmp_path):
    settings.SMS_BACKEND = "kyc.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    sms_send(to="+4915112345678", text="first")
    sms_send(to="+33612345678", text="second")
    lines = [json.loads(line) for line in (tmp_path / "sms" / "messages.jsonl").read_text().splitlines()]
    assert [(m["to"], m["text"]) for m in lines] == [("+4915112345678", "first"), ("+33612345678", "second")]
    assert lines[0]["from"] == settings.SMS_SENDER and lines[0]["at"]


def test_the_file_backend_says_when_it_cannot_write(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(SmsNotSent, match="could not be written"):
        FileBackend(str(blocker)).send(Sms(to="+4915112345678", text="x"))


def test_the_setting_chooses_the_backend(settings):
    settings.SMS_BACKEND = "kyc.sms.HttpBackend"
    assert isinstance(sms_backend(), HttpBackend)


def test_the_http_backend_posts_json_with_the_bearer_token(provider):
    HttpBackend().send(Sms(to="+4915112345678", text="123456 is your code", sender="Verity"))
    (request,) = provider.received
    assert request["path"] == "/messages"
    assert request["headers"]["Authorization"] == "Bearer provider-token"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {"to": "+4915112345678", "from": "Verity", "text": "123456 is your code"}


def test_the_http_backend_says_what_the_provider_refused(provider):
    provider.status = 422
    with pytest.raises(SmsNotSent, match=r"refused the message \(HTTP 422\)\.$") as refused:
        HttpBackend().send(Sms(to="+4915112345678", text="123456 is your code"))
    # The provider's answer may echo the text, and with it the code: the
    # message (shown to the operator, audited) carries the status only.
    assert "number blocked" not in str(refused.value)


def test_the_disabled_backend_refuses_every_message():
    with pytest.raises(SmsNotSent, match="sends no SMS"):
        DisabledBackend().send(Sms(to="+4915112345678", text="x"))


def test_the_http_backend_gives_up_after_its_timeout(provider):
    provider.delay = 1.5
    with pytest.raises(SmsNotSent, match="did not answer within 0.5 s"):
        HttpBackend(timeout=0.5).send(Sms(to="+4915112345678", text="x"))


def test_the_http_backend_goes_through_the_egress_policy(provider, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(SmsNotSent, match="refused: .*loopback"):
        HttpBackend().send(Sms(to="+4915112345678", text="x"))
    assert provider.received == []


def test_the_http_backend_without_a_url_says_so(settings):
    settings.SMS_HTTP_URL = ""
    with pytest.raises(SmsNotSent, match="SMS_HTTP_URL"):
        HttpBackend().send(Sms(to="+4915112345678", text="x"))


def test_an_unreachable_provider_is_a_clear_error(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with pytest.raises(SmsNotSent, match="could not be reached"):
        HttpBackend(url="http://127.0.0.1:9/messages", token="t", timeout=2).send(Sms(to="+4915112345678", text="x"))
