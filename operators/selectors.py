from django.utils import timezone

from accounts.models import Operator
from accounts.selectors import operators_available_count
from sessions_app.models import Participant, VerificationSession
from sessions_app.scheduling import booked_operator_only, booked_queue_fields
from sessions_app.selectors import queue_for_business


def sessions_for_operator_history(operator, limit: int = 20):
    return (
        VerificationSession.objects.for_business(operator.business)
        .filter(operator=operator)
        .prefetch_related("participants__decision")
        .order_by("-answered_at")[:limit]
    )


def queue_snapshot(*, operator) -> dict:
    """What the console's queue shows: JSON for the queue socket."""
    now = timezone.now()
    operator = Operator.objects.select_related("business").get(pk=operator.pk)
    entries = []
    for session in queue_for_business(operator.business):
        only = booked_operator_only(session, now)  # a booked call rings its operator first
        if only is not None and only.pk != operator.pk:
            continue
        participants = sorted(session.participants.all(), key=lambda p: p.position)
        entries.append(
            {
                "id": session.public_id.hex,
                "kind": session.kind,
                "business_reference": session.business_reference,
                "waiting_seconds": int((now - session.waiting_at).total_seconds()) if session.waiting_at else 0,
                **booked_queue_fields(session),
                "participants": [
                    {
                        "name": p.name,
                        "language": p.language,
                        "ready": p.state == Participant.State.WAITING and p.pk in session.present_participant_ids,
                    }
                    for p in participants
                ],
            }
        )
    return {
        "type": "queue",
        "presence": operator.presence,
        "operators_available": operators_available_count(operator.business),
        "entries": entries,
    }
