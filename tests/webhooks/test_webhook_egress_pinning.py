"""The address that was checked is the address connected to: the name is
resolved once per attempt, the request goes to that address with the
original host name in the Host header and, for https, in SNI and the
certificate check. A redirect is not followed. An allowlisted receiver on
this machine still gets its deliveries."""

import datetime
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured

from tests.webhooks.conftest import Receiver, deliver_once, point_webhook_at


def test_an_allowlisted_loopback_receiver_gets_the_delivery(receiver, business_a, live_call, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    point_webhook_at(business_a, receiver.url)
    assert deliver_once(business_a, live_call.session).status_code == 200
    assert len(receiver.received) == 1
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    delivery = deliver_once(business_a, live_call.session)
    assert delivery.status_code is None and "127.0.0.1 is a loopback address" in delivery.error
    assert len(receiver.received) == 1, "without the allowlist, the same receiver is refused"


def test_the_name_is_resolved_once_and_the_checked_address_used(
    receiver, business_a, live_call, fake_dns, connect_attempts
):
    """A rebinding DNS server answers the allowed address first and another
    loopback address after: only the first answer is ever asked for and used."""
    fake_dns["hooks.partner.example"] = ["127.0.0.1", "127.0.0.2"]
    point_webhook_at(business_a, f"http://hooks.partner.example:{receiver.port}/hooks/verity")
    assert deliver_once(business_a, live_call.session).status_code == 200
    assert fake_dns.lookups == ["hooks.partner.example"]
    assert connect_attempts == [("127.0.0.1", receiver.port)]
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.partner.example:{receiver.port}"


def test_a_name_that_turned_private_after_it_was_saved_is_refused(
    settings, business_a, live_call, fake_dns, listener, connect_attempts
):
    """Checked at save, the name resolved to a public address; by the time
    of sending, its DNS answers loopback. The send checks again."""
    settings.WEBHOOK_ALLOW_HTTP = True
    fake_dns["hooks.partner.example"] = ["93.184.215.14", "127.0.0.1"]
    business_a.webhook_url = f"http://hooks.partner.example:{listener.port}/hooks"
    business_a.full_clean()
    business_a.save()
    delivery = deliver_once(business_a, live_call.session)
    assert delivery.status_code is None and "127.0.0.1 is a loopback address" in delivery.error
    assert connect_attempts == [] and listener.connections == []


def test_a_redirect_to_an_internal_address_is_not_followed(receiver, business_a, listener, live_call, connect_attempts):
    """The receiver answers 302 to an internal service: the answer is the
    attempt's result (a failure), and nothing connects to the service."""
    receiver.script = [302]
    point_webhook_at(business_a, receiver.url)
    delivery = deliver_once(business_a, live_call.session)
    assert delivery.status_code == 302 and delivery.error == "HTTP 302"
    assert connect_attempts == [("127.0.0.1", receiver.port)]
    assert listener.connections == []


# --- https: SNI and the certificate are for the name, not the address --------------------


def _certificate(name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, key_pem


@pytest.fixture
def tls_receiver(tmp_path, settings, monkeypatch):
    """An https receiver on 127.0.0.1 whose certificate names
    hooks.partner.example; the sender trusts it (and nothing else)."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    pem, key_pem = _certificate("hooks.partner.example")
    (tmp_path / "cert.pem").write_bytes(pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    seen_names = []
    server_context.sni_callback = lambda sock, name, context: seen_names.append(name)
    monkeypatch.setattr("kyc.egress._tls_context", lambda: ssl.create_default_context(cafile=tmp_path / "cert.pem"))
    running = Receiver(tls=server_context)
    running.start()
    running.seen_names = seen_names
    yield running
    running.stop()


def test_https_goes_to_the_checked_address_with_sni_for_the_name(tls_receiver, business_a, live_call, fake_dns):
    fake_dns["hooks.partner.example"] = ["127.0.0.1"]
    point_webhook_at(business_a, f"https://hooks.partner.example:{tls_receiver.port}/hooks/verity")
    assert deliver_once(business_a, live_call.session).status_code == 200
    assert tls_receiver.seen_names == ["hooks.partner.example"]
    [request] = tls_receiver.received
    assert request.headers["host"] == f"hooks.partner.example:{tls_receiver.port}"


def test_https_refuses_a_certificate_for_another_name(tls_receiver, business_a, live_call, fake_dns):
    fake_dns["other.partner.example"] = ["127.0.0.1"]
    point_webhook_at(business_a, f"https://other.partner.example:{tls_receiver.port}/hooks/verity")
    delivery = deliver_once(business_a, live_call.session)
    assert delivery.status_code is None
    assert "certificate verify failed" in delivery.error and "other.partner.example" in delivery.error
    assert tls_receiver.received == []


def test_an_allowlist_typo_is_an_error_not_an_open_door(settings, business_a):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/33"]
    business_a.webhook_url = "https://hooks.partner.example/"
    with pytest.raises(ImproperlyConfigured, match="WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/33' is not an IP"):
        business_a.full_clean()
