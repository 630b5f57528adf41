"""The businesses' side of the named people: ``key_a`` is an API key of
business A (Alpha Bank), ``key_b`` one of business B (Beta Bank).
``api_a`` / ``api_b`` are API clients holding them; ``api_anonymous`` holds none.

Celery runs eagerly in these tests whatever the environment (CI also runs the
suite with REDIS_URL set, where nothing would consume the queue)."""

import pytest
from rest_framework.test import APIClient

from operators.integration import api_key_create


@pytest.fixture(autouse=True)
def celery_eager(settings):
    from kyc.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def key_a(business_a):
    api_key, raw = api_key_create(business=business_a, name="Alpha CRM")
    api_key.raw = raw
    return api_key


@pytest.fixture
def key_b(business_b):
    api_key, raw = api_key_create(business=business_b, name="Beta CRM")
    api_key.raw = raw
    return api_key


def client_with(raw_key: str | None) -> APIClient:
    client = APIClient()
    if raw_key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def api_a(key_a) -> APIClient:
    return client_with(key_a.raw)


@pytest.fixture
def api_b(key_b) -> APIClient:
    return client_with(key_b.raw)


@pytest.fixture
def api_anonymous() -> APIClient:
    return client_with(None)


def session_body(workflow_template, **overrides) -> dict:
    body = {
        "workflow": workflow_template.pk,
        "business_reference": "LOAN-2026-001",
        "participants": [
            {"name": "Max Mustermann", "email": "max@example.com", "business_reference": "CUST-1", "language": "de"}
        ],
    }
    body.update(overrides)
    return body
