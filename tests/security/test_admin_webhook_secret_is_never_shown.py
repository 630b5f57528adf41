"""The webhook signing secret is never displayed in the admin, to anyone;
rotating it shows the new one once, to whoever rotated, and audits it.

Reproduces issue #14's finding: staff holding only the ``view_business``
permission opened any business's change page and read its signing secret
(a read-only field), and with it could sign webhooks as Verity."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import Business
from sessions_app.models import AuditEvent
from tests.conftest import make_user


def browser_of(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def viewer(db):
    """Vera: staff with the model permission view_business, and nothing else."""
    user = make_user("vera", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_business", content_type__app_label="accounts"))
    return user


def rotate(browser, business):
    return browser.post(
        reverse("admin:accounts_business_changelist"),
        {"action": "rotate_webhook_secret", "_selected_action": [business.pk]},
    )


def test_view_business_permission_does_not_reveal_another_business_secret(viewer, business_a, business_b):
    """Vera, tied to no business, opens Beta Bank's page: refused, and its secret is nowhere."""
    browser = browser_of(viewer)
    for url in (
        reverse("admin:accounts_business_change", args=[business_b.pk]),
        reverse("admin:accounts_business_changelist"),
    ):
        response = browser.get(url)
        assert response.status_code == 403, url
        assert business_b.webhook_secret not in response.content.decode()


def test_the_secret_is_not_on_the_superusers_pages_either(superuser, business_a):
    browser = browser_of(superuser)
    change = browser.get(reverse("admin:accounts_business_change", args=[business_a.pk]))
    listing = browser.get(reverse("admin:accounts_business_changelist"))
    assert change.status_code == 200 and listing.status_code == 200
    for page in (change, listing):
        assert business_a.webhook_secret not in page.content.decode()
    assert "Not shown" in change.content.decode(), "the page says where a secret comes from instead"


def test_rotating_shows_the_new_secret_once_and_audits_who_rotated(superuser, business_a):
    browser = browser_of(superuser)
    old = business_a.webhook_secret
    response = rotate(browser, business_a)
    business_a.refresh_from_db()
    assert business_a.webhook_secret != old
    assert response.status_code == 200
    assert business_a.webhook_secret in response.content.decode(), "the new secret is shown in the answer"
    assert "no-store" in response.get("Cache-Control", ""), "and not kept by a cache"
    assert AuditEvent.objects.get(business=business_a, action="webhook_secret.rotated").actor_user == superuser
    again = browser.get(reverse("admin:accounts_business_change", args=[business_a.pk]))
    assert business_a.webhook_secret not in again.content.decode(), "never shown again"


def test_rotating_several_at_once_is_refused_and_rotates_nothing(superuser, business_a, business_b):
    browser = browser_of(superuser)
    response = browser.post(
        reverse("admin:accounts_business_changelist"),
        {"action": "rotate_webhook_secret", "_selected_action": [business_a.pk, business_b.pk]},
        follow=True,
    )
    assert "Select one business" in response.content.decode()
    assert {b.webhook_secret for b in Business.objects.all()} == {business_a.webhook_secret, business_b.webhook_secret}


def test_view_permission_alone_cannot_rotate(viewer, business_b):
    """The action needs the change permission and the business in scope, not only view."""
    old = business_b.webhook_secret
    rotate(browser_of(viewer), business_b)
    business_b.refresh_from_db()
    assert business_b.webhook_secret == old
    assert not AuditEvent.objects.filter(action="webhook_secret.rotated").exists()


def test_the_secret_cannot_be_guessed_through_a_list_filter(superuser, business_a):
    """``?webhook_secret__startswith=`` would spell the secret out one character
    at a time from the row count: the lookup is refused, for superusers too."""
    url = reverse("admin:accounts_business_changelist") + f"?webhook_secret__startswith={business_a.webhook_secret[:2]}"
    response = browser_of(superuser).get(url)
    assert response.status_code == 400
    assert business_a.name not in response.content.decode()
