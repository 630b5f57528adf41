"""kyc.net.client_ip: X-Forwarded-For is believed only from TRUSTED_PROXIES,
and then only up to the right-most hop no trusted proxy vouches for."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from kyc.net import client_ip, parse_trusted_proxies, scope_client_ip

PROXY = "10.0.0.5"


def request(remote_addr, forwarded_for=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request("198.51.100.7", "203.0.113.99")) == "198.51.100.7"


def test_header_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(request("198.51.100.7", "203.0.113.99")) == "198.51.100.7"


def test_behind_a_trusted_proxy_the_client_is_the_hop_it_appended(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(request(PROXY, "203.0.113.99")) == "203.0.113.99"


def test_entries_the_client_wrote_itself_are_skipped(settings):
    """The client sends 'X-Forwarded-For: 1.2.3.4'; the proxy appends the
    address it saw. Only that one counts."""
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(request(PROXY, "1.2.3.4, 203.0.113.99")) == "203.0.113.99"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request(PROXY, "6.6.6.6, 203.0.113.99, 10.1.2.3, 10.0.0.9")) == "203.0.113.99"


def test_only_trusted_hops_means_the_left_most_one(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request(PROXY, "10.9.9.9, 10.1.1.1")) == "10.9.9.9"


def test_garbage_where_an_address_belongs_stops_at_the_last_trusted_hop(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(request(PROXY, "203.0.113.99, not-an-ip")) == PROXY


def test_ports_brackets_and_ipv4_mapped_addresses_are_understood(settings):
    settings.TRUSTED_PROXIES = ["2001:db8::1"]
    assert client_ip(request("2001:db8::1", "[2001:db8::77]:4711")) == "2001:db8::77"
    assert client_ip(request("2001:db8::1", "192.0.2.3:4711")) == "192.0.2.3"
    settings.TRUSTED_PROXIES = []
    assert client_ip(request("::ffff:192.0.2.44")) == "192.0.2.44"


def test_a_websocket_scope_follows_the_same_rule(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    forged = {"client": ["198.51.100.7", 5000], "headers": [(b"x-forwarded-for", b"203.0.113.99")]}
    proxied = {"client": [PROXY, 5000], "headers": [(b"x-forwarded-for", b"1.2.3.4, 203.0.113.99")]}
    assert scope_client_ip(forged) == "198.51.100.7"
    assert scope_client_ip(proxied) == "203.0.113.99"
    assert scope_client_ip({"headers": []}) is None


def test_a_typo_in_trusted_proxies_is_an_error_at_start_up():
    with pytest.raises(ImproperlyConfigured):
        parse_trusted_proxies(["10.0.0.0/8", "10.0.0.300"])
