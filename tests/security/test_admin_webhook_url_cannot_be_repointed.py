"""Only a business's own admins (and platform staff) change where its
webhooks go.

Reproduces issue #14's finding: staff with the ``change_business`` permission
could point any business's webhooks (every session's outcome, signed) at a
server of their choosing."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from tests.conftest import make_user

ATTACKER_URL = "https://93.184.215.14/collect"


def browser_of(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def business_form(business, **changes) -> dict:
    return {
        "name": business.name,
        "slug": business.slug,
        "retention_days": business.retention_days,
        "webhook_url": business.webhook_url,
        "routing_fallback_seconds": business.routing_fallback_seconds,
        # The booked calls' settings (accounts 0006), as the form shows them.
        "time_zone": business.time_zone,
        "slot_minutes": business.slot_minutes,
        "booking_horizon_days": business.booking_horizon_days,
        "booked_operator_ring_seconds": business.booked_operator_ring_seconds,
        "no_show_after_minutes": business.no_show_after_minutes,
        "reminder_minutes_before": business.reminder_minutes_before,
        **changes,
    }


@pytest.fixture
def changer(db):
    """Chris: staff with the view and change_business permissions, tied to no business."""
    user = make_user("chris", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_business", "change_business"], content_type__app_label="accounts")
    )
    return user


def test_change_business_permission_cannot_repoint_another_business_webhook(changer, business_b):
    response = browser_of(changer).post(
        reverse("admin:accounts_business_change", args=[business_b.pk]), business_form(business_b, webhook_url=ATTACKER_URL)
    )
    assert response.status_code == 403
    business_b.refresh_from_db()
    assert business_b.webhook_url == ""
