"""Retention: sessions past their business's retention period lose their
evidence files and personal fields; an anonymised record and the audit trail
stay, and the chain still verifies."""

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from operators import tasks
from operators.compliance.retention import retention_erase_due
from operators.models import Decision, SessionErasure
from sessions_app.audit import Actor, audit_verify_chain
from sessions_app.models import AuditEvent, Evidence, Participant, VerificationSession
from sessions_app.services import session_end
from tests.compliance.conftest import store_evidence
from tests.conftest import create_call


def _age(session, days):
    VerificationSession.objects.filter(pk=session.pk).update(ended_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def ended_call(reviewed_call):
    session_end(session=reviewed_call.session, actor=Actor.system())
    return reviewed_call


def test_a_session_past_retention_loses_evidence_and_personal_fields(
    ended_call, business_a, settings, django_capture_on_commit_callbacks
):
    files = [Path(settings.EVIDENCE_ROOT) / e.file.name for e in Evidence.objects.filter(session=ended_call.session)]
    assert files and all(path.exists() for path in files)
    _age(ended_call.session, business_a.retention_days + 1)

    with django_capture_on_commit_callbacks(execute=True):
        assert retention_erase_due() == 1

    assert not any(path.exists() for path in files)
    participant = Participant.objects.get(pk=ended_call.participant.pk)
    assert (participant.name, participant.email, participant.business_reference) == ("", "", "")
    assert participant.date_of_birth is None and participant.erased_at is not None
    terms = participant.terms_acceptance
    assert terms.ip_address is None and terms.user_agent == ""
    assert all(step.data == {} for step in participant.steps.all())
    decision = Decision.objects.get(participant=participant)
    assert decision.comment == ""
    assert (decision.outcome, decision.reason_code) == ("approve", "verified"), "the anonymised record stays"
    for evidence in Evidence.objects.filter(session=ended_call.session):
        assert evidence.erased_at is not None and evidence.file.name == ""
        assert len(evidence.sha256) == 64
    session = VerificationSession.objects.get(pk=ended_call.session.pk)
    assert session.business_reference == "" and session.state == "completed"
    assert SessionErasure.objects.get(session=session).evidence_files == 2


def test_the_erasure_is_audited_and_the_chain_still_verifies(ended_call, business_a):
    _age(ended_call.session, business_a.retention_days + 1)
    retention_erase_due()
    event = AuditEvent.objects.get(session=ended_call.session, action="session.erased")
    assert event.actor_kind == AuditEvent.ActorKind.SYSTEM
    assert event.data["evidence"] == 2
    assert audit_verify_chain(business=business_a) == []


def test_a_session_within_retention_is_kept(ended_call, business_a):
    _age(ended_call.session, business_a.retention_days - 1)
    assert retention_erase_due() == 0
    assert Participant.objects.get(pk=ended_call.participant.pk).name == "Max Mustermann"


def test_each_business_has_its_own_period(ended_call, other_call, business_b):
    """Beta Bank keeps 30 days: only its old, never-started session goes."""
    business_b.retention_days = 30
    business_b.save()
    Participant.objects.filter(session=other_call.session).update(link_expires_at=timezone.now() - timedelta(days=31))
    _age(ended_call.session, 31)  # Alpha Bank keeps 365 days
    assert retention_erase_due() == 1
    assert SessionErasure.objects.get().session_id == other_call.session.pk


def test_running_twice_erases_once(ended_call, business_a):
    _age(ended_call.session, business_a.retention_days + 1)
    assert retention_erase_due() == 1
    assert retention_erase_due() == 0
    assert AuditEvent.objects.filter(action="session.erased").count() == 1


def test_a_file_left_behind_by_a_crash_is_deleted_on_the_next_run(ended_call, business_a, settings):
    """Marked erased in the database, but the process died before deleting the file."""
    extra = store_evidence(ended_call)
    Evidence.objects.filter(pk=extra.pk).update(erased_at=timezone.now())
    path = Path(settings.EVIDENCE_ROOT) / extra.file.name
    assert path.exists()
    retention_erase_due()
    assert not path.exists()
    assert Evidence.objects.get(pk=extra.pk).file.name == ""


def test_the_periodic_task_and_the_command_run_the_job(ended_call, business_a, business_b, workflow_a):
    _age(ended_call.session, business_a.retention_days + 1)
    assert tasks.retention_erase_due()["sessions_erased"] == 1
    later, _ = create_call(business_a, workflow_a)
    VerificationSession.objects.filter(pk=later.pk).update(
        state="cancelled", ended_at=timezone.now() - timedelta(days=400)
    )
    call_command("run_periodic_tasks", "--only", "retention", stdout=io.StringIO())
    assert SessionErasure.objects.filter(session=later).exists()


def test_the_api_shows_an_erased_session_as_anonymised(ended_call, business_a, key_a):
    from tests.api.conftest import client_with

    _age(ended_call.session, business_a.retention_days + 1)
    retention_erase_due()
    body = client_with(key_a.raw).get(f"/api/v1/sessions/{ended_call.session.public_id}").json()
    participant = body["participants"][0]
    assert participant["erased"] is True
    assert participant["name"] == "" and participant["email"] == ""
    assert participant["decision"]["outcome"] == "approve"


def test_the_beat_schedule_runs_retention(settings):
    assert settings.CELERY_BEAT_SCHEDULE["retention-erase"]["task"] == "operators.tasks.retention_erase_due"


def test_the_admin_history_forgets_the_name(ended_call, business_a, superuser):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.log_actions(
        user_id=superuser.pk, queryset=[ended_call.participant], action_flag=CHANGE, change_message="Changed name."
    )
    _age(ended_call.session, business_a.retention_days + 1)
    retention_erase_due()
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Participant))
    assert "Mustermann" not in entry.object_repr


def test_check_results_lose_what_they_read_and_keep_their_verdict(ended_call, business_a):
    """The MRZ's names, document number and dates are personal data."""
    from tests.checks import fakes
    from workflows.models import CheckResult

    fakes.store(ended_call.document, fakes.mrz_passed())
    fakes.store(ended_call.document, fakes.quality_passed())
    _age(ended_call.session, business_a.retention_days + 1)

    retention_erase_due()

    results = CheckResult.objects.filter(participant=ended_call.participant)
    assert results.count() == 2
    for result in results:
        assert result.details == {}
        assert result.status == "passed" and result.score is not None and result.engine_version.startswith("test-")
    assert fakes.DOCUMENT_NUMBER not in json.dumps(list(results.values()), default=str)
    assert audit_verify_chain(business=business_a) == []
