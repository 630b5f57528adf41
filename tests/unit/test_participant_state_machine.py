"""Participant.MACHINE, and the one move every participant service goes through."""

import itertools

import pytest
from django.db import transaction
from django.utils import timezone

from kyc.state_machine import IllegalTransition
from sessions_app.audit import Actor
from sessions_app.locks import participant_lock
from sessions_app.models import AuditEvent, Participant, VerificationSession
from sessions_app.services import _participant_move

P = Participant.State

# Written out independently of the model: a change to the machine must be a
# deliberate change to this table too.
LEGAL = {
    (P.INVITED, P.TERMS_ACCEPTED),
    (P.INVITED, P.DECLINED),
    (P.TERMS_ACCEPTED, P.WAITING),
    # Declining the consent to recording a regulated workflow asks after the terms.
    (P.TERMS_ACCEPTED, P.DECLINED),
    (P.WAITING, P.TERMS_ACCEPTED),
    (P.WAITING, P.IN_CALL),
    (P.WAITING, P.LEFT),
    (P.WAITING, P.REMOVED),
    (P.IN_CALL, P.LEFT),
    (P.IN_CALL, P.REMOVED),
    (P.IN_CALL, P.DECIDED),
    (P.LEFT, P.WAITING),
    (P.LEFT, P.IN_CALL),
    (P.LEFT, P.REMOVED),
}
ALL_PAIRS = list(itertools.product(P.values, repeat=2))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


def test_machine_knows_every_participant_state():
    assert Participant.MACHINE.states == set(P.values)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_machine_allows_exactly_the_documented_moves(current, target):
    assert Participant.MACHINE.allowed(current, target) == ((current, target) in LEGAL)


@pytest.mark.parametrize("state", [P.DECLINED, P.REMOVED, P.DECIDED])
def test_declined_removed_and_decided_are_final(state):
    assert Participant.MACHINE.is_terminal(state)


def test_a_customer_who_left_may_come_back():
    assert not Participant.MACHINE.is_terminal(P.LEFT)


def _move(participant, target):
    with transaction.atomic():
        _participant_move(participant_lock(participant.pk), target, actor=Actor.customer(), data={"n": 1})


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_move_changes_state_stamps_time_bumps_session_version_and_writes_audit_event(live_call, current, target):
    participant = live_call.participant
    Participant.objects.filter(pk=participant.pk).update(state=current)
    version_before = VerificationSession.objects.get(pk=live_call.session.pk).state_version
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = timezone.now()

    _move(participant, target)

    participant.refresh_from_db()
    assert participant.state == target
    assert participant.state_changed_at >= started
    # More than one bump when the move completes a pre-call step too
    # (workflows.receivers: accepting the terms, joining).
    assert VerificationSession.objects.get(pk=live_call.session.pk).state_version > version_before
    [event] = AuditEvent.objects.filter(pk__gt=last_event, action="participant.transition")
    assert (event.action, event.participant_id, event.session_id) == (
        "participant.transition",
        participant.pk,
        live_call.session.pk,
    )
    assert event.data == {"from": current, "to": target, "n": 1}


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_move_raises_and_changes_nothing(live_call, current, target):
    participant = live_call.participant
    Participant.objects.filter(pk=participant.pk).update(state=current)
    changed_at_before = Participant.objects.get(pk=participant.pk).state_changed_at
    version_before = VerificationSession.objects.get(pk=live_call.session.pk).state_version
    events_before = AuditEvent.objects.count()

    with pytest.raises(IllegalTransition):
        _move(participant, target)

    participant.refresh_from_db()
    assert participant.state == current
    assert participant.state_changed_at == changed_at_before
    assert VerificationSession.objects.get(pk=live_call.session.pk).state_version == version_before
    assert AuditEvent.objects.count() == events_before
