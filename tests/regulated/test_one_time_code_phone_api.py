"""The customer's phone number for a one-time code by SMS: accepted by the
API in E.164, shown masked, and required by a workflow that sends the code
by SMS (400 without it)."""

from kyc import regulations
from sessions_app.models import Participant
from tests.api.conftest import api_a, celery_eager, key_a, session_body  # noqa: F401 - fixtures

SESSIONS = "/api/v1/sessions"


def _sms_workflow(workflow):
    workflow.rules = [regulations.TAN_AT_END]
    workflow.tan_channel = "sms"
    workflow.save()
    return workflow


def _participant(**fields):
    return {"name": "Max Mustermann", "email": "max@example.com", **fields}


def test_a_phone_number_is_kept_and_answered_masked(api_a, workflow_a):
    body = session_body(_sms_workflow(workflow_a), participants=[_participant(phone="+4915112345678")])
    response = api_a.post(SESSIONS, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["participants"][0]["phone"] == "+49*******5678"
    assert Participant.objects.get().phone == "+4915112345678"


def test_a_tan_by_sms_workflow_refuses_a_participant_without_a_phone(api_a, workflow_a):
    response = api_a.post(SESSIONS, session_body(_sms_workflow(workflow_a)), format="json")
    assert response.status_code == 400
    assert "SMS" in str(response.json()["errors"])
    assert not Participant.objects.exists()


def test_a_phone_number_not_in_international_form_is_refused(api_a, workflow_a):
    for phone in ("015112345678", "+49 151 1234", "+0123456789", "+49151123456789012"):
        response = api_a.post(SESSIONS, session_body(workflow_a, participants=[_participant(phone=phone)]), format="json")
        assert response.status_code == 400, phone
    assert not Participant.objects.exists()


def test_a_workflow_without_the_rule_needs_no_phone(api_a, workflow_a):
    assert api_a.post(SESSIONS, session_body(workflow_a), format="json").status_code == 201
