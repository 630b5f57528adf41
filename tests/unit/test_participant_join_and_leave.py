"""participant_join / participant_leave: the customer enters and leaves the queue and the call."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from operators.services import decision_record
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Participant, VerificationSession
from sessions_app.services import (
    LinkInvalid,
    participant_accept_terms,
    participant_join,
    participant_leave,
    session_assign_operator,
    session_cancel,
)
from tests.conftest import create_call

S = VerificationSession.State
P = Participant.State


def _accept(participant):
    participant_accept_terms(participant=participant, ip_address=None, user_agent="pytest")


def _state(obj):
    return type(obj).objects.get(pk=obj.pk).state


def _transitions(session):
    """Session and participant moves of the session, oldest first (step moves left out)."""
    return [
        (event.action, event.data["from"], event.data["to"])
        for event in AuditEvent.objects.filter(
            session=session, action__in=["session.transition", "participant.transition"]
        ).order_by("sequence")
    ]


# --- joining ---------------------------------------------------------------------


def test_joining_puts_customer_and_session_in_the_queue(live_call):
    _accept(live_call.participant)
    started = timezone.now()
    participant_join(participant=live_call.participant)
    participant = Participant.objects.get(pk=live_call.participant.pk)
    session = VerificationSession.objects.get(pk=live_call.session.pk)
    assert participant.state == P.WAITING
    assert participant.last_seen_at >= started
    assert session.state == S.WAITING
    assert session.waiting_at >= started
    assert participant.steps.get(kind="device_check").state == "passed"


def test_joining_writes_both_transitions_to_the_audit_trail(live_call):
    _accept(live_call.participant)
    participant_join(participant=live_call.participant)
    assert _transitions(live_call.session)[-2:] == [
        ("participant.transition", P.TERMS_ACCEPTED, P.WAITING),
        ("session.transition", S.CREATED, S.WAITING),
    ]


def test_customer_cannot_join_before_accepting_the_terms(live_call):
    with pytest.raises(ValidationError):
        participant_join(participant=live_call.participant)
    assert _state(live_call.participant) == P.INVITED
    assert _state(live_call.session) == S.CREATED


def test_a_reload_while_waiting_writes_nothing_new(waiting_call):
    events = AuditEvent.objects.count()
    participant = participant_join(participant=waiting_call.participant)
    assert participant.state == P.WAITING
    assert AuditEvent.objects.count() == events


def test_customer_cannot_join_a_session_that_has_ended(waiting_call):
    session_cancel(session=waiting_call.session, actor=Actor.system())
    with pytest.raises(LinkInvalid) as raised:
        participant_join(participant=waiting_call.participant)
    assert raised.value.reason == LinkInvalid.FINISHED


# --- leaving the queue -------------------------------------------------------------


def test_leaving_the_queue_takes_the_session_back_out_of_it(waiting_call):
    participant_leave(participant=waiting_call.participant, actor=Actor.customer(), reason="tab_closed")
    assert _state(waiting_call.participant) == P.TERMS_ACCEPTED
    assert _state(waiting_call.session) == S.CREATED
    session_event = AuditEvent.objects.filter(session=waiting_call.session, action="session.transition").last()
    assert session_event.data == {"from": S.WAITING, "to": S.CREATED, "reason": "queue_empty"}


def test_customer_who_left_the_queue_can_join_again_at_the_back(waiting_call):
    first_wait = waiting_call.session.waiting_at
    participant_leave(participant=waiting_call.participant, actor=Actor.customer())
    participant_join(participant=waiting_call.participant)
    session = VerificationSession.objects.get(pk=waiting_call.session.pk)
    assert session.state == S.WAITING
    assert session.waiting_at > first_wait


def test_leaving_from_the_terms_page_changes_nothing(live_call):
    _accept(live_call.participant)
    events = AuditEvent.objects.count()
    participant_leave(participant=live_call.participant, actor=Actor.customer())
    assert _state(live_call.participant) == P.TERMS_ACCEPTED
    assert _state(live_call.session) == S.CREATED
    assert AuditEvent.objects.count() == events


# --- leaving the call ----------------------------------------------------------------


def test_customer_leaving_a_one_on_one_call_ends_it(answered_call):
    started = timezone.now()
    participant_leave(participant=answered_call.participant, actor=Actor.customer(), reason="ended_by_customer")
    session = VerificationSession.objects.get(pk=answered_call.session.pk)
    assert _state(answered_call.participant) == P.LEFT
    assert session.state == S.ABANDONED
    assert session.ended_at >= started
    assert AuditEvent.objects.filter(session=session, action="session.transition").last().data == {
        "from": S.IN_CALL,
        "to": S.ABANDONED,
        "reason": "ended_by_customer",
    }


def test_call_with_a_decision_is_completed_when_the_customer_leaves(answered_call, operator_a):
    decision_record(
        participant=answered_call.participant, operator=operator_a, outcome="approve", reason_code="verified"
    )
    participant_leave(participant=answered_call.participant, actor=Actor.customer())
    assert _state(answered_call.session) == S.COMPLETED
    assert _state(answered_call.participant) == P.DECIDED


@pytest.fixture
def joint_call(business_a, workflow_a, operator_a):
    """Anna and Ben Schmidt in one call with Alice."""
    session, links = create_call(business_a, workflow_a, names=("Anna Schmidt", "Ben Schmidt"))
    anna, ben = (participant for participant, _url in links)
    for participant in (anna, ben):
        _accept(participant)
        participant_join(participant=participant)
    session_assign_operator(session_id=session.pk, operator=operator_a)
    return session, anna, ben


def test_answering_a_joint_call_brings_every_waiting_customer_in(joint_call):
    session, anna, ben = joint_call
    assert (_state(anna), _state(ben)) == (P.IN_CALL, P.IN_CALL)


def test_one_customer_leaving_a_joint_call_leaves_it_running_for_the_other(joint_call):
    session, anna, ben = joint_call
    participant_leave(participant=anna, actor=Actor.customer())
    assert _state(anna) == P.LEFT
    assert _state(ben) == P.IN_CALL
    assert _state(session) == S.IN_CALL


def test_customer_who_dropped_rejoins_a_running_call_directly(joint_call):
    session, anna, _ben = joint_call
    participant_leave(participant=anna, actor=Actor.customer())
    participant_join(participant=anna)
    assert _state(anna) == P.IN_CALL
    last = AuditEvent.objects.filter(participant=anna, action="participant.transition").last()
    assert last.data == {"from": P.WAITING, "to": P.IN_CALL, "rejoined": True}


def test_joint_call_ends_when_the_last_customer_leaves(joint_call):
    session, anna, ben = joint_call
    participant_leave(participant=anna, actor=Actor.customer())
    participant_leave(participant=ben, actor=Actor.customer())
    assert _state(session) == S.ABANDONED


def test_one_of_two_leaving_the_queue_keeps_the_session_waiting(business_a, workflow_a):
    session, links = create_call(business_a, workflow_a, names=("Anna Schmidt", "Ben Schmidt"))
    anna, ben = (participant for participant, _url in links)
    for participant in (anna, ben):
        _accept(participant)
        participant_join(participant=participant)
    participant_leave(participant=anna, actor=Actor.customer())
    assert _state(anna) == P.TERMS_ACCEPTED
    assert _state(session) == S.WAITING
