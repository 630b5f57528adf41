"""A business's own compliance officer (compliance staff linked to that
business: Cora, Alpha Bank) reviews that business only; compliance staff
linked to no business (Carol) review every business.

Reproduces: before per-business administration the compliance group read
every business, and the session review, export and evidence pages (and the
recording stream) checked the role but not whose session it was."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import COMPLIANCE_GROUP
from accounts.services import business_staff_add
from operators.compliance.recording_views import may_review_recording
from sessions_app.models import Evidence
from tests.compliance.conftest import store_evidence
from tests.conftest import make_user


@pytest.fixture
def officer_a(business_a):
    user = make_user("cora")
    business_staff_add(user=user, business=business_a, role=COMPLIANCE_GROUP)
    return user


def browser_of(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def session_pages(call) -> dict:
    evidence = Evidence.objects.filter(session=call.session).first()
    pk = call.session.pk
    return {
        "review": reverse("admin:sessions_app_verificationsession_review", args=[pk]),
        "export": reverse("admin:sessions_app_verificationsession_export", args=[pk]),
        "evidence": reverse("admin:sessions_app_verificationsession_evidence", args=[pk, evidence.public_id.hex]),
        "change": reverse("admin:sessions_app_verificationsession_change", args=[pk]),
    }


@pytest.fixture
def calls(live_call, other_call):
    store_evidence(live_call)
    store_evidence(other_call)
    return live_call, other_call


def test_business_compliance_officer_reviews_only_their_business(calls, officer_a):
    own, other = calls
    browser = browser_of(officer_a)
    for name, url in session_pages(own).items():
        assert browser.get(url).status_code == 200, name
    for name, url in session_pages(other).items():
        response = browser.get(url)
        assert response.status_code in (302, 404), f"{name}: {response.status_code}"
        assert other.participant.name.encode() not in response.content
        assert str(other.session.public_id).encode() not in response.content
    listing = browser.get(reverse("admin:sessions_app_participant_changelist")).content.decode()
    assert own.participant.name in listing and other.participant.name not in listing
    assert "Beta Bank" not in listing, "nor in the list filter"


def test_platform_wide_compliance_reviews_every_business(calls, compliance_user):
    browser = browser_of(compliance_user)
    for call in calls:
        for name, url in session_pages(call).items():
            assert browser.get(url).status_code == 200, name


def test_business_compliance_officer_cannot_play_another_business_recording(calls, officer_a, compliance_user):
    own, other = calls
    assert may_review_recording(officer_a, own.session)
    assert not may_review_recording(officer_a, other.session)
    assert may_review_recording(compliance_user, other.session)


def test_a_user_is_staff_of_one_business_only(officer_a, business_b):
    with pytest.raises(ValidationError, match="another business"):
        business_staff_add(user=officer_a, business=business_b, role=COMPLIANCE_GROUP)
    assert officer_a.business_staff.business.name == "Alpha Bank"
