"""GET /api/v1/sessions: the business's own sessions, filtered, by cursor."""

from datetime import timedelta
from urllib.parse import urlsplit

from django.utils import timezone

from sessions_app.audit import Actor
from sessions_app.models import VerificationSession
from sessions_app.services import session_cancel
from tests.api.test_api_authentication import assert_problem
from tests.conftest import create_call

SESSIONS = "/api/v1/sessions"


def ids(response) -> list[str]:
    return [session["id"] for session in response.json()["results"]]


def test_lists_only_the_business_own_sessions_newest_first(api_a, business_a, workflow_a, other_call):
    first, _ = create_call(business_a, workflow_a)
    second, _ = create_call(business_a, workflow_a)
    response = api_a.get(SESSIONS)
    assert response.status_code == 200
    assert ids(response) == [str(second.public_id), str(first.public_id)]
    assert str(other_call.session.public_id) not in ids(response)


def test_cursor_pagination_walks_every_session_once(api_a, business_a, workflow_a):
    made = {str(create_call(business_a, workflow_a)[0].public_id) for _ in range(7)}
    seen = []
    response = api_a.get(SESSIONS, {"page_size": 3})
    pages = 0
    while True:
        pages += 1
        seen.extend(ids(response))
        next_url = response.json()["next"]
        if not next_url:
            break
        assert next_url.startswith("http://127.0.0.1:8000/api/v1/sessions?") or "/api/v1/sessions?" in next_url
        parts = urlsplit(next_url)
        response = api_a.get(f"{parts.path}?{parts.query}")
    assert pages == 3
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))


def test_next_link_is_built_on_the_public_base_url(api_a, business_a, workflow_a, settings):
    settings.PUBLIC_BASE_URL = "https://kyc.example.com"
    for _ in range(2):
        create_call(business_a, workflow_a)
    settings.ALLOWED_HOSTS = ["*"]
    response = api_a.get(SESSIONS, {"page_size": 1}, headers={"host": "evil.example"})
    assert response.json()["next"].startswith("https://kyc.example.com/api/v1/sessions?")


def test_filter_by_state(api_a, business_a, workflow_a):
    kept, _ = create_call(business_a, workflow_a)
    cancelled, _ = create_call(business_a, workflow_a)
    session_cancel(session=cancelled, actor=Actor.api())
    assert ids(api_a.get(SESSIONS, {"state": "cancelled"})) == [str(cancelled.public_id)]
    assert ids(api_a.get(SESSIONS, {"state": "created"})) == [str(kept.public_id)]


def test_filter_by_creation_time(api_a, business_a, workflow_a):
    old, _ = create_call(business_a, workflow_a)
    new, _ = create_call(business_a, workflow_a)
    VerificationSession.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    boundary = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(api_a.get(SESSIONS, {"created_after": boundary})) == [str(new.public_id)]
    assert ids(api_a.get(SESSIONS, {"created_before": boundary})) == [str(old.public_id)]


def test_filter_by_business_reference_of_session_or_participant(api_a, business_a, workflow_a):
    session, links = create_call(business_a, workflow_a)  # business_reference REF-1
    other, _ = create_call(business_a, workflow_a)
    VerificationSession.objects.filter(pk=other.pk).update(business_reference="REF-2")
    participant = links[0][0]
    participant.business_reference = "CUST-9"
    participant.save(update_fields=["business_reference"])
    assert ids(api_a.get(SESSIONS, {"business_reference": "REF-1"})) == [str(session.public_id)]
    assert ids(api_a.get(SESSIONS, {"business_reference": "CUST-9"})) == [str(session.public_id)]


def test_invalid_filters_name_the_parameter(api_a, db):
    for params, field in [
        ({"state": "sleeping"}, "state"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1000}, "page_size"),
        ({"cursor": "garbage"}, "cursor"),
    ]:
        body = assert_problem(api_a.get(SESSIONS, params), 400, "validation_error")
        assert field in body["errors"], (params, body)
