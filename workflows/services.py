from django.db import transaction
from django.utils import timezone

from sessions_app.audit import Actor, audit_record
from workflows.models import StepState, WorkflowTemplate


def participant_steps_create(*, participant, workflow: WorkflowTemplate) -> list[StepState]:
    """Copy the workflow's steps for one participant (a snapshot: later edits
    of the template do not change a running session)."""
    return StepState.objects.bulk_create(
        StepState(participant=participant, position=position, kind=step["kind"], config=step)
        for position, step in enumerate(workflow.steps)
    )


def step_transition(*, step: StepState, target: str, actor: Actor, data: dict | None = None) -> StepState:
    with transaction.atomic():
        step = StepState.objects.select_for_update().select_related("participant__session").get(pk=step.pk)
        StepState.MACHINE.check(step.state, target)
        previous = step.state
        now = timezone.now()
        step.state = target
        if target == StepState.State.IN_PROGRESS:
            step.started_at = now
            step.finished_at = None
        elif target in (StepState.State.PASSED, StepState.State.FAILED, StepState.State.SKIPPED):
            step.finished_at = now
        if data:
            step.data = {**step.data, **data}
        step.save()
        participant = step.participant
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            actor=actor,
            action="step.transition",
            data={"step": step.position, "kind": step.kind, "from": previous, "to": target},
        )
    return step


def step_complete_pre_call(*, participant, kind: str, actor: Actor) -> None:
    """Mark a pre-call step (terms, device check) passed, if the workflow has it."""
    step = participant.steps.filter(kind=kind).first()
    if step and step.state != StepState.State.PASSED:
        step_transition(step=step, target=StepState.State.PASSED, actor=actor)
