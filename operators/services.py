from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Operator
from operators.models import Decision
from operators.webhooks import PARTICIPANT_DECIDED, webhook_emit
from sessions_app import locks
from sessions_app.audit import Actor, audit_record
from sessions_app.models import Participant
from sessions_app.recordings import recording_problem_for_approval
from sessions_app.services import participant_mark_decided


def decision_record(
    *,
    participant: Participant,
    operator: Operator,
    outcome: str,
    reason_code: str,
    comment: str = "",
    share_with_customer: bool = False,
) -> Decision:
    if outcome not in Decision.Outcome.values:
        raise ValidationError({"outcome": f"Unknown outcome {outcome!r}."})
    if reason_code not in Decision.Reason.values:
        raise ValidationError({"reason_code": f"Unknown reason code {reason_code!r}."})
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        session = participant.session
        if session.operator_id != operator.pk:
            raise ValidationError("Only the operator of this call can decide.")
        if participant.state != Participant.State.IN_CALL:
            raise ValidationError("A decision needs the participant in the call.")
        if outcome == Decision.Outcome.APPROVE:
            # The workflow may make the recording mandatory: no approval without it.
            problem = recording_problem_for_approval(participant)
            if problem:
                raise ValidationError(problem)
        decision = Decision.objects.create(
            participant=participant,
            outcome=outcome,
            reason_code=reason_code,
            comment=comment,
            shared_with_customer=share_with_customer,
            operator=operator,
        )
        participant_mark_decided(
            participant=participant,
            actor=Actor.operator(operator),
            data={"outcome": outcome, "reason_code": reason_code, "shared": share_with_customer},
        )
        audit_record(
            business=session.business,
            session=session,
            participant=participant,
            actor=Actor.operator(operator),
            action="decision.recorded",
            data={"decision": decision.pk, "outcome": outcome, "reason_code": reason_code},
        )
        webhook_emit(
            business=session.business,
            event_type=PARTICIPANT_DECIDED,
            session=session,
            participant=participant,
            data={
                "decision": {
                    "outcome": outcome,
                    "reason_code": reason_code,
                    "decided_at": decision.created_at.isoformat(),
                }
            },
        )
    return decision
