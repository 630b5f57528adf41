"""Working hours are edited inline on the operator in the admin, by the
operator's own business admin, and the business's booking settings on the
business; another business's admin gets neither."""

from datetime import time

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import BUSINESS_ADMINS_GROUP, WorkingHours, time_zone_validate
from accounts.services import business_staff_add
from tests.conftest import make_user


@pytest.fixture
def admin_of_a(business_a):
    user = make_user("ada", is_staff=True)
    business_staff_add(user=user, business=business_a, role=BUSINESS_ADMINS_GROUP)
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def admin_of_b(business_b):
    user = make_user("bert", is_staff=True)
    business_staff_add(user=user, business=business_b, role=BUSINESS_ADMINS_GROUP)
    browser = Client()
    browser.force_login(user)
    return browser


def _operator_form(operator, **extra) -> dict:
    return {
        "display_name": operator.display_name,
        "presence": operator.presence,
        "last_seen_at_0": "",
        "last_seen_at_1": "",
        "working_hours-TOTAL_FORMS": "1",
        "working_hours-INITIAL_FORMS": "0",
        "working_hours-MIN_NUM_FORMS": "0",
        "working_hours-MAX_NUM_FORMS": "1000",
        # The training attestations inline (regulated deployments), left empty.
        "trainings-TOTAL_FORMS": "0",
        "trainings-INITIAL_FORMS": "0",
        "trainings-MIN_NUM_FORMS": "0",
        "trainings-MAX_NUM_FORMS": "1000",
        **extra,
    }


def test_the_business_admin_adds_working_hours_to_their_operator(admin_of_a, operator_a):
    url = f"/admin/accounts/operator/{operator_a.pk}/change/"
    assert "working_hours-TOTAL_FORMS" in admin_of_a.get(url).content.decode()
    response = admin_of_a.post(
        url,
        _operator_form(operator_a, **{"working_hours-0-weekday": "0", "working_hours-0-start": "09:00", "working_hours-0-end": "17:00"}),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [hours] = WorkingHours.objects.filter(operator=operator_a)
    assert (hours.weekday, hours.start, hours.end) == (0, time(9), time(17))


def test_an_end_before_the_start_is_refused(admin_of_a, operator_a):
    url = f"/admin/accounts/operator/{operator_a.pk}/change/"
    response = admin_of_a.post(
        url,
        _operator_form(operator_a, **{"working_hours-0-weekday": "0", "working_hours-0-start": "17:00", "working_hours-0-end": "09:00"}),
    )
    assert response.status_code == 200
    assert "The end must be after the start." in response.content.decode()
    assert not WorkingHours.objects.exists()


def test_another_business_s_admin_cannot_reach_the_operator(admin_of_b, operator_a):
    response = admin_of_b.get(f"/admin/accounts/operator/{operator_a.pk}/change/")
    assert response.status_code in (302, 403, 404)


def test_the_business_admin_sets_the_time_zone_and_it_must_be_a_real_one(admin_of_a, business_a):
    page = admin_of_a.get(f"/admin/accounts/business/{business_a.pk}/change/").content.decode()
    assert 'name="time_zone"' in page and 'name="slot_minutes"' in page
    time_zone_validate("America/Sao_Paulo")
    with pytest.raises(ValidationError):
        time_zone_validate("Mars/Olympus")
    with pytest.raises(ValidationError):
        time_zone_validate("+02:00")  # an offset is wrong half the year
