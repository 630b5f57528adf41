"""Egress policy: where Verity may send a request a business chose the URL of.

A business sets its webhook URL; our worker then calls it from inside our
network. Without a policy that is server-side request forgery: a URL of
``http://127.0.0.1:6379/``, ``http://169.254.169.254/`` (the cloud's
metadata service) or ``ftp://…`` makes our worker talk to what only we can
reach, and the delivery log would show the answer. The rules, checked when
the URL is saved (``egress_url_validate``, a model field validator) and again
at every request (``egress_post``), because DNS can change in between:

- ``https`` only; ``http`` only where the caller's policy allows it.
- The host is resolved once, and every address it resolves to must be
  public: private, loopback, link-local, shared (CGNAT), multicast, reserved
  and unspecified ranges are refused, IPv4 and IPv6 alike, and an IPv6
  address that embeds an IPv4 one (IPv4-mapped, IPv4-compatible, 6to4,
  NAT64) is judged by the IPv4 address it carries. Networks the policy's
  allowlist names (CIDRs) are allowed even when not public.
- The connection goes to the address that was checked (no second lookup a
  rebinding DNS server could answer differently), with the original host
  name in the Host header and, for https, in SNI and the certificate check.
- Redirects are not followed (http.client never does): a redirect is an
  answer, and following it would skip the checks.
- Only the status code and at most ``EXCERPT_BYTES`` of a failed answer's
  text are kept (``EgressReply``); the rest of the body is never read.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from kyc.net import Network, parse_networks

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# A failed answer's first bytes tell the business's developer what their
# endpoint objected to ("invalid signature"); more is not needed, and a body
# is never kept for a 2xx answer nor when it is not text.
EXCERPT_BYTES = 200
_TEXT_TYPES = ("text/", "application/json", "application/problem+json")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class EgressRefused(Exception):
    """The URL or the address it resolves to is not allowed. The message is
    meant for the business's staff (the admin form, the delivery log)."""


@dataclass(frozen=True)
class EgressPolicy:
    allow_http: bool
    allowed_networks: tuple[Network, ...]


@dataclass(frozen=True)
class EgressReply:
    status: int
    excerpt: str


@lru_cache(maxsize=8)
def _webhook_policy(allow_http: bool, networks: tuple[str, ...]) -> EgressPolicy:
    return EgressPolicy(allow_http, parse_networks("WEBHOOK_ALLOWED_NETWORKS", list(networks)))


def webhook_policy() -> EgressPolicy:
    """The policy for the business's webhook URL (WEBHOOK_ALLOW_HTTP,
    WEBHOOK_ALLOWED_NETWORKS), read at each use so a test's settings apply."""
    return _webhook_policy(settings.WEBHOOK_ALLOW_HTTP, tuple(settings.WEBHOOK_ALLOWED_NETWORKS))


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if address.version == 4:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _refusal(address: Address) -> str | None:
    """Why an address is not public, or None when it is."""
    # The IPv4 address inside an IPv6 one is where the packets would go.
    for candidate in filter(None, (_embedded_ipv4(address), address)):
        if candidate.is_loopback:
            return "a loopback address"
        if candidate.is_link_local:
            return "a link-local address"
        if candidate.is_multicast:
            return "a multicast address"
        if candidate.is_unspecified:
            return "the unspecified address"
        if not candidate.is_global:
            return "a private or reserved address"
    return None


def egress_address_check(address: Address, policy: EgressPolicy) -> None:
    unwrapped = _embedded_ipv4(address) or address
    if any(address in network or unwrapped in network for network in policy.allowed_networks):
        return
    reason = _refusal(address)
    if reason:
        shown = f"{address} ({unwrapped})" if unwrapped != address else str(address)
        raise EgressRefused(f"{shown} is {reason}; Verity sends only to public addresses.")


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str


def _target(url: str, policy: EgressPolicy) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EgressRefused(f"The URL is not valid: {exc}.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise EgressRefused(f"The URL must start with https:// (not {scheme or 'nothing'}://).")
    if scheme == "http" and not policy.allow_http:
        raise EgressRefused("The URL must use https://; plain http:// is not allowed.")
    if not parts.hostname:
        raise EgressRefused("The URL has no host name.")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise EgressRefused(f"The host name {parts.hostname} is not valid.") from exc
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def _resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to, in the resolver's order."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _checked_address(target: _Target, policy: EgressPolicy) -> Address:
    """Resolve once and check every address: a name that also resolves to a
    private one is refused, whichever address a connection would pick."""
    try:
        addresses = [ipaddress.ip_address(target.host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(value.split("%", 1)[0]) for value in _resolve(target.host, target.port)]
        except (OSError, UnicodeError) as exc:
            raise EgressRefused(f"The host name {target.host} cannot be resolved.") from exc
        if not addresses:
            raise EgressRefused(f"The host name {target.host} cannot be resolved.")
    for address in addresses:
        egress_address_check(address, policy)
    return addresses[0]


def egress_url_check(url: str, policy: EgressPolicy) -> None:
    """Raise EgressRefused when a request to this URL would be refused now."""
    _checked_address(_target(url, policy), policy)


def egress_url_validate(url: str) -> None:
    """Validator of the business's webhook URL (the admin form, any model
    form or serializer of Business)."""
    try:
        egress_url_check(url, webhook_policy())
    except EgressRefused as exc:
        raise ValidationError(str(exc), code="egress_refused") from exc


def _tls_context() -> ssl.SSLContext:
    # The system's trusted CAs, certificate and host name checked (tests
    # replace this to trust their own CA).
    return ssl.create_default_context()


def _pin(connection: http.client.HTTPConnection, address: Address) -> None:
    """Make the connection go to the checked address, not to whatever the name
    resolves to by then. ``connection.host`` stays the name the business
    gave: the Host header and, for https (HTTPSConnection.connect wraps the
    socket with server_hostname=host), SNI and the certificate check use it."""

    def create_connection(host_port, timeout, source_address=None):
        return socket.create_connection((str(address), host_port[1]), timeout, source_address)

    connection._create_connection = create_connection


def _excerpt(response: http.client.HTTPResponse) -> str:
    if 200 <= response.status < 300:
        return ""
    content_type = (response.getheader("Content-Type") or "").lower()
    if not content_type.startswith(_TEXT_TYPES):
        return ""
    text = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
    # One line of printable text: no control characters into a log or a page.
    return "".join(char if char.isprintable() else " " for char in text).strip()


def egress_post(url: str, body: bytes, headers: dict, *, policy: EgressPolicy, timeout: float) -> EgressReply:
    """POST under the policy. Raises EgressRefused before any connection when
    the URL or its address is not allowed, OSError (and http.client's errors,
    which are OSErrors or HTTPException) when the exchange fails."""
    target = _target(url, policy)
    address = _checked_address(target, policy)
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout, context=_tls_context())
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    _pin(connection, address)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return EgressReply(response.status, _excerpt(response))
    finally:
        connection.close()
