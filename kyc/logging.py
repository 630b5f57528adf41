import logging
import re
import time

# A link token as the product makes it (secrets.token_urlsafe(32): 43 chars).
# Redacted from every log record, wherever it shows up (a path, a referrer).
_LINK_PATH = re.compile(r"/v/[A-Za-z0-9_\-]{20,}")


class UTCFormatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record, datefmt=None):  # noqa: N802 (logging's API)
        return super().formatTime(record, datefmt or "%Y-%m-%dT%H:%M:%S") + "Z"

    def format(self, record):
        # One record, one line: a newline smuggled into a message cannot forge
        # another log entry.
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")


class RedactLinkTokensFilter(logging.Filter):
    def filter(self, record):
        message = record.getMessage()
        if "/v/" in message:
            record.msg = _LINK_PATH.sub("/v/[redacted]", message)
            record.args = ()
        return True
