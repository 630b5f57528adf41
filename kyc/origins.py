"""The site's own origins: what counts as "this site" for websockets and the
Content-Security-Policy.

An origin is scheme, host and port, all three: http://127.0.0.1:9999 is
another site than http://127.0.0.1:8000 (another program on the same
machine), and so is https://127.0.0.1. The site's origins are those of
PUBLIC_BASE_URL and CSRF_TRUSTED_ORIGINS, read when asked (tests and the
e2e harness set them).
"""

from urllib.parse import urlsplit

from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_key(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL or origin, the port filled in; None for
    anything that is not a plain http(s) origin ("null", a wildcard)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or "*" in host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def site_origins() -> set[tuple[str, str, int]]:
    keys = {origin_key(url) for url in [settings.PUBLIC_BASE_URL, *settings.CSRF_TRUSTED_ORIGINS]}
    keys.discard(None)
    return keys


def is_site_origin(origin: str | None) -> bool:
    return origin is not None and origin_key(origin) in site_origins()


def public_websocket_origin() -> str:
    """ws(s)://host[:port] of PUBLIC_BASE_URL, as a CSP source."""
    parts = urlsplit(settings.PUBLIC_BASE_URL)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc.lower()}"
