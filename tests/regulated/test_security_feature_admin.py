"""The security feature catalogue in admin: a business's admin keeps the
business's own entries and reads the product's defaults, which only platform
staff change."""

from django.test import Client
from django.urls import reverse

from accounts.models import BUSINESS_ADMINS_GROUP
from accounts.services import business_staff_add
from tests.conftest import make_user
from workflows.models import SecurityFeature


def _admin_of(business, name="ada"):
    user = make_user(name)
    business_staff_add(user=user, business=business, role=BUSINESS_ADMINS_GROUP)
    browser = Client()
    browser.force_login(user)
    return browser


def test_a_business_admin_reads_but_cannot_change_a_default_feature(business_a):
    browser = _admin_of(business_a)
    default = SecurityFeature.objects.filter(business=None).first()
    url = reverse("admin:workflows_securityfeature_change", args=[default.pk])
    page = browser.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert browser.post(url, {"document_kind": "id_card"}).status_code == 403
    assert browser.post(reverse("admin:workflows_securityfeature_delete", args=[default.pk]), {"post": "yes"}).status_code == 403
    assert SecurityFeature.objects.filter(pk=default.pk).exists()


def test_a_feature_a_business_admin_adds_is_their_business_own(business_a):
    browser = _admin_of(business_a)
    answer = browser.post(
        reverse("admin:workflows_securityfeature_add"),
        {
            "document_kind": "passport",
            "category": "material",
            "name": '{"en": "Bank-verified cover", "de": "Geprüfter Einband"}',
            "instruction": '{"en": "Embossed eagle on the cover."}',
            "active": "on",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    feature = SecurityFeature.objects.get(name__en="Bank-verified cover")
    assert feature.business == business_a


def test_a_feature_name_must_be_texts_by_language(business_a):
    browser = _admin_of(business_a)
    answer = browser.post(
        reverse("admin:workflows_securityfeature_add"),
        {"document_kind": "passport", "category": "material", "name": '{"xx": "?"}', "instruction": '"ok"'},
    )
    assert answer.status_code == 200 and not SecurityFeature.objects.filter(business=business_a).exists()
