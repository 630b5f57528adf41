"""Webhook SSRF, when the URL is saved: the admin's form (and any model form
of Business) refuses a URL that points inside our network, with a message
that says why, and keeps the URL that was there. On the code before, each of
these was accepted (Django's URLField takes loopback, link-local, [::1],
localhost and ftp://)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Business
from tests.security.test_admin_webhook_url_cannot_be_repointed import business_form

REFUSED = [
    ("http://127.0.0.1:8001/hooks", "The URL must use https://; plain http:// is not allowed."),
    ("https://127.0.0.1:8001/hooks", "127.0.0.1 is a loopback address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("https://[::1]:8001/hooks", "::1 is a loopback address"),
    ("https://[::ffff:169.254.169.254]/", "(169.254.169.254) is a link-local address"),
    ("https://localhost:8001/hooks", "is a loopback address"),
    ("https://hooks.attacker.example/hooks", "127.0.0.1 is a loopback address"),
    ("https://192.168.1.20/hooks", "192.168.1.20 is a private or reserved address"),
    ("ftp://127.0.0.1:8021/", "The URL must start with https:// (not ftp://)."),
    ("http://93.184.215.14/hooks", "plain http:// is not allowed"),
]


@pytest.fixture(autouse=True)
def _dns(fake_dns):
    fake_dns["hooks.attacker.example"] = ["127.0.0.1"]
    fake_dns["hooks.alpha-bank.example"] = ["93.184.215.14"]


@pytest.mark.parametrize("url, reason", REFUSED)
def test_an_internal_url_is_refused_by_the_model(url, reason, business_a):
    business_a.webhook_url = url
    with pytest.raises(ValidationError) as refused:
        business_a.full_clean()
    [message] = refused.value.message_dict["webhook_url"]
    assert reason in message


@pytest.mark.parametrize("url, reason", REFUSED[:7] + REFUSED[-2:])
def test_the_admin_form_shows_why_and_keeps_the_old_url(url, reason, admin_client, business_a):
    Business.objects.filter(pk=business_a.pk).update(webhook_url="https://hooks.alpha-bank.example/verity")
    page = admin_client.post(
        reverse("admin:accounts_business_change", args=[business_a.pk]),
        business_form(business_a, retention_days=365, webhook_url=url),
    )
    assert page.status_code == 200, "the form comes back with the error"
    assert reason in page.content.decode().replace("&#x27;", "'")
    business_a.refresh_from_db()
    assert business_a.webhook_url == "https://hooks.alpha-bank.example/verity"


def test_a_public_https_url_is_saved(admin_client, business_a):
    page = admin_client.post(
        reverse("admin:accounts_business_change", args=[business_a.pk]),
        business_form(business_a, retention_days=365, webhook_url="https://hooks.alpha-bank.example/verity"),
    )
    assert page.status_code == 302
    business_a.refresh_from_db()
    assert business_a.webhook_url == "https://hooks.alpha-bank.example/verity"


def test_an_allowlisted_network_may_be_saved(settings, business_a):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    business_a.webhook_url = "http://127.0.0.1:8001/hooks"
    business_a.full_clean()
    business_a.webhook_url = "http://127.0.0.2:8001/hooks"
    with pytest.raises(ValidationError, match="127.0.0.2 is a loopback address"):
        business_a.full_clean()


def test_a_name_that_does_not_resolve_is_refused_with_a_clear_message(business_a, fake_dns):
    business_a.webhook_url = "https://hooks.typo.invalid/verity"
    with pytest.raises(ValidationError, match="The host name hooks.typo.invalid cannot be resolved."):
        business_a.full_clean()
