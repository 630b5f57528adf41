"""session_end / session_cancel: a session's last transition."""

import pytest
from django.utils import timezone

from kyc.state_machine import IllegalTransition
from operators.services import decision_record
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Participant, VerificationSession
from sessions_app.services import session_cancel, session_end

S = VerificationSession.State
P = Participant.State


def _session(call):
    return VerificationSession.objects.get(pk=call.session.pk)


def _participant(call):
    return Participant.objects.get(pk=call.participant.pk)


def test_call_ended_after_a_decision_is_completed(answered_call, operator_a):
    decision_record(
        participant=answered_call.participant, operator=operator_a, outcome="approve", reason_code="verified"
    )
    started = timezone.now()
    session_end(session=answered_call.session, actor=Actor.operator(operator_a), reason="ended_by_operator")
    session = _session(answered_call)
    assert session.state == S.COMPLETED
    assert session.ended_at >= started
    assert _participant(answered_call).state == P.DECIDED
    event = AuditEvent.objects.filter(session=session, action="session.transition").last()
    assert event.data == {"from": S.IN_CALL, "to": S.COMPLETED, "reason": "ended_by_operator"}


def test_call_ended_without_a_decision_is_abandoned_and_the_customer_has_left(answered_call, operator_a):
    session_end(session=answered_call.session, actor=Actor.operator(operator_a))
    assert _session(answered_call).state == S.ABANDONED
    assert _participant(answered_call).state == P.LEFT
    left = AuditEvent.objects.filter(participant=answered_call.participant, action="participant.transition").last()
    assert left.data == {"from": P.IN_CALL, "to": P.LEFT, "reason": "call_ended"}


def test_ending_a_queued_session_abandons_it(waiting_call):
    session_end(session=waiting_call.session, actor=Actor.system(), reason="nobody_answered")
    assert _session(waiting_call).state == S.ABANDONED
    assert _participant(waiting_call).state == P.LEFT


def test_ending_an_ended_call_again_changes_nothing(answered_call, operator_a):
    session_end(session=answered_call.session, actor=Actor.operator(operator_a))
    ended_at = _session(answered_call).ended_at
    events = AuditEvent.objects.count()
    session_end(session=answered_call.session, actor=Actor.operator(operator_a))
    assert _session(answered_call).ended_at == ended_at
    assert AuditEvent.objects.count() == events


def test_session_nobody_joined_cannot_be_ended_only_cancelled(live_call):
    with pytest.raises(IllegalTransition):
        session_end(session=live_call.session, actor=Actor.system())
    assert _session(live_call).state == S.CREATED


def test_cancelling_a_new_session_stamps_its_end_and_audits_it(live_call):
    started = timezone.now()
    session_cancel(session=live_call.session, actor=Actor.api())
    session = _session(live_call)
    assert session.state == S.CANCELLED
    assert session.ended_at >= started
    event = AuditEvent.objects.get(session=session, action="session.transition")
    assert event.data == {"from": S.CREATED, "to": S.CANCELLED}
    assert event.actor_kind == AuditEvent.ActorKind.API


def test_cancelling_twice_writes_one_event(live_call):
    session_cancel(session=live_call.session, actor=Actor.api())
    events = AuditEvent.objects.count()
    session_cancel(session=live_call.session, actor=Actor.api())
    assert AuditEvent.objects.count() == events


def test_completed_call_cannot_be_cancelled(answered_call, operator_a):
    decision_record(
        participant=answered_call.participant, operator=operator_a, outcome="reject", reason_code="face_mismatch"
    )
    session_end(session=answered_call.session, actor=Actor.operator(operator_a))
    with pytest.raises(IllegalTransition):
        session_cancel(session=answered_call.session, actor=Actor.api())
    assert _session(answered_call).state == S.COMPLETED


def test_cancelling_a_running_call_takes_the_customer_out_of_it(answered_call):
    """Nobody stays "in the call" of a cancelled session (the operator could still decide on them)."""
    session_cancel(session=answered_call.session, actor=Actor.api())
    assert _session(answered_call).state == S.CANCELLED
    assert _participant(answered_call).state == P.LEFT


def test_cancelling_a_queued_session_takes_the_customer_out_of_the_queue(waiting_call):
    session_cancel(session=waiting_call.session, actor=Actor.api())
    assert _participant(waiting_call).state == P.LEFT
