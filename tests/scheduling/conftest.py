"""Booked calls: Alpha Bank (Europe/Berlin) with Alice and Anton working
09:00-12:00 on weekdays, 30-minute slots. ``monday_8am`` is a Monday in
winter, before anybody's shift, the "now" most tests use (times are passed
in, never read from the clock)."""

from datetime import UTC, datetime, time

import pytest

from accounts.models import WorkingHours
from tests.api.conftest import api_a, api_b, celery_eager, key_a, key_b  # noqa: F401  (fixtures)

MONDAY_8AM_BERLIN = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)  # 08:00 CET


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def hours(operator, weekdays=range(5), start=time(9), end=time(12)):
    for weekday in weekdays:
        WorkingHours.objects.create(operator=operator, weekday=weekday, start=start, end=end)


@pytest.fixture
def alice_works(operator_a):
    hours(operator_a)
    return operator_a


@pytest.fixture
def anton_works(operator_a2):
    hours(operator_a2)
    return operator_a2


@pytest.fixture
def monday_8am():
    return MONDAY_8AM_BERLIN
