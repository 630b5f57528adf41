"""Each state change of a session writes its event in the same transaction,
and it reaches the business after commit."""

import pytest
from django.db import transaction

from operators.models import WebhookEvent
from operators.services import decision_record
from sessions_app.models import Participant
from workflows.events import checks_completed
from sessions_app.audit import Actor
from sessions_app.locks import session_lock
from sessions_app.models import VerificationSession
from sessions_app.services import (
    _session_move,
    participant_accept_terms,
    participant_join,
    participant_leave,
    session_assign_operator,
    session_cancel,
    session_end,
)


def _join(call):
    participant_accept_terms(participant=call.participant, ip_address="192.0.2.1", user_agent="pytest")
    participant_join(participant=call.participant)


def test_a_whole_call_reports_joined_in_call_decided_completed(
    live_call, operator_a, hooked_business_a, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _join(live_call)
        session_assign_operator(session_id=live_call.session.pk, operator=operator_a)
        decision_record(
            participant=live_call.participant, operator=operator_a, outcome="approve", reason_code="verified"
        )
        session_end(session=live_call.session, actor=Actor.operator(operator_a))
    assert receiver.types() == ["participant.joined", "session.in_call", "participant.decided", "session.completed"]
    decided = receiver.received[2].json["data"]
    assert decided["decision"]["outcome"] == "approve"
    assert decided["decision"]["reason_code"] == "verified"
    assert decided["participant"]["id"] == str(live_call.participant.public_id)
    assert receiver.received[3].json["data"]["session"]["state"] == "completed"


def test_a_call_without_decision_reports_abandoned(
    answered_call, hooked_business_a, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        participant_leave(participant=answered_call.participant, actor=Actor.customer())
    assert receiver.types() == ["session.abandoned"]
    assert receiver.received[0].json["data"]["reason"] == "left"


def test_cancel_and_expiry_are_reported(
    live_call, business_a, workflow_a, hooked_business_a, receiver, django_capture_on_commit_callbacks
):
    from tests.conftest import create_call

    other, _links = create_call(business_a, workflow_a)
    with django_capture_on_commit_callbacks(execute=True):
        session_cancel(session=live_call.session, actor=Actor.api())
        with transaction.atomic():
            _session_move(session_lock(other.pk), VerificationSession.State.EXPIRED, actor=Actor.system())
    assert receiver.types() == ["session.cancelled", "session.expired"]


def test_checks_completed_announced_by_the_checks_engine_reaches_the_business(
    live_call, hooked_business_a, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        checks_completed.send(
            sender=Participant,
            session=live_call.session,
            participant=live_call.participant,
            results=[{"kind": "face_match", "outcome": "passed", "score": 0.91}],
        )
    [request] = receiver.received
    assert request.json["type"] == "checks.completed"
    assert request.json["data"]["checks"][0]["kind"] == "face_match"


def test_event_is_written_with_the_change_and_sent_only_after_commit(
    live_call, hooked_business_a, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _join(live_call)
        assert WebhookEvent.objects.filter(event_type="participant.joined").count() == 1
    assert receiver.received == [], "nobody is told about a change that could still roll back"
    for callback in callbacks:
        callback()
    assert receiver.types() == ["participant.joined"]


def test_a_rolled_back_change_leaves_no_event(live_call, hooked_business_a, receiver):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            _join(live_call)
            raise RuntimeError("the change fails after the move")
    assert not WebhookEvent.objects.exists()


def test_no_endpoint_no_events(live_call, business_a):
    _join(live_call)
    assert not WebhookEvent.objects.exists()


def test_unknown_event_type_is_a_programming_error(live_call, hooked_business_a):
    from operators.webhooks import webhook_emit

    with pytest.raises(ValueError):
        webhook_emit(business=hooked_business_a, event_type="session.exploded", session=live_call.session, data={})
