"""A business's admin sets their operators' languages, document types and
trained workflows in the admin, choosing among their own business's
workflows only; the operator's console shows them their languages."""

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts.models import BUSINESS_ADMINS_GROUP
from accounts.services import business_staff_add


def _admin_of(business):
    user = get_user_model().objects.create_user("bea-admin", password="admin-pass-123456")
    business_staff_add(user=user, business=business, role=BUSINESS_ADMINS_GROUP)
    client = Client()
    client.force_login(user)
    return client


def _form(operator, **changes) -> dict:
    data = {
        "display_name": operator.display_name,
        "presence": operator.presence,
        # The working hours inline (booked calls), left empty.
        "working_hours-TOTAL_FORMS": "0",
        "working_hours-INITIAL_FORMS": "0",
        "working_hours-MIN_NUM_FORMS": "0",
        "working_hours-MAX_NUM_FORMS": "1000",
        # The training attestations inline (regulated deployments), left empty.
        "trainings-TOTAL_FORMS": "0",
        "trainings-INITIAL_FORMS": "0",
        "trainings-MIN_NUM_FORMS": "0",
        "trainings-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_the_business_admin_sets_languages_document_types_and_trainings(business_a, operator_a, workflow_a):
    client = _admin_of(business_a)
    url = reverse("admin:accounts_operator_change", args=[operator_a.pk])

    response = client.post(
        url,
        _form(operator_a, languages=["de", "en"], document_kinds=["passport"], trained_workflows=[workflow_a.pk]),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    operator_a.refresh_from_db()
    assert (operator_a.languages, operator_a.document_kinds) == (["de", "en"], ["passport"])
    assert list(operator_a.trained_workflows.all()) == [workflow_a]


def test_the_form_offers_only_the_businesss_own_workflows(business_a, operator_a, workflow_a, workflow_b):
    client = _admin_of(business_a)
    url = reverse("admin:accounts_operator_change", args=[operator_a.pk])

    offered = client.get(url).context["adminform"].form.fields["trained_workflows"].queryset
    refused = client.post(url, _form(operator_a, trained_workflows=[workflow_b.pk]))

    assert list(offered) == [workflow_a]
    assert refused.status_code == 200  # the form again, with the error
    assert "trained_workflows" in refused.context["adminform"].form.errors
    assert list(operator_a.trained_workflows.all()) == []


def test_platform_staff_cannot_train_an_operator_for_another_businesss_workflow(
    business_a, operator_a, workflow_b, django_user_model
):
    """Platform staff see every business's workflows; the form still keeps
    an operator's trainings to their own business."""
    root = django_user_model.objects.create_superuser("root-admin", password="root-pass-123456")
    client = Client()
    client.force_login(root)
    url = reverse("admin:accounts_operator_change", args=[operator_a.pk])
    data = _form(operator_a, user=operator_a.user_id, business=business_a.pk, trained_workflows=[workflow_b.pk])

    response = client.post(url, data)

    assert response.status_code == 200
    assert "belong to another business" in str(response.context["adminform"].form.errors)
    assert list(operator_a.trained_workflows.all()) == []


def test_a_language_the_product_does_not_ship_is_refused(business_a, operator_a):
    client = _admin_of(business_a)
    url = reverse("admin:accounts_operator_change", args=[operator_a.pk])
    response = client.post(url, _form(operator_a, languages=["fr"]))
    assert response.status_code == 200
    operator_a.refresh_from_db()
    assert operator_a.languages == []


def test_the_console_shows_the_operator_their_languages(business_a, operator_a):
    operator_a.languages = ["de", "en"]
    operator_a.save(update_fields=["languages"])
    client = Client()
    client.force_login(operator_a.user)
    page = client.get(reverse("operators:console")).content.decode()
    assert "You take calls in German, English." in page


def test_the_business_admin_sets_the_routing_fallback_of_their_business_only(business_a, business_b):
    client = _admin_of(business_a)
    form = {
        "webhook_url": "",
        "routing_fallback_seconds": 90,
        # The booked calls' settings, as the form shows them.
        **{
            field: getattr(business_a, field)
            for field in ("time_zone", "slot_minutes", "booking_horizon_days", "booked_operator_ring_seconds",
                          "no_show_after_minutes", "reminder_minutes_before")
        },
    }

    own = client.post(reverse("admin:accounts_business_change", args=[business_a.pk]), form)
    other = client.post(reverse("admin:accounts_business_change", args=[business_b.pk]), form)

    assert own.status_code == 302, own.content.decode()[:2000]
    assert other.status_code in (302, 403, 404)
    business_a.refresh_from_db()
    business_b.refresh_from_db()
    assert (business_a.routing_fallback_seconds, business_b.routing_fallback_seconds) == (90, 0)
