"""operators.services.decision_record: the operator's verdict on one customer."""

import pytest
from django.core.exceptions import ValidationError

from operators.models import Decision
from operators.services import decision_record
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Participant
from sessions_app.services import session_cancel, session_end

P = Participant.State


def _decide(call, operator, outcome="approve", reason_code="verified"):
    return decision_record(
        participant=call.participant,
        operator=operator,
        outcome=outcome,
        reason_code=reason_code,
        comment="Passport matches.",
        share_with_customer=True,
    )


def _nothing_decided(call, events_before):
    return (
        not Decision.objects.filter(participant=call.participant).exists()
        and AuditEvent.objects.count() == events_before
    )


def test_decision_is_stored_and_the_customer_is_decided(answered_call, operator_a):
    decision = _decide(answered_call, operator_a)
    decision.refresh_from_db()
    assert (decision.outcome, decision.reason_code, decision.operator) == ("approve", "verified", operator_a)
    assert decision.shared_with_customer
    assert Participant.objects.get(pk=answered_call.participant.pk).state == P.DECIDED


def test_decision_writes_the_transition_and_the_decision_to_the_audit_trail(answered_call, operator_a):
    decision = _decide(answered_call, operator_a, outcome="reject", reason_code="face_mismatch")
    move, recorded = AuditEvent.objects.filter(participant=answered_call.participant).order_by("-sequence")[:2][::-1]
    assert move.action == "participant.transition"
    assert move.data == {
        "from": P.IN_CALL,
        "to": P.DECIDED,
        "outcome": "reject",
        "reason_code": "face_mismatch",
        "shared": True,
    }
    assert recorded.action == "decision.recorded"
    assert recorded.data == {"decision": decision.pk, "outcome": "reject", "reason_code": "face_mismatch"}
    assert recorded.actor_user_id == operator_a.user_id


def test_a_customer_is_decided_only_once(answered_call, operator_a):
    _decide(answered_call, operator_a)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_a, outcome="reject", reason_code="other")
    assert Decision.objects.get(participant=answered_call.participant).outcome == "approve"
    assert AuditEvent.objects.count() == events


def test_colleague_who_did_not_answer_the_call_cannot_decide(answered_call, operator_a2):
    """Anton works for the same business as Alice, but the call is hers."""
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_a2)
    assert _nothing_decided(answered_call, events)


def test_operator_of_another_business_cannot_decide(answered_call, operator_b):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_b)
    assert _nothing_decided(answered_call, events)


def test_no_decision_on_a_customer_still_waiting(waiting_call, operator_a):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(waiting_call, operator_a)
    assert _nothing_decided(waiting_call, events)
    assert Participant.objects.get(pk=waiting_call.participant.pk).state == P.WAITING


def test_no_decision_after_the_call_ended(answered_call, operator_a):
    session_end(session=answered_call.session, actor=Actor.operator(operator_a))
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_a)
    assert _nothing_decided(answered_call, events)


def test_no_decision_after_the_call_was_cancelled(answered_call, operator_a):
    session_cancel(session=answered_call.session, actor=Actor.api())
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_a)
    assert _nothing_decided(answered_call, events)


@pytest.mark.parametrize(("outcome", "reason_code"), [("maybe", "verified"), ("approve", "looked_fine")])
def test_unknown_outcome_or_reason_is_refused(answered_call, operator_a, outcome, reason_code):
    with pytest.raises(ValidationError):
        _decide(answered_call, operator_a, outcome=outcome, reason_code=reason_code)
    assert Participant.objects.get(pk=answered_call.participant.pk).state == P.IN_CALL
