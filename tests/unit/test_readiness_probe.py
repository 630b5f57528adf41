"""/readyz answers 200 when the database and the cache answer, and 503 naming
what does not (a load balancer takes the process out until it recovers);
/healthz only says the process is up."""

from unittest import mock

import pytest
from django.db import OperationalError


@pytest.mark.django_db
def test_ready_when_database_and_cache_answer(client):
    response = client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"ready": True, "failing": []})


@pytest.mark.django_db
def test_not_ready_names_the_database_when_it_fails(client):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("gone")):
        response = client.get("/readyz")
    assert (response.status_code, response.json()) == (503, {"ready": False, "failing": ["database"]})


@pytest.mark.django_db
def test_not_ready_names_the_cache_when_it_fails(client):
    with mock.patch("django.core.cache.cache.set", side_effect=ConnectionError("redis down")):
        response = client.get("/readyz")
    assert (response.status_code, response.json()) == (503, {"ready": False, "failing": ["cache"]})


def test_healthz_asks_nothing_of_the_database(client):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=AssertionError("no query")):
        assert client.get("/healthz").content == b"ok"
