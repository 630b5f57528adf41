"""VerificationSession.MACHINE, and the one move every session service goes through."""

import itertools

import pytest
from django.db import transaction
from django.utils import timezone

from kyc.state_machine import IllegalTransition
from sessions_app.audit import Actor
from sessions_app.locks import session_lock
from sessions_app.models import AuditEvent, VerificationSession
from sessions_app.services import _session_move

S = VerificationSession.State

# Written out independently of the model: a change to the machine must be a
# deliberate change to this table too.
LEGAL = {
    (S.CREATED, S.WAITING),
    (S.CREATED, S.EXPIRED),
    (S.CREATED, S.CANCELLED),
    (S.WAITING, S.CREATED),
    (S.WAITING, S.IN_CALL),
    (S.WAITING, S.ABANDONED),
    (S.WAITING, S.EXPIRED),
    (S.WAITING, S.CANCELLED),
    (S.IN_CALL, S.COMPLETED),
    (S.IN_CALL, S.ABANDONED),
    (S.IN_CALL, S.CANCELLED),
}
ALL_PAIRS = list(itertools.product(S.values, repeat=2))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


def test_machine_knows_every_session_state():
    assert VerificationSession.MACHINE.states == set(S.values)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_machine_allows_exactly_the_documented_moves(current, target):
    assert VerificationSession.MACHINE.allowed(current, target) == ((current, target) in LEGAL)


@pytest.mark.parametrize("state", [S.COMPLETED, S.ABANDONED, S.EXPIRED, S.CANCELLED])
def test_ended_states_are_terminal(state):
    assert VerificationSession.MACHINE.is_terminal(state)
    assert state in VerificationSession.ENDED_STATES


@pytest.mark.parametrize("state", [S.CREATED, S.WAITING, S.IN_CALL])
def test_running_states_are_not_ended(state):
    assert not VerificationSession.MACHINE.is_terminal(state)
    assert state not in VerificationSession.ENDED_STATES


def _put_session_in(session, state):
    """Test set-up only: place the row in a state without going through the machine."""
    VerificationSession.objects.filter(pk=session.pk).update(
        state=state, waiting_at=None, answered_at=None, ended_at=None
    )


def _move(session, target):
    with transaction.atomic():
        _session_move(session_lock(session.pk), target, actor=Actor.system(), data={"reason": "test"})


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_move_changes_state_stamps_time_bumps_version_and_writes_audit_event(live_call, current, target):
    session = live_call.session
    _put_session_in(session, current)
    version_before = VerificationSession.objects.get(pk=session.pk).state_version
    events_before = AuditEvent.objects.count()
    started = timezone.now()

    _move(session, target)

    session.refresh_from_db()
    assert session.state == target
    assert session.state_changed_at >= started
    assert session.state_version == version_before + 1
    timestamp_field = VerificationSession.STATE_TIMESTAMP_FIELDS.get(target)
    if timestamp_field:
        assert getattr(session, timestamp_field) >= started
    event = AuditEvent.objects.order_by("-pk").first()
    assert AuditEvent.objects.count() == events_before + 1
    assert event.session_id == session.pk
    assert event.business_id == session.business_id
    assert event.action == "session.transition"
    assert event.data == {"from": current, "to": target, "reason": "test"}


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_move_raises_and_changes_nothing(live_call, current, target):
    session = live_call.session
    _put_session_in(session, current)
    version_before = VerificationSession.objects.get(pk=session.pk).state_version
    events_before = AuditEvent.objects.count()

    with pytest.raises(IllegalTransition):
        _move(session, target)

    session.refresh_from_db()
    assert session.state == current
    assert session.state_version == version_before
    assert (session.waiting_at, session.answered_at, session.ended_at) == (None, None, None)
    assert AuditEvent.objects.count() == events_before


def test_every_state_entered_after_created_has_its_timestamp_field():
    """An ended session without ended_at would break retention and reports."""
    stamped = {S.WAITING, S.IN_CALL, *VerificationSession.ENDED_STATES}
    assert set(VerificationSession.STATE_TIMESTAMP_FIELDS) == stamped
    assert all(
        VerificationSession.STATE_TIMESTAMP_FIELDS[state] == "ended_at" for state in VerificationSession.ENDED_STATES
    )
