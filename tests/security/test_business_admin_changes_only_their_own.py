"""A business admin (tests/security/admin_world.py's Ada, Alpha Bank) changes
what is Alpha's to change, and nothing of Beta Bank's: its webhook, its
signing secret, its keys, its operators."""

from django.urls import reverse

from accounts.models import Business, Operator
from operators.models import ApiKey
from tests.security.admin_world import ADMIN_A, BEACON_URL
from tests.security.test_admin_webhook_url_cannot_be_repointed import ATTACKER_URL, business_form


def test_business_admin_cannot_repoint_another_business_webhook(admin_world):
    business_b = admin_world.businesses["b"]
    response = admin_world.browser(ADMIN_A).post(
        reverse("admin:accounts_business_change", args=[business_b.pk]), business_form(business_b, webhook_url=ATTACKER_URL)
    )
    assert response.status_code in (302, 403) and response.get("Location", "/admin/") == "/admin/"
    business_b.refresh_from_db()
    assert business_b.webhook_url == BEACON_URL["b"]


def test_business_admin_repoints_their_own_webhook_and_nothing_else(admin_world):
    business_a = admin_world.businesses["a"]
    new_url = "https://93.184.215.14/hooks/v2"
    response = admin_world.browser(ADMIN_A).post(
        reverse("admin:accounts_business_change", args=[business_a.pk]),
        business_form(business_a, webhook_url=new_url, name="Renamed", retention_days=1),
    )
    assert response.status_code == 302
    business_a.refresh_from_db()
    assert business_a.webhook_url == new_url
    assert (business_a.name, business_a.retention_days) == ("Alpha Bank", 365), "the platform's fields stay"


def test_business_admin_rotates_only_their_own_secret(admin_world):
    business_a, business_b = admin_world.businesses["a"], admin_world.businesses["b"]
    browser = admin_world.browser(ADMIN_A)
    url = reverse("admin:accounts_business_changelist")
    browser.post(url, {"action": "rotate_webhook_secret", "_selected_action": [business_b.pk]})
    business_b.refresh_from_db()
    assert business_b.webhook_secret == admin_world.secrets["b"]
    shown = browser.post(url, {"action": "rotate_webhook_secret", "_selected_action": [business_a.pk]})
    business_a.refresh_from_db()
    assert business_a.webhook_secret != admin_world.secrets["a"]
    assert business_a.webhook_secret in shown.content.decode()


def test_business_admin_cannot_make_a_key_for_another_business(admin_world):
    business_b = admin_world.businesses["b"]
    before = ApiKey.objects.filter(business=business_b).count()
    response = admin_world.browser(ADMIN_A).post(
        reverse("admin:operators_apikey_add"), {"business": business_b.pk, "name": "backdoor"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert "vty_" not in response.content.decode()
    assert ApiKey.objects.filter(business=business_b).count() == before


def test_business_admin_cannot_hand_an_operator_another_user(admin_world):
    """The operator's user is read-only for a business admin: re-pointing it would take over that account."""
    operator_pk = admin_world.rows["accounts.Operator"]["a"]
    other_user = admin_world.users["compliance"]
    admin_world.browser(ADMIN_A).post(
        reverse("admin:accounts_operator_change", args=[operator_pk]),
        {
            "display_name": "Alice A.", "presence": "away", "user": other_user.pk, "business": admin_world.businesses["b"].pk,
            # The working hours inline (booked calls), left empty.
            "working_hours-TOTAL_FORMS": "0", "working_hours-INITIAL_FORMS": "0",
            "working_hours-MIN_NUM_FORMS": "0", "working_hours-MAX_NUM_FORMS": "1000",
            # The training attestations inline (regulated deployments), left empty.
            "trainings-TOTAL_FORMS": "0", "trainings-INITIAL_FORMS": "0",
            "trainings-MIN_NUM_FORMS": "0", "trainings-MAX_NUM_FORMS": "1000",
        },
    )
    operator = Operator.objects.get(pk=operator_pk)
    assert operator.display_name == "Alice A."
    assert operator.user_id != other_user.pk and operator.business_id == admin_world.businesses["a"].pk
    assert Business.objects.count() == 2
