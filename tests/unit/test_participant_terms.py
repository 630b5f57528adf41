"""participant_accept_terms / participant_decline_terms: the customer's first answer."""

import copy

import pytest
from django.utils import timezone

from kyc.state_machine import IllegalTransition
from sessions_app.models import (
    AuditEvent,
    Participant,
    TermsAcceptance,
    VerificationSession,
)
from sessions_app.services import (
    participant_accept_terms,
    participant_decline_terms,
    participant_join,
)
from tests.conftest import create_call
from workflows.models import WorkflowTemplate

S = VerificationSession.State
P = Participant.State


def _accept(participant, user_agent="Mozilla/5.0 (pytest)"):
    participant_accept_terms(participant=participant, ip_address="192.0.2.10", user_agent=user_agent)


def test_accepting_records_which_terms_when_and_from_where(live_call):
    started = timezone.now()
    _accept(live_call.participant)
    acceptance = TermsAcceptance.objects.get(participant=live_call.participant)
    assert acceptance.terms_version == "v1"
    assert acceptance.ip_address == "192.0.2.10"
    assert acceptance.user_agent == "Mozilla/5.0 (pytest)"
    assert acceptance.accepted_at >= started


def test_accepting_moves_the_customer_on_and_passes_the_terms_step(live_call):
    started = timezone.now()
    _accept(live_call.participant)
    participant = Participant.objects.get(pk=live_call.participant.pk)
    assert participant.state == P.TERMS_ACCEPTED
    assert participant.state_changed_at >= started
    assert participant.steps.get(kind="terms").state == "passed"


def test_accepting_writes_the_transition_to_the_audit_trail(live_call):
    _accept(live_call.participant)
    event = AuditEvent.objects.get(participant=live_call.participant, action="participant.transition")
    assert event.data == {"from": P.INVITED, "to": P.TERMS_ACCEPTED, "terms_version": "v1", "terms_language": "en"}
    assert event.actor_kind == AuditEvent.ActorKind.CUSTOMER


def test_an_overlong_user_agent_is_cut_to_fit(live_call):
    _accept(live_call.participant, user_agent="x" * 2000)
    assert len(TermsAcceptance.objects.get(participant=live_call.participant).user_agent) == 512


def test_a_double_submit_keeps_the_first_acceptance(live_call):
    _accept(live_call.participant)
    events = AuditEvent.objects.count()
    _accept(live_call.participant, user_agent="second tab")
    assert TermsAcceptance.objects.get(participant=live_call.participant).user_agent == "Mozilla/5.0 (pytest)"
    assert AuditEvent.objects.count() == events


def test_accepting_again_after_joining_the_queue_changes_nothing(waiting_call):
    _accept(waiting_call.participant)
    assert Participant.objects.get(pk=waiting_call.participant.pk).state == P.WAITING


def test_customer_who_declined_cannot_accept_afterwards(live_call):
    """Declining is final: a late accept (a second tab) must not be silently dropped either."""
    participant_decline_terms(participant=live_call.participant)
    events = AuditEvent.objects.count()
    with pytest.raises(IllegalTransition):
        _accept(live_call.participant)
    assert Participant.objects.get(pk=live_call.participant.pk).state == P.DECLINED
    assert not TermsAcceptance.objects.filter(participant=live_call.participant).exists()
    assert AuditEvent.objects.count() == events


def test_workflow_without_terms_step_records_acceptance_of_no_terms(business_a):
    workflow = WorkflowTemplate.objects.create(business=business_a, name="No terms", steps=[{"kind": "notes"}])
    _session, [(participant, _url)] = create_call(business_a, workflow)
    _accept(participant)
    assert TermsAcceptance.objects.get(participant=participant).terms_version == "none"
    assert Participant.objects.get(pk=participant.pk).state == P.TERMS_ACCEPTED


def test_declining_in_a_one_on_one_session_cancels_it(live_call):
    started = timezone.now()
    participant_decline_terms(participant=live_call.participant)
    participant = Participant.objects.get(pk=live_call.participant.pk)
    session = VerificationSession.objects.get(pk=live_call.session.pk)
    assert participant.state == P.DECLINED
    assert session.state == S.CANCELLED
    assert session.ended_at >= started
    session_event = AuditEvent.objects.get(session=session, action="session.transition")
    assert session_event.data == {"from": S.CREATED, "to": S.CANCELLED, "reason": "terms_declined"}


def test_declining_twice_writes_one_event(live_call):
    participant_decline_terms(participant=live_call.participant)
    events = AuditEvent.objects.count()
    participant_decline_terms(participant=live_call.participant)
    assert AuditEvent.objects.count() == events


def test_customer_cannot_decline_terms_they_already_accepted(live_call):
    _accept(live_call.participant)
    with pytest.raises(IllegalTransition):
        participant_decline_terms(participant=live_call.participant)
    assert Participant.objects.get(pk=live_call.participant.pk).state == P.TERMS_ACCEPTED
    assert VerificationSession.objects.get(pk=live_call.session.pk).state == S.CREATED


@pytest.fixture
def joint_account(business_a, workflow_a):
    """A multi-user session for Anna and Ben Schmidt."""
    session, links = create_call(business_a, workflow_a, names=("Anna Schmidt", "Ben Schmidt"))
    return session, [participant for participant, _url in links]


def test_one_of_two_declining_leaves_the_session_open_for_the_other(joint_account):
    session, (anna, ben) = joint_account
    participant_decline_terms(participant=anna)
    assert VerificationSession.objects.get(pk=session.pk).state == S.CREATED
    _accept(ben)
    participant_join(participant=ben)
    assert VerificationSession.objects.get(pk=session.pk).state == S.WAITING


def test_session_is_cancelled_when_the_last_participant_declines(joint_account):
    session, (anna, ben) = joint_account
    participant_decline_terms(participant=anna)
    participant_decline_terms(participant=ben)
    assert VerificationSession.objects.get(pk=session.pk).state == S.CANCELLED


def test_declining_while_the_other_waits_leaves_the_queue_alone(joint_account):
    session, (anna, ben) = joint_account
    _accept(ben)
    participant_join(participant=ben)
    participant_decline_terms(participant=anna)
    assert VerificationSession.objects.get(pk=session.pk).state == S.WAITING


def bilingual(workflow, *, texts=None):
    # A copy: the fixture's steps are the shared STANDARD_STEPS list.
    steps = copy.deepcopy(workflow.steps)
    steps[0]["terms_text"] = texts or {"en": "We verify you.", "de": "Wir prüfen Sie."}
    workflow.steps = steps
    workflow.save(update_fields=["steps"])


def test_accepting_on_a_german_page_records_the_german_text(live_call, workflow_a):
    bilingual(workflow_a)
    participant_accept_terms(participant=live_call.participant, ip_address=None, user_agent="pytest", language="de")
    acceptance = TermsAcceptance.objects.get(participant=live_call.participant)
    assert (acceptance.terms_version, acceptance.terms_language) == ("v1", "de")


def test_accepting_on_a_german_page_without_german_text_records_the_default_language(live_call, workflow_a):
    """The customer read the English text, so the record says English, not the page's German."""
    bilingual(workflow_a, texts={"en": "We verify you."})
    participant_accept_terms(participant=live_call.participant, ip_address=None, user_agent="pytest", language="de")
    assert TermsAcceptance.objects.get(participant=live_call.participant).terms_language == "en"


def test_without_a_page_language_the_participants_language_decides(live_call, workflow_a):
    bilingual(workflow_a)
    Participant.objects.filter(pk=live_call.participant.pk).update(language="de")
    participant_accept_terms(participant=Participant.objects.get(pk=live_call.participant.pk), ip_address=None, user_agent="pytest")
    assert TermsAcceptance.objects.get(participant=live_call.participant).terms_language == "de"


def test_the_audit_event_of_the_acceptance_names_the_texts_language(live_call, workflow_a):
    bilingual(workflow_a)
    participant_accept_terms(participant=live_call.participant, ip_address=None, user_agent="pytest", language="de")
    event = AuditEvent.objects.get(participant=live_call.participant, action="participant.transition")
    assert event.data["terms_version"] == "v1"
    assert event.data["terms_language"] == "de"
