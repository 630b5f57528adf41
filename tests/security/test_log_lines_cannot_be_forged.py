"""Log injection: a newline in a logged value (a path, a header, a frame)
cannot start a record of its own. kyc.logging.UTCFormatter writes every
record, its exception included, as one line."""

import logging

from kyc.logging import RedactLinkTokensFilter, UTCFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def formatted(message, *args, exc_info=None) -> str:
    record = logging.LogRecord("verity.test", logging.WARNING, __file__, 1, message, args, exc_info)
    RedactLinkTokensFilter().filter(record)
    return UTCFormatter(FORMAT).format(record)


def test_a_newline_in_an_argument_stays_on_the_line():
    line = formatted("rejected frame from %s", "customer\n2026-01-01T00:00:00Z CRITICAL verity.security admin logged in")
    assert "\n" not in line
    assert "\\n2026-01-01T00:00:00Z CRITICAL" in line


def test_carriage_returns_and_newlines_in_the_message_itself_are_escaped():
    line = formatted("Not Found: /v/abc\r\nINFO forged")
    assert "\r" not in line and "\n" not in line


def test_a_traceback_is_folded_into_the_same_line():
    try:
        raise ValueError("boom\nINFO forged")
    except ValueError:
        import sys

        line = formatted("failed", exc_info=sys.exc_info())
    assert "\n" not in line
    assert "Traceback" in line and "ValueError" in line


def test_timestamps_are_utc_and_say_so():
    record = logging.LogRecord("verity.test", logging.INFO, __file__, 1, "x", (), None)
    record.created = 0.0  # 1970-01-01T00:00:00 UTC, whatever the machine's zone
    record.msecs = 0
    assert UTCFormatter(FORMAT).format(record).startswith("1970-01-01T00:00:00Z ")


def test_a_path_with_an_encoded_newline_logged_by_the_access_log_stays_one_line(caplog):
    """daphne decodes %0A in the path; Verity's access log (kyc/serve.py)
    goes through the same formatter."""
    from kyc.serve import AccessLog

    with caplog.at_level(logging.INFO, logger="verity.access"):
        AccessLog()("http", "complete", {"client": "192.0.2.1:5000", "method": "GET", "path": "/x\nFORGED", "status": 404, "size": 10})
    line = UTCFormatter(FORMAT).format(caplog.records[-1])
    assert "\n" not in line and "/x\\nFORGED" in line
