from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from operators.models import OPERATORS_GROUP, Operator
from sessions_app.models import Participant, VerificationSession


def operator_for_user(user) -> Operator | None:
    """The operator profile of a logged-in user in the operators group, or None."""
    if not user.is_authenticated or not user.is_active:
        return None
    operator = Operator.objects.select_related("business").filter(user=user).first()
    if operator is None or not user.groups.filter(name=OPERATORS_GROUP).exists():
        return None
    return operator


def _presence_cutoff():
    return timezone.now() - timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS)


def queue_for_business(business) -> list[VerificationSession]:
    """Sessions waiting for an operator, oldest first. A customer whose browser
    went silent is not waiting any more, whatever the last state said."""
    waiting = Q(participants__state=Participant.State.WAITING) & Q(
        participants__last_seen_at__gte=_presence_cutoff()
    )
    return list(
        VerificationSession.objects.for_business(business)
        .filter(state=VerificationSession.State.WAITING)
        .annotate(
            waiting_count=Count("participants", filter=waiting, distinct=True),
            participant_count=Count("participants", distinct=True),
            first_waiting_at=Min("waiting_at"),
        )
        .filter(waiting_count__gt=0)
        .prefetch_related("participants")
        .order_by("waiting_at", "pk")
    )


def queue_position(session: VerificationSession) -> int | None:
    if session.state != VerificationSession.State.WAITING:
        return None
    ahead = [s.pk for s in queue_for_business(session.business)]
    return ahead.index(session.pk) + 1 if session.pk in ahead else None


def operators_available_count(business) -> int:
    return (
        Operator.objects.for_business(business)
        .filter(presence=Operator.Presence.AVAILABLE, last_seen_at__gte=_presence_cutoff(), user__is_active=True)
        .count()
    )


def sessions_for_operator_history(operator, limit: int = 20):
    return (
        VerificationSession.objects.for_business(operator.business)
        .filter(operator=operator)
        .prefetch_related("participants__decision")
        .order_by("-answered_at")[:limit]
    )


def queue_snapshot(*, operator) -> dict:
    """What the console's queue shows: JSON for the queue socket."""
    from operators.models import Operator as OperatorModel

    now = timezone.now()
    operator = OperatorModel.objects.select_related("business").get(pk=operator.pk)
    entries = []
    for session in queue_for_business(operator.business):
        participants = sorted(session.participants.all(), key=lambda p: p.position)
        cutoff = _presence_cutoff()
        entries.append(
            {
                "id": session.public_id.hex,
                "kind": session.kind,
                "business_reference": session.business_reference,
                "waiting_seconds": int((now - session.waiting_at).total_seconds()) if session.waiting_at else 0,
                "participants": [
                    {
                        "name": p.name,
                        "language": p.language,
                        "ready": p.state == Participant.State.WAITING
                        and p.last_seen_at is not None
                        and p.last_seen_at >= cutoff,
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
