"""How the workflow follows the call: receivers of sessions_app.events,
connected in WorkflowsConfig.ready(). Each runs inside the move's
transaction, so a participant never exists without their steps, nor passes
the terms without the terms step."""

from django.db import transaction

from sessions_app import events
from sessions_app.models import Participant, VerificationSession
from workflows import events as workflow_events
from workflows import steps as step_kinds
from workflows.check_services import session_checks_completed_emit
from workflows.security_features import security_feature_frame_stored
from workflows.services import notes_finish, participant_steps_create, step_complete_pre_call

P = Participant.State


def steps_for_new_participant(sender, *, participant, workflow, **kwargs) -> None:
    participant_steps_create(participant=participant, workflow=workflow)


def pre_call_steps_follow_participant(sender, *, participant, previous, target, actor, **kwargs) -> None:
    """The customer's own steps pass with the moves that prove them: accepting
    the terms, and joining (only a page whose device check passed can join)."""
    if previous == P.INVITED and target == P.TERMS_ACCEPTED:
        step_complete_pre_call(participant=participant, kind=step_kinds.TERMS, actor=actor)
    elif target == P.WAITING:
        step_complete_pre_call(participant=participant, kind=step_kinds.DEVICE_CHECK, actor=actor)


def notes_finish_with_decision(sender, *, participant, target, actor, **kwargs) -> None:
    if target == P.DECIDED:
        notes_finish(participant=participant, actor=actor)


def checks_completed_after_call(sender, *, session, previous, target, **kwargs) -> None:
    """The call is over: checks.completed for every participant whose checks
    are all in (the others get it with their last result)."""
    if previous == VerificationSession.State.IN_CALL and target in VerificationSession.ENDED_STATES:
        session_id = session.pk
        transaction.on_commit(lambda: session_checks_completed_emit(session_id=session_id), robust=True)


def receivers_connect() -> None:
    events.participant_created.connect(steps_for_new_participant, dispatch_uid="workflow_steps_for_new_participant")
    events.participant_moved.connect(pre_call_steps_follow_participant, dispatch_uid="workflow_pre_call_steps")
    events.participant_moved.connect(notes_finish_with_decision, dispatch_uid="workflow_notes_finish_with_decision")
    events.session_moved.connect(checks_completed_after_call, dispatch_uid="workflow_checks_completed_after_call")
    workflow_events.evidence_stored.connect(
        security_feature_frame_stored, dispatch_uid="workflow_security_feature_frame_stored"
    )
