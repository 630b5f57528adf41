"""TURN against Debian's coturn on loopback: the credentials Verity hands out
(ice_servers_for, the TURN REST API convention) allocate a relay; wrong or
expired ones do not; docs/coturn.conf refuses to relay to private, loopback
and link-local peers; and a relay to an allowed peer really carries data.

The allocation is a minimal STUN/TURN client written here (RFC 5389/5766):
Allocate, 401 with realm and nonce, Allocate again with long-term
credentials. Relaying itself needs a peer, and the only peers this machine
may use are on loopback, which the production config denies; so the relay
test runs with a test-only copy that also says allowed-peer-ip=127.0.0.1 and
allow-loopback-peers. Nothing else in it differs from docs/coturn.conf.
"""

import base64
import hashlib
import hmac
import os
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from sessions_app.selectors import ice_servers_for

pytestmark = pytest.mark.skipif(shutil.which("turnserver") is None, reason="coturn is not installed (make browser installs it)")

COOKIE = 0x2112A442
SECRET = "test-shared-secret-" + "x" * 20
REALM = "turn.verity.test"
DOCS_CONFIG = Path(django_settings.BASE_DIR) / "docs" / "coturn.conf"
# Lines of the documented config that a loopback test must replace.
REPLACED = ("listening-port", "tls-listening-port", "min-port", "max-port", "static-auth-secret", "realm", "syslog")

ALLOCATE, CREATE_PERMISSION, BINDING = 0x0003, 0x0008, 0x0001
SEND_INDICATION, DATA_INDICATION = 0x0016, 0x0017
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, REALM_ATTR, NONCE = 0x0006, 0x0008, 0x0009, 0x0014, 0x0015
XOR_PEER_ADDRESS, DATA, XOR_RELAYED_ADDRESS, REQUESTED_TRANSPORT = 0x0012, 0x0013, 0x0016, 0x0019


# --- a minimal STUN/TURN client ------------------------------------------------------


def attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def xor_address(ip: str, port: int) -> bytes:
    packed = socket.inet_aton(ip)
    return struct.pack("!BBH", 0, 1, port ^ (COOKIE >> 16)) + bytes(a ^ b for a, b in zip(packed, struct.pack("!I", COOKIE)))


def message(kind: int, attributes: list[bytes], *, key: bytes | None = None) -> bytes:
    transaction = os.urandom(12)
    body = b"".join(attributes)
    if key is None:
        return struct.pack("!HHI", kind, len(body), COOKIE) + transaction + body
    # MESSAGE-INTEGRITY covers the header with a length that already counts it.
    header = struct.pack("!HHI", kind, len(body) + 24, COOKIE) + transaction
    integrity = hmac.new(key, header + body, hashlib.sha1).digest()
    return header + body + attribute(MESSAGE_INTEGRITY, integrity)


def parse(data: bytes) -> tuple[int, dict[int, bytes]]:
    kind, length, _cookie = struct.unpack("!HHI", data[:8])
    attributes, offset = {}, 20
    while offset < 20 + length:
        attr, size = struct.unpack("!HH", data[offset : offset + 4])
        attributes.setdefault(attr, data[offset + 4 : offset + 4 + size])
        offset += 4 + size + (-size % 4)
    return kind, attributes


def error_code(attributes) -> int | None:
    value = attributes.get(ERROR_CODE)
    return None if value is None else value[2] * 100 + value[3]


def decode_xor_address(value: bytes) -> tuple[str, int]:
    port = struct.unpack("!H", value[2:4])[0] ^ (COOKIE >> 16)
    ip = bytes(a ^ b for a, b in zip(value[4:8], struct.pack("!I", COOKIE)))
    return socket.inet_ntoa(ip), port


class TurnClient:
    def __init__(self, port: int):
        self.server = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(2)
        self.key = None
        self.auth = []

    def request(self, kind, attributes, *, signed=True):
        self.sock.sendto(message(kind, attributes + (self.auth if signed else []), key=self.key if signed else None), self.server)
        return parse(self.sock.recv(4096))

    def allocate(self, username: str, password: str):
        """Returns (message type, attributes) of the authenticated Allocate."""
        transport = attribute(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))
        _, challenge = self.request(ALLOCATE, [transport], signed=False)
        assert error_code(challenge) == 401, challenge
        realm, nonce = challenge[REALM_ATTR], challenge[NONCE]
        self.key = hashlib.md5(f"{username}:{realm.decode()}:{password}".encode()).digest()
        self.auth = [attribute(USERNAME, username.encode()), attribute(REALM_ATTR, realm), attribute(NONCE, nonce)]
        return self.request(ALLOCATE, [transport])

    def permit(self, peer_ip: str):
        return self.request(CREATE_PERMISSION, [attribute(XOR_PEER_ADDRESS, xor_address(peer_ip, 9))])

    def send_to(self, peer: tuple[str, int], data: bytes):
        indication = message(SEND_INDICATION, [attribute(XOR_PEER_ADDRESS, xor_address(*peer)), attribute(DATA, data)])
        self.sock.sendto(indication, self.server)

    def close(self):
        self.sock.close()


# --- coturn on loopback -----------------------------------------------------------


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def loopback_config(tmp_path: Path, port: int, *extra: str) -> Path:
    documented = [
        line
        for line in DOCS_CONFIG.read_text().splitlines()
        if line.strip() and not line.startswith("#") and line.split("=")[0].strip() not in REPLACED
    ]
    relay_port = free_udp_port()
    config = tmp_path / "turnserver.conf"
    config.write_text(
        "\n".join(
            documented
            + [
                "listening-ip=127.0.0.1",
                "relay-ip=127.0.0.1",
                f"listening-port={port}",
                f"min-port={relay_port}",
                f"max-port={relay_port + 20}",
                f"static-auth-secret={SECRET}",
                f"realm={REALM}",
                "no-tls",
                "no-dtls",
                "no-tcp",
                f"log-file={tmp_path / 'turn.log'}",
                f"pidfile={tmp_path / 'turn.pid'}",
                f"userdb={tmp_path / 'turndb'}",
                *extra,
            ]
        )
        + "\n"
    )
    return config


@pytest.fixture
def coturn(tmp_path):
    """Start turnserver in the foreground with a config made from
    docs/coturn.conf; extra lines as arguments. Stopped after the test."""
    started = []

    def start(*extra: str) -> int:
        port = free_udp_port()
        process = subprocess.Popen(
            ["turnserver", "-c", str(loopback_config(tmp_path, port, *extra))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.settimeout(0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe.sendto(message(BINDING, []), ("127.0.0.1", port))
            try:
                probe.recv(1024)
                probe.close()
                return port
            except OSError:
                assert process.poll() is None, (tmp_path / "turn.log").read_text() if (tmp_path / "turn.log").exists() else "exited"
        raise AssertionError("turnserver did not answer")

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def turn_settings(settings):
    settings.ICE_TURN_URLS = ["turn:127.0.0.1:3478?transport=udp"]
    settings.TURN_SHARED_SECRET = SECRET
    settings.TURN_CREDENTIAL_TTL_SECONDS = 600
    return settings


def credentials(label="operator-1") -> tuple[str, str]:
    turn = next(server for server in ice_servers_for(label) if "username" in server)
    return turn["username"], turn["credential"]


def rest_credentials(expiry: int, label: str, secret: str = SECRET) -> tuple[str, str]:
    username = f"{expiry}:{label}"
    return username, base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def test_credentials_from_ice_servers_for_allocate_a_relay(coturn, turn_settings):
    client = TurnClient(coturn())
    try:
        kind, attributes = client.allocate(*credentials())
        assert kind == 0x0103, attributes  # Allocate success
        assert decode_xor_address(attributes[XOR_RELAYED_ADDRESS])[0] == "127.0.0.1"
    finally:
        client.close()


@pytest.mark.parametrize(
    "make",
    [
        lambda: (credentials()[0], "not-the-password"),
        lambda: rest_credentials(int(time.time()) - 60, "operator-1"),  # expired a minute ago
        lambda: rest_credentials(int(time.time()) + 600, "operator-1", secret="another-secret"),
        lambda: ("operator-1", rest_credentials(int(time.time()) + 600, "operator-1")[1]),  # no expiry in the name
    ],
    ids=["wrong_password", "expired", "other_secret", "no_expiry"],
)
def test_wrong_or_expired_credentials_are_refused(coturn, turn_settings, make):
    client = TurnClient(coturn())
    try:
        kind, attributes = client.allocate(*make())
        assert kind == 0x0113, attributes  # Allocate error
        assert error_code(attributes) == 401
    finally:
        client.close()


@pytest.mark.parametrize("peer", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.1"])
def test_documented_config_refuses_private_loopback_and_link_local_peers(coturn, turn_settings, peer):
    client = TurnClient(coturn())
    try:
        assert client.allocate(*credentials())[0] == 0x0103
        kind, attributes = client.permit(peer)
        assert kind == 0x0118, attributes  # CreatePermission error
        assert error_code(attributes) == 403
    finally:
        client.close()


def test_documented_config_permits_a_public_peer(coturn, turn_settings):
    """Only a permission: nothing is sent to the public address."""
    client = TurnClient(coturn())
    try:
        assert client.allocate(*credentials())[0] == 0x0103
        assert client.permit("8.8.8.8")[0] == 0x0108
    finally:
        client.close()


def test_relay_carries_data_both_ways_with_loopback_allowed_for_the_test(coturn, turn_settings):
    """The test-only config adds allow-loopback-peers and allowed-peer-ip=127.0.0.1."""
    client = TurnClient(coturn("allow-loopback-peers", "allowed-peer-ip=127.0.0.1"))
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(2)
    try:
        kind, attributes = client.allocate(*credentials())
        assert kind == 0x0103
        relayed = decode_xor_address(attributes[XOR_RELAYED_ADDRESS])
        assert client.permit("127.0.0.1")[0] == 0x0108

        client.send_to(peer.getsockname(), b"hello from the customer")
        data, source = peer.recvfrom(1024)
        assert data == b"hello from the customer"
        assert source == relayed  # the peer sees the relay, never the customer

        peer.sendto(b"hello from the operator", relayed)
        kind, attributes = parse(client.sock.recv(4096))
        assert kind == DATA_INDICATION
        assert attributes[DATA] == b"hello from the operator"
    finally:
        client.close()
        peer.close()
