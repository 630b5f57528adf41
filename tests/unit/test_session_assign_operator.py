"""session_assign_operator: an operator answers a waiting call."""

import pytest
from django.utils import timezone

from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Participant, VerificationSession
from sessions_app.services import (
    SessionNotAvailable,
    session_assign_operator,
    session_cancel,
)

S = VerificationSession.State
P = Participant.State


def test_answering_puts_operator_and_customer_in_the_call(waiting_call, operator_a):
    started = timezone.now()
    session_assign_operator(session_id=waiting_call.session.pk, operator=operator_a)
    session = VerificationSession.objects.get(pk=waiting_call.session.pk)
    assert session.state == S.IN_CALL
    assert session.operator == operator_a
    assert session.answered_at >= started
    assert Participant.objects.get(pk=waiting_call.participant.pk).state == P.IN_CALL


def test_answering_is_in_the_audit_trail_under_the_operators_name(waiting_call, operator_a):
    session_assign_operator(session_id=waiting_call.session.pk, operator=operator_a)
    event = AuditEvent.objects.get(session=waiting_call.session, action="session.transition", data__to=S.IN_CALL)
    assert event.data == {"from": S.WAITING, "to": S.IN_CALL, "operator": operator_a.pk}
    assert event.actor_kind == AuditEvent.ActorKind.OPERATOR
    assert event.actor_user_id == operator_a.user_id
    assert AuditEvent.objects.filter(
        participant=waiting_call.participant, action="participant.transition", data__to=P.IN_CALL
    ).exists()


def test_second_operator_cannot_take_an_answered_call(answered_call, operator_a, operator_a2):
    events = AuditEvent.objects.count()
    with pytest.raises(SessionNotAvailable):
        session_assign_operator(session_id=answered_call.session.pk, operator=operator_a2)
    assert VerificationSession.objects.get(pk=answered_call.session.pk).operator == operator_a
    assert AuditEvent.objects.count() == events


def test_operator_cannot_answer_a_call_twice(answered_call, operator_a):
    with pytest.raises(SessionNotAvailable):
        session_assign_operator(session_id=answered_call.session.pk, operator=operator_a)


def test_operator_cannot_answer_a_session_nobody_is_waiting_in(live_call, operator_a):
    with pytest.raises(SessionNotAvailable):
        session_assign_operator(session_id=live_call.session.pk, operator=operator_a)
    assert VerificationSession.objects.get(pk=live_call.session.pk).state == S.CREATED


def test_operator_cannot_answer_a_cancelled_call(waiting_call, operator_a):
    session_cancel(session=waiting_call.session, actor=Actor.system())
    with pytest.raises(SessionNotAvailable):
        session_assign_operator(session_id=waiting_call.session.pk, operator=operator_a)
    session = VerificationSession.objects.get(pk=waiting_call.session.pk)
    assert (session.state, session.operator_id) == (S.CANCELLED, None)


def test_answering_a_session_that_does_not_exist_says_not_available(operator_a):
    with pytest.raises(SessionNotAvailable):
        session_assign_operator(session_id=987654, operator=operator_a)
