"""Alice drives a step through HTTP: start, then pass, fail or skip. Each
change is stored, written to the audit trail and bumps the session's state
version (what both pages resync on)."""

import pytest

from sessions_app.models import AuditEvent
from tests.console.helpers import step_post
from workflows.models import StepState


def _version(session) -> int:
    session.refresh_from_db()
    return session.state_version


def _transitions(participant, position):
    return list(
        AuditEvent.objects.filter(participant=participant, action="step.transition", data__step=position)
        .order_by("sequence")
        .values_list("data__from", "data__to", "actor_kind")
    )


def test_start_puts_the_step_in_progress_audited_and_versioned(alice, answered_call):
    session, participant = answered_call.session, answered_call.participant
    before = _version(session)

    response = step_post(alice, session, participant, "document", "start")

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    step = participant.steps.get(kind="document")
    assert step.state == StepState.State.IN_PROGRESS
    assert step.started_at is not None
    assert _transitions(participant, step.position) == [("pending", "in_progress", "operator")]
    assert _version(session) > before


@pytest.mark.parametrize(
    "action, state",
    [("pass", StepState.State.PASSED), ("fail", StepState.State.FAILED), ("skip", StepState.State.SKIPPED)],
)
def test_finishing_a_started_step_stores_the_outcome(action, state, alice, answered_call):
    session, participant = answered_call.session, answered_call.participant
    step_post(alice, session, participant, "document", "start")
    before = _version(session)

    response = step_post(alice, session, participant, "document", action)

    assert response.status_code == 200
    step = participant.steps.get(kind="document")
    assert step.state == state
    assert step.finished_at is not None
    assert _transitions(participant, step.position)[-1] == ("in_progress", state, "operator")
    assert _version(session) > before


def test_a_pending_step_can_be_skipped_but_not_failed(alice, answered_call):
    session, participant = answered_call.session, answered_call.participant

    assert step_post(alice, session, participant, "questions", "fail").status_code == 409
    assert participant.steps.get(kind="questions").state == StepState.State.PENDING
    assert step_post(alice, session, participant, "questions", "skip").status_code == 200
    assert participant.steps.get(kind="questions").state == StepState.State.SKIPPED


def test_a_finished_step_can_be_reopened_for_a_retake(alice, answered_call):
    session, participant = answered_call.session, answered_call.participant
    step_post(alice, session, participant, "document", "start")
    step_post(alice, session, participant, "document", "fail")

    response = step_post(alice, session, participant, "document", "start")

    assert response.status_code == 200
    assert participant.steps.get(kind="document").state == StepState.State.IN_PROGRESS
    assert [to for _from, to, _actor in _transitions(participant, 2)] == ["in_progress", "failed", "in_progress"]


def test_unknown_action_or_position_is_404_and_changes_nothing(alice, answered_call):
    session, participant = answered_call.session, answered_call.participant
    before = _version(session)

    assert step_post(alice, session, participant, "document", "approve").status_code == 404
    assert step_post(alice, session, participant, 99, "start").status_code == 404
    assert _version(session) == before
