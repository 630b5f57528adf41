"""``manage.py business_staff_add``: how a business admin is made, and a clear
error (nothing changed) for a user who already works for another business."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import BUSINESS_ADMINS_GROUP, BusinessStaff
from tests.conftest import make_user


def test_command_makes_a_business_admin(business_a):
    user = make_user("ada")
    call_command("business_staff_add", "ada", "alpha-bank", role=BUSINESS_ADMINS_GROUP)
    user.refresh_from_db()
    assert user.is_staff and user.groups.filter(name=BUSINESS_ADMINS_GROUP).exists()
    assert user.business_staff.business == business_a


def test_command_refuses_a_second_business(business_a, business_b):
    make_user("ada")
    call_command("business_staff_add", "ada", "alpha-bank", role=BUSINESS_ADMINS_GROUP)
    with pytest.raises(CommandError, match="already staff of another business"):
        call_command("business_staff_add", "ada", "beta-bank", role=BUSINESS_ADMINS_GROUP)
    assert BusinessStaff.objects.get(user__username="ada").business == business_a


def test_command_refuses_an_operator_of_another_business(operator_b, business_a):
    with pytest.raises(CommandError, match="operator of another business"):
        call_command("business_staff_add", "bob", "alpha-bank", role=BUSINESS_ADMINS_GROUP)
    assert not BusinessStaff.objects.exists()
    operator_b.user.refresh_from_db()
    assert not operator_b.user.is_staff
