"""daphne, with request bodies limited before they are read, and its access
log written through Python logging.

Request bodies: kyc/body_limits.py refuses a body over its route's cap, or
one sent without the credential its route needs, while Twisted is still
reading the headers; plain daphne would buffer it whole first.

daphne's own access log (daphne.access.AccessLogGenerator) prints every
request path to stdout as it came, in local time: /v/<link token> in full,
and a percent-encoded newline in a path decoded into a forged second line.
Here the same entries go to the "verity.access" logger instead, so they get
what every Verity log line gets (kyc/logging.py): UTC, one line per record,
link tokens redacted. Run it exactly like daphne:

    python -m kyc.serve -b 0.0.0.0 -p 8000 kyc.asgi:application
"""

import logging

from daphne import cli

from kyc import body_limits

access_log = logging.getLogger("verity.access")


class AccessLog:
    """daphne's action-logger interface (called with protocol, action and
    details for every request and websocket event)."""

    def __init__(self, stream=None):
        # daphne hands over the stream it would have written to; unused.
        pass

    def __call__(self, protocol, action, details):
        if protocol == "http" and action == "complete":
            access_log.info(
                '%s "%s %s" %s %s',
                details.get("client"),
                details.get("method"),
                details.get("path"),
                details.get("status"),
                details.get("size"),
            )
        elif protocol == "websocket" and action in ("connected", "rejected", "disconnected"):
            access_log.info('%s "WS%s %s"', details.get("client"), action.upper(), details.get("path"))


def install() -> None:
    cli.AccessLogGenerator = AccessLog
    body_limits.install_in_daphne()


def main() -> None:
    install()
    cli.CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
