"""Text messages (SMS), sent through a backend chosen by a setting, like
Django's e-mail backends: ``SMS_BACKEND`` is a dotted path.

- ``ConsoleBackend`` logs the message (development).
- ``FileBackend`` appends one JSON line per message to
  ``SMS_FILE_PATH/messages.jsonl`` (development and the tests read it).
- ``DisabledBackend`` refuses every message (a deployment without SMS).
- ``HttpBackend`` POSTs ``{"to", "from", "text"}`` as JSON to ``SMS_HTTP_URL``
  with ``Authorization: Bearer SMS_HTTP_TOKEN`` (the provider, or a small
  adapter in front of it). It goes through the product's egress policy
  (kyc.egress, the same rules as a business's webhook): the provider's URL is
  the deployment's, but one typo must not make the worker talk to
  ``http://169.254.169.254/``.

A backend raises ``SmsNotSent`` with a message a person can act on when the
message did not leave; callers retry or tell the operator.

The text of a message may carry a secret (a one-time code): the console
backend logs it because a developer needs to read it, but nothing else here
logs the text.
"""

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from kyc.egress import EgressRefused, egress_post, webhook_policy

logger = logging.getLogger(__name__)


class SmsNotSent(Exception):
    """The message did not leave. The message says why, for the operator's
    panel and the log (never with the message's text)."""


@dataclass(frozen=True)
class Sms:
    to: str  # E.164
    text: str
    sender: str = ""


class BaseBackend:
    def send(self, message: Sms) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    def send(self, message: Sms) -> None:
        logger.info("SMS to %s from %s: %s", message.to, message.sender, message.text)


class FileBackend(BaseBackend):
    """One JSON line per message in ``SMS_FILE_PATH/messages.jsonl``; a lock
    keeps two threads' lines whole."""

    _lock = threading.Lock()

    def __init__(self, path: str | None = None):
        self.directory = Path(path or settings.SMS_FILE_PATH)

    @property
    def file(self) -> Path:
        return self.directory / "messages.jsonl"

    def send(self, message: Sms) -> None:
        line = json.dumps(
            {"to": message.to, "from": message.sender, "text": message.text, "at": datetime.now(timezone.utc).isoformat()}
        )
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._lock, open(self.file, "a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            raise SmsNotSent(f"The SMS could not be written to {self.file}: {exc.strerror or exc}.") from exc


class DisabledBackend(BaseBackend):
    """A deployment that sends no SMS: every message is refused, clearly, so a
    one-time code by SMS is never reported as sent."""

    def send(self, message: Sms) -> None:
        raise SmsNotSent("This deployment sends no SMS (SMS_BACKEND is kyc.sms.DisabledBackend).")


class HttpBackend(BaseBackend):
    def __init__(self, url: str | None = None, token: str | None = None, timeout: float | None = None):
        self.url = url if url is not None else settings.SMS_HTTP_URL
        self.token = token if token is not None else settings.SMS_HTTP_TOKEN
        self.timeout = timeout if timeout is not None else settings.SMS_HTTP_TIMEOUT_SECONDS

    def send(self, message: Sms) -> None:
        if not self.url:
            raise SmsNotSent("No SMS provider is configured (SMS_HTTP_URL is empty).")
        body = json.dumps({"to": message.to, "from": message.sender, "text": message.text}).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Verity-SMS/1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            reply = egress_post(self.url, body, headers, policy=webhook_policy(), timeout=self.timeout)
        except EgressRefused as exc:
            raise SmsNotSent(f"The SMS provider's URL is refused: {exc}") from exc
        except TimeoutError as exc:
            raise SmsNotSent(f"The SMS provider did not answer within {self.timeout:g} s.") from exc
        except OSError as exc:
            raise SmsNotSent(f"The SMS provider could not be reached: {exc}.") from exc
        except Exception as exc:  # http.client.HTTPException: a broken answer
            raise SmsNotSent(f"The SMS provider's answer was not understood: {exc.__class__.__name__}.") from exc
        if not 200 <= reply.status < 300:
            # The status only: providers often echo the message in their
            # answer, and this message goes to the operator's panel and the
            # audit trail while the text carries a one-time code.
            raise SmsNotSent(f"The SMS provider refused the message (HTTP {reply.status}).")


def deploy_check(app_configs=None, **kwargs):
    """``manage.py check --deploy``: a production server sends its SMS through
    a provider. The console and file backends report a message as sent while
    it never leaves the machine (and they write the one-time code down)."""
    from django.core.checks import Error

    if settings.SMS_BACKEND in ("kyc.sms.ConsoleBackend", "kyc.sms.FileBackend"):
        return [
            Error(
                f"SMS_BACKEND is {settings.SMS_BACKEND}: text messages (one-time codes) are written on this "
                "machine, not sent, and reported as sent.",
                hint="Set SMS_BACKEND=kyc.sms.HttpBackend with SMS_HTTP_URL (and SMS_HTTP_TOKEN), "
                "or SMS_BACKEND=kyc.sms.DisabledBackend where no workflow sends codes by SMS.",
                id="verity.E021",
            )
        ]
    return []


def sms_backend() -> BaseBackend:
    """The configured backend, read at each use so a test's settings apply."""
    return import_string(settings.SMS_BACKEND)()


def sms_send(*, to: str, text: str) -> None:
    """Send one SMS through the configured backend; raises SmsNotSent."""
    sms_backend().send(Sms(to=to, text=text, sender=settings.SMS_SENDER))
