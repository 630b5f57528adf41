"""POST /api/v1/sessions: a business creates a session and gets one working
link per participant."""

import pytest
from django.core import mail

from sessions_app.models import AuditEvent, VerificationSession
from sessions_app.selectors import participant_resolve_link
from tests.api.conftest import session_body
from tests.api.test_api_authentication import assert_problem
from workflows.models import WorkflowTemplate

SESSIONS = "/api/v1/sessions"


def create(client, body, **headers):
    return client.post(SESSIONS, body, format="json", headers=headers)


def test_one_on_one_session_answers_its_id_and_a_working_link(api_a, workflow_a, business_a):
    response = create(api_a, session_body(workflow_a))
    assert response.status_code == 201, response.json()
    body = response.json()
    session = VerificationSession.objects.get(public_id=body["id"])
    assert session.business == business_a
    assert body["kind"] == "one_on_one"
    assert body["state"] == "created"
    assert body["business_reference"] == "LOAN-2026-001"
    [participant] = body["participants"]
    assert participant["name"] == "Max Mustermann"
    assert participant["language"] == "de"
    assert participant["check_results"] == []
    token = participant["link"].rsplit("/v/", 1)[1]
    assert str(participant_resolve_link(raw_token=token).public_id) == participant["id"]
    assert participant["link"].startswith("http://127.0.0.1:8000/v/") or "/v/" in participant["link"]


def test_multi_user_session_gives_each_participant_their_own_link(api_a, workflow_a):
    people = [{"name": name, "email": f"{name.lower()}@example.com"} for name in ("Anna", "Ben", "Cara")]
    response = create(api_a, session_body(workflow_a, participants=people))
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "multi_user"
    links = [participant["link"] for participant in body["participants"]]
    assert len(set(links)) == 3
    assert [participant["name"] for participant in body["participants"]] == ["Anna", "Ben", "Cara"]


def test_optional_fields_are_stored(api_a, workflow_a):
    body = session_body(
        workflow_a,
        redirect_url="https://bank.example/done",
        link_ttl_hours=2,
        participants=[{"name": "Max", "date_of_birth": "1990-05-17"}],
    )
    response = create(api_a, body)
    assert response.status_code == 201
    answer = response.json()
    assert answer["redirect_url"] == "https://bank.example/done"
    assert answer["participants"][0]["date_of_birth"] == "1990-05-17"
    session = VerificationSession.objects.get(public_id=answer["id"])
    participant = session.participants.get()
    lifetime = participant.link_expires_at - session.created_at
    assert 7000 < lifetime.total_seconds() < 7300


def test_creation_is_audited_as_the_business_api(api_a, workflow_a):
    response = create(api_a, session_body(workflow_a))
    session = VerificationSession.objects.get(public_id=response.json()["id"])
    event = AuditEvent.objects.get(session=session, action="session.created")
    assert event.actor_kind == AuditEvent.ActorKind.API


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"participants": [{"email": "x@example.com"}]}, "participants.0.name"),
        ({"participants": [{"name": "   "}]}, "participants.0.name"),
        ({"participants": [{"name": "Max", "email": "not-an-email"}]}, "participants.0.email"),
        ({"participants": [{"name": "Max", "language": "xx"}]}, "participants.0.language"),
        ({"participants": [{"name": "Max", "date_of_birth": "17.05.1990"}]}, "participants.0.date_of_birth"),
        ({"participants": [{"name": "Max", "date_of_birth": "2999-01-01"}]}, "participants.0.date_of_birth"),
        ({"participants": []}, "participants"),
        ({"participants": "Max"}, "participants"),
        ({"workflow": None}, "workflow"),
        ({"workflow": "standard"}, "workflow"),
        ({"workflow": 999999}, "workflow"),
        ({"kind": "crowd"}, "kind"),
        ({"kind": "one_on_one", "participants": [{"name": "A"}, {"name": "B"}]}, "participants"),
        ({"kind": "multi_user", "participants": [{"name": "A"}]}, "participants"),
        ({"participants": [{"name": n} for n in "ABCDE"]}, "participants"),
        ({"link_ttl_hours": 0}, "link_ttl_hours"),
        ({"link_ttl_hours": 100000}, "link_ttl_hours"),
        ({"redirect_url": "javascript:alert(1)"}, "redirect_url"),
        ({"send_links": True, "participants": [{"name": "Max"}]}, "participants.0.email"),
        ({"business_reference": "x" * 201}, "business_reference"),
    ],
)
def test_validation_errors_name_the_field(api_a, workflow_a, change, field):
    response = create(api_a, session_body(workflow_a, **change))
    body = assert_problem(response, 400, "validation_error")
    assert field in body["errors"], body
    assert body["errors"][field]
    assert not VerificationSession.objects.exists()


def test_another_business_workflow_is_unknown_not_forbidden(api_a, workflow_b):
    """Business A must not learn that Beta Bank's workflow exists."""
    body = assert_problem(create(api_a, session_body(workflow_b)), 400, "validation_error")
    assert body["errors"]["workflow"] == ["Unknown workflow."]


def test_inactive_workflow_is_refused(api_a, workflow_a):
    WorkflowTemplate.objects.filter(pk=workflow_a.pk).update(is_active=False)
    body = assert_problem(create(api_a, session_body(workflow_a)), 400, "validation_error")
    assert body["errors"]["workflow"] == ["This workflow is not active."]


def test_send_links_emails_each_participant_after_commit(api_a, workflow_a, django_capture_on_commit_callbacks):
    people = [{"name": "Anna", "email": "anna@example.com"}, {"name": "Ben", "email": "ben@example.com"}]
    with django_capture_on_commit_callbacks(execute=True):
        response = create(api_a, session_body(workflow_a, participants=people, send_links=True))
    assert response.status_code == 201
    links = {p["email"]: p["link"] for p in response.json()["participants"]}
    assert sorted(message.to[0] for message in mail.outbox) == ["anna@example.com", "ben@example.com"]
    for message in mail.outbox:
        assert links[message.to[0]] in message.body


def test_without_send_links_nobody_is_emailed(api_a, workflow_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        create(api_a, session_body(workflow_a))
    assert mail.outbox == []
