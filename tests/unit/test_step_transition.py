"""StepState.MACHINE and workflows.services.step_transition, the only way a step changes."""

import itertools

import pytest
from django.utils import timezone

from kyc.state_machine import IllegalTransition
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent
from workflows.models import StepState
from workflows.services import step_complete_pre_call, step_transition

T = StepState.State

# Written out independently of the model: a change to the machine must be a
# deliberate change to this table too.
LEGAL = {
    (T.PENDING, T.IN_PROGRESS),
    (T.PENDING, T.PASSED),
    (T.PENDING, T.SKIPPED),
    (T.IN_PROGRESS, T.PASSED),
    (T.IN_PROGRESS, T.FAILED),
    (T.IN_PROGRESS, T.SKIPPED),
    (T.IN_PROGRESS, T.PENDING),
    (T.PASSED, T.IN_PROGRESS),
    (T.FAILED, T.IN_PROGRESS),
    (T.SKIPPED, T.IN_PROGRESS),
}
ALL_PAIRS = list(itertools.product(T.values, repeat=2))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


def test_machine_knows_every_step_state():
    assert StepState.MACHINE.states == set(T.values)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_machine_allows_exactly_the_documented_moves(current, target):
    assert StepState.MACHINE.allowed(current, target) == ((current, target) in LEGAL)


def test_no_step_state_is_terminal_because_every_result_can_be_retaken():
    assert not any(StepState.MACHINE.is_terminal(state) for state in T.values)


@pytest.fixture
def document_step(answered_call) -> StepState:
    return answered_call.participant.steps.get(kind="document")


def _put_step_in(step, state):
    """Test set-up only: place the row in a state without going through the machine."""
    StepState.objects.filter(pk=step.pk).update(state=state, started_at=None, finished_at=None)


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_step_transition_changes_state_and_writes_audit_event(document_step, current, target):
    _put_step_in(document_step, current)
    events_before = AuditEvent.objects.count()

    returned = step_transition(step=document_step, target=target, actor=Actor.system())

    document_step.refresh_from_db()
    assert document_step.state == target == returned.state
    assert AuditEvent.objects.count() == events_before + 1
    event = AuditEvent.objects.order_by("-pk").first()
    assert event.action == "step.transition"
    assert event.participant_id == document_step.participant_id
    assert event.data == {"step": document_step.position, "kind": "document", "from": current, "to": target}


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_step_transition_raises_and_changes_nothing(document_step, current, target):
    _put_step_in(document_step, current)
    events_before = AuditEvent.objects.count()

    with pytest.raises(IllegalTransition):
        step_transition(step=document_step, target=target, actor=Actor.system(), data={"note": "x"})

    document_step.refresh_from_db()
    assert document_step.state == current
    assert document_step.data == {}
    assert (document_step.started_at, document_step.finished_at) == (None, None)
    assert AuditEvent.objects.count() == events_before


def test_starting_a_step_stamps_started_at(document_step):
    started = timezone.now()
    step = step_transition(step=document_step, target=T.IN_PROGRESS, actor=Actor.system())
    assert step.started_at >= started
    assert step.finished_at is None


@pytest.mark.parametrize("result", [T.PASSED, T.FAILED, T.SKIPPED])
def test_finishing_a_step_stamps_finished_at(document_step, result):
    step_transition(step=document_step, target=T.IN_PROGRESS, actor=Actor.system())
    started = timezone.now()
    step = step_transition(step=document_step, target=result, actor=Actor.system())
    step.refresh_from_db()
    assert step.finished_at >= started
    assert step.started_at is not None


def test_reopening_a_finished_step_clears_finished_at(document_step):
    """The operator retakes a blurred capture: the step is running again, not finished."""
    step_transition(step=document_step, target=T.IN_PROGRESS, actor=Actor.system())
    step_transition(step=document_step, target=T.FAILED, actor=Actor.system())
    step = step_transition(step=document_step, target=T.IN_PROGRESS, actor=Actor.system())
    step.refresh_from_db()
    assert step.finished_at is None


def test_transition_data_is_merged_into_what_the_step_already_holds(document_step):
    step_transition(step=document_step, target=T.IN_PROGRESS, actor=Actor.system(), data={"document_kind": "passport"})
    step = step_transition(step=document_step, target=T.PASSED, actor=Actor.system(), data={"sides": ["front"]})
    step.refresh_from_db()
    assert step.data == {"document_kind": "passport", "sides": ["front"]}


def test_completing_a_pre_call_step_twice_writes_one_transition(live_call):
    participant = live_call.participant
    step_complete_pre_call(participant=participant, kind="device_check", actor=Actor.customer())
    step_complete_pre_call(participant=participant, kind="device_check", actor=Actor.customer())
    assert participant.steps.get(kind="device_check").state == T.PASSED
    assert AuditEvent.objects.filter(action="step.transition", participant=participant).count() == 1


def test_completing_a_pre_call_step_the_workflow_lacks_does_nothing(live_call):
    participant = live_call.participant
    participant.steps.filter(kind="device_check").delete()
    step_complete_pre_call(participant=participant, kind="device_check", actor=Actor.customer())
    assert not AuditEvent.objects.filter(action="step.transition", participant=participant).exists()
