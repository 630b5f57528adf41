"""Carol (compliance) sees every record read-only; only a superuser changes
or deletes. Alice and Bob (operators, not staff), and Stan (staff without the
compliance group) must not get in at all."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from operators.models import Decision
from sessions_app.models import AuditEvent, Evidence, Recording, TermsAcceptance
from workflows.models import CheckResult, StepState


def a_check_result(call) -> int:
    return CheckResult.objects.create(
        evidence=call.document, participant=call.participant, kind=CheckResult.Kind.MRZ,
        status=CheckResult.Status.PASSED, score=1.0, details={"fields": {"surname": "MUSTERMANN"}},
        engine="rapidocr", engine_version="test",
    ).pk


def a_recording(call) -> int:
    return Recording.objects.create(
        public_id=uuid.uuid4(), session=call.session, participant=call.participant, stream="operator",
        segment=0, mime_type="video/webm", started_at=timezone.now(),
    ).pk


MODELS = {
    "sessions_app_verificationsession": lambda call: call.session.pk,
    "sessions_app_participant": lambda call: call.participant.pk,
    "sessions_app_termsacceptance": lambda call: TermsAcceptance.objects.get(participant=call.participant).pk,
    "sessions_app_evidence": lambda call: Evidence.objects.filter(session=call.session).first().pk,
    "sessions_app_auditevent": lambda call: AuditEvent.objects.filter(session=call.session).first().pk,
    "operators_decision": lambda call: Decision.objects.get(participant=call.participant).pk,
    "workflows_stepstate": lambda call: StepState.objects.filter(participant=call.participant).first().pk,
    "workflows_checkresult": a_check_result,
    "sessions_app_recording": a_recording,
}


def browser_of(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.mark.parametrize("model", MODELS)
def test_compliance_can_view_every_record(reviewed_call, compliance_user, model):
    browser = browser_of(compliance_user)
    assert browser.get(reverse(f"admin:{model}_changelist")).status_code == 200
    page = browser.get(reverse(f"admin:{model}_change", args=[MODELS[model](reviewed_call)]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content, "a read-only page has no Save button"


@pytest.mark.parametrize("model", MODELS)
def test_compliance_cannot_change_add_or_delete(reviewed_call, compliance_user, model):
    browser = browser_of(compliance_user)
    pk = MODELS[model](reviewed_call)
    assert browser.post(reverse(f"admin:{model}_change", args=[pk]), {"name": "Changed"}).status_code == 403
    assert browser.get(reverse(f"admin:{model}_add")).status_code == 403
    assert browser.post(reverse(f"admin:{model}_delete", args=[pk]), {"post": "yes"}).status_code == 403


def test_compliance_post_leaves_the_participant_unchanged(reviewed_call, compliance_user):
    browser = browser_of(compliance_user)
    url = reverse("admin:sessions_app_participant_change", args=[reviewed_call.participant.pk])
    browser.post(url, {"name": "Someone Else", "email": "x@example.com"})
    reviewed_call.participant.refresh_from_db()
    assert reviewed_call.participant.name == "Max Mustermann"


def test_superuser_may_change(reviewed_call, superuser):
    url = reverse("admin:sessions_app_participant_change", args=[reviewed_call.participant.pk])
    page = browser_of(superuser).get(url)
    assert page.status_code == 200 and b'name="_save"' in page.content


SESSION_PAGES = ["review", "export", "change"]


@pytest.mark.parametrize("page", SESSION_PAGES)
def test_operators_cannot_reach_session_pages(reviewed_call, operator_a, operator_b, page):
    """Alice (Alpha's own operator) and Bob (Beta's) are sent to the admin login."""
    url = reverse(f"admin:sessions_app_verificationsession_{page}", args=[reviewed_call.session.pk])
    for operator in (operator_a, operator_b):
        response = browser_of(operator.user).get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_operators_cannot_reach_evidence(reviewed_call, operator_b):
    url = reverse(
        "admin:sessions_app_verificationsession_evidence",
        args=[reviewed_call.session.pk, reviewed_call.face.public_id],
    )
    response = browser_of(operator_b.user).get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Client().get(url).status_code == 302, "nor can anybody logged out"


@pytest.mark.parametrize("page", SESSION_PAGES)
def test_staff_without_compliance_group_is_refused(reviewed_call, outsider_staff, page):
    url = reverse(f"admin:sessions_app_verificationsession_{page}", args=[reviewed_call.session.pk])
    assert browser_of(outsider_staff).get(url).status_code == 403
    evidence_url = reverse(
        "admin:sessions_app_verificationsession_evidence",
        args=[reviewed_call.session.pk, reviewed_call.face.public_id],
    )
    assert browser_of(outsider_staff).get(evidence_url).status_code == 403


def test_audit_trail_is_append_only_even_for_superusers(reviewed_call, superuser):
    event = AuditEvent.objects.filter(session=reviewed_call.session).first()
    browser = browser_of(superuser)
    assert browser.post(reverse("admin:sessions_app_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert browser.get(reverse("admin:sessions_app_auditevent_add")).status_code == 403
