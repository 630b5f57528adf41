"""Idempotency-Key on create: a retried request never makes two sessions."""

from datetime import timedelta

from django.utils import timezone

from operators.models import IdempotencyKey
from sessions_app.models import VerificationSession
from tests.api.conftest import session_body
from tests.api.test_api_authentication import assert_problem

SESSIONS = "/api/v1/sessions"


def create(client, body, key):
    return client.post(SESSIONS, body, format="json", headers={"Idempotency-Key": key})


def test_retry_with_the_same_key_and_body_answers_the_first_answer(api_a, workflow_a):
    first = create(api_a, session_body(workflow_a), "order-4711")
    again = create(api_a, session_body(workflow_a), "order-4711")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert VerificationSession.objects.count() == 1


def test_the_order_of_keys_in_the_body_does_not_matter(api_a, workflow_a):
    body = session_body(workflow_a)
    reordered = dict(reversed(list(body.items())))
    first = create(api_a, body, "k-1")
    again = api_a.post(SESSIONS, data=reordered, format="json", headers={"Idempotency-Key": "k-1"})
    assert again.json()["id"] == first.json()["id"]


def test_same_key_with_another_body_is_a_conflict(api_a, workflow_a):
    create(api_a, session_body(workflow_a), "order-4711")
    response = create(api_a, session_body(workflow_a, business_reference="OTHER"), "order-4711")
    assert_problem(response, 409, "idempotency_key_reused")
    assert VerificationSession.objects.count() == 1


def test_keys_of_two_businesses_never_meet(api_a, api_b, workflow_a, workflow_b):
    """Beta Bank using the same key gets its own session, not Alpha's answer."""
    first = create(api_a, session_body(workflow_a), "shared-key")
    other = create(api_b, session_body(workflow_b), "shared-key")
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]


def test_a_refused_request_does_not_use_up_its_key(api_a, workflow_a):
    refused = create(api_a, session_body(workflow_a, participants=[]), "k-2")
    assert refused.status_code == 400
    fixed = create(api_a, session_body(workflow_a), "k-2")
    assert fixed.status_code == 201


def test_stored_answer_holds_no_readable_link(api_a, workflow_a):
    answer = create(api_a, session_body(workflow_a), "k-3").json()
    row = IdempotencyKey.objects.get()
    link = answer["participants"][0]["link"]
    assert link.rsplit("/", 1)[1] not in row.response_encrypted
    assert "k-3" not in row.key_hash


def test_a_key_is_forgotten_after_its_lifetime(api_a, workflow_a, settings):
    first = create(api_a, session_body(workflow_a), "k-4")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS + 1))
    later = create(api_a, session_body(workflow_a), "k-4")
    assert later.status_code == 201
    assert later.json()["id"] != first.json()["id"]


def test_invalid_key_is_refused(api_a, workflow_a):
    body = assert_problem(create(api_a, session_body(workflow_a), "x" * 256), 400, "idempotency_key_invalid")
    assert "Idempotency-Key" in body["errors"]
    assert not VerificationSession.objects.exists()
