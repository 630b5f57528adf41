"""Who is on the other end: the one rule for a client's IP address.

``X-Forwarded-For`` is a header anybody can send. It is believed only when
the connection comes from a proxy we configured (TRUSTED_PROXIES), and then
only up to the first hop that is not one of ours: walking the list from the
right, each entry was appended by the proxy to its right, so the right-most
address no trusted proxy vouches for is the client. Everything to its left
was written by the client and is ignored. Throttles, the terms acceptance
record, the websocket budget and the sign-in lockout (django-axes,
AXES_CLIENT_IP_CALLABLE) all ask here, so a forged header can neither
reset a throttle nor put a false address in the evidence.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(name: str, values: list[str]) -> tuple[Network, ...]:
    """Addresses or CIDR ranges from the setting ``name``; a typo is an error
    at start-up, not an address silently trusted or silently ignored. Also
    reads the webhooks' allowlist (kyc/egress.py)."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {value!r} is not an IP address or CIDR range") from exc
    return tuple(networks)


def parse_trusted_proxies(values: list[str]) -> tuple[Network, ...]:
    return parse_networks("TRUSTED_PROXIES", values)


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_trusted_proxies(list(values))


def _address(value: str | None):
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "192.0.2.1:443"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket is the same client.
    return address.ipv4_mapped or address if address.version == 6 else address


def _trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def resolve_client_ip(remote_addr: str | None, forwarded_for: str | None) -> str | None:
    """The client's address from the socket peer and the X-Forwarded-For
    header (several headers joined with commas, as WSGI and ASGI servers do)."""
    remote = _address(remote_addr)
    if remote is None:
        return None
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _trusted(remote, networks) or not forwarded_for:
        return str(remote)
    client = remote
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            # Garbage where a trusted proxy should have written an address:
            # stop at the last address we can vouch for.
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


def client_ip(request) -> str | None:
    """The client's IP address of a Django request."""
    return resolve_client_ip(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))


def scope_client_ip(scope) -> str | None:
    """The same rule for an ASGI scope (a websocket)."""
    client = scope.get("client") or (None, None)
    forwarded = [
        value.decode("latin-1") for name, value in scope.get("headers", []) if name.lower() == b"x-forwarded-for"
    ]
    return resolve_client_ip(client[0], ",".join(forwarded) or None)
