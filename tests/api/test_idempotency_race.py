"""Two identical create requests with the same Idempotency-Key at the same
moment (a client that retries before the first answer came back) make one
session, and both get its answer. Each request runs in its own thread with its
own database connection, so the database's locks decide, as in production."""

import threading
import time

import pytest
from django.db import connections

from operators import integration
from sessions_app.models import VerificationSession
from tests.api.conftest import client_with, session_body

# Long enough that the second request arrives while the first one is still
# inside its transaction, after its check for an existing key.
HOLD_SECONDS = 0.5


@pytest.fixture
def slow_create(monkeypatch):
    original = integration.api_session_create

    def held(**kwargs):
        created = original(**kwargs)
        time.sleep(HOLD_SECONDS)
        return created

    monkeypatch.setattr(integration, "api_session_create", held)


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_make_one_session(key_a, workflow_a, slow_create):
    barrier = threading.Barrier(2)
    answers = []

    def send():
        try:
            barrier.wait(timeout=10)
            response = client_with(key_a.raw).post(
                "/api/v1/sessions", session_body(workflow_a), format="json", headers={"Idempotency-Key": "same"}
            )
            answers.append((response.status_code, response.json().get("id")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert [status for status, _ in answers] == [201, 201], answers
    assert answers[0][1] == answers[1][1]
    assert VerificationSession.objects.count() == 1
