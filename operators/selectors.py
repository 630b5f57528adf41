from django.utils import timezone

from accounts.models import Operator
from accounts.selectors import operators_available_count
from kyc.languages import language_name
from operators import routing
from sessions_app.models import Participant, VerificationSession
from sessions_app.scheduling import booked_queue_fields
from sessions_app.selectors import queue_for_business, session_language


def sessions_for_operator_history(operator, limit: int = 20):
    return (
        VerificationSession.objects.for_business(operator.business)
        .filter(operator=operator)
        .prefetch_related("participants__decision")
        .order_by("-answered_at")[:limit]
    )


def queue_snapshot(*, operator, now=None) -> dict:
    """What the console's queue shows this operator: JSON for the queue
    socket. Only the calls the queue offers them (operators.routing), oldest
    first, each with its language and why it is offered. ``reevaluate_in``
    is the seconds until a call held back for other operators falls back to
    this one (None: none is held back); the socket re-sends then, since
    nothing in the database changes when a fallback time passes."""
    now = now or timezone.now()
    operator = Operator.objects.select_related("business").prefetch_related("trained_workflows").get(pk=operator.pk)
    trained_anywhere = routing.workflows_with_trained_operators(operator.business)
    entries = []
    held_back = 0
    next_fallback = None
    for session in queue_for_business(operator.business):
        offer = routing.session_offered_to(
            session=session, operator=operator, now=now, trained_anywhere=trained_anywhere
        )
        if not offer.offered:
            held_back += 1
            # A call held back for good (no training attestation) never falls back.
            if offer.fallback_at is not None and (next_fallback is None or offer.fallback_at < next_fallback):
                next_fallback = offer.fallback_at
            continue
        participants = sorted(session.participants.all(), key=lambda p: p.position)
        language = session_language(session)
        entries.append(
            {
                "id": session.public_id.hex,
                "kind": session.kind,
                "business_reference": session.business_reference,
                "waiting_seconds": int((now - session.waiting_at).total_seconds()) if session.waiting_at else 0,
                "language": language,
                "language_name": language_name(language) if language else "",
                "offered": {"reason": offer.reason, "label": offer.label},
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
        # Calls waiting for operators who fit them better; offered here at fallback.
        "held_back": held_back,
        "reevaluate_in": max(0.0, (next_fallback - now).total_seconds()) if next_fallback else None,
    }
