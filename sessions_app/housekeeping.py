"""Housekeeping for calls whose browsers went away without a word.

A crashed browser or a dead server process never says goodbye, so presence
is a lease (renewed by every heartbeat, in the presence cache: kyc/presence.py;
the database holds only the join) and this sweep ends what lapsed:
customers who left the queue, calls that nobody is in any more, sessions
whose links all expired unused. Run by Celery beat in production and by the
operators' queue sockets in the embedded mode.
"""

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.selectors import operators_seen_at
from kyc.presence import presence_seen_at
from sessions_app import scheduling_services, services
from sessions_app.audit import Actor
from sessions_app.models import Participant, VerificationSession
from sessions_app.selectors import PARTICIPANT_PRESENCE

logger = logging.getLogger(__name__)
P = Participant.State
S = VerificationSession.State


def sessions_sweep_stale(*, now=None) -> dict[str, int]:
    now = now or timezone.now()
    presence_cutoff = now - timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS)
    call_cutoff = now - timedelta(seconds=settings.CALL_RESUME_WINDOW_SECONDS)
    counts = {"left_queue": 0, "interrupted": 0, "expired": 0}

    # The database's stamp is the join (or a closed socket's grace): those
    # stamped before the cutoff lapsed unless their lease says otherwise.
    stale_in_database = list(
        Participant.objects.filter(session__state=S.WAITING, state=P.WAITING)
        .filter(Q(last_seen_at__lt=presence_cutoff) | Q(last_seen_at__isnull=True))
        .select_related("session")
    )
    seen = presence_seen_at(PARTICIPANT_PRESENCE, stale_in_database, now=now.timestamp())
    lapsed_waiting = [p for p in stale_in_database if seen[p.pk] is None or seen[p.pk] < presence_cutoff]
    for participant in lapsed_waiting:
        try:
            services.participant_leave(participant=participant, actor=Actor.system(), reason="presence_lapsed")
            counts["left_queue"] += 1
        except Exception:  # one bad row must not stop the sweep
            logger.exception("could not sweep waiting participant %s", participant.pk)

    for session in VerificationSession.objects.filter(state=S.IN_CALL, answered_at__lt=call_cutoff).select_related(
        "operator"
    ):
        in_call = list(session.participants.filter(state__in=[P.IN_CALL, P.DECIDED]).only("pk", "last_seen_at"))
        seen = list(presence_seen_at(PARTICIPANT_PRESENCE, in_call, now=now.timestamp()).values())
        if session.operator:
            seen += operators_seen_at([session.operator], now=now.timestamp()).values()
        someone_here = any(at is not None and at >= call_cutoff for at in seen)
        if not someone_here:
            services.session_end(session=session, actor=Actor.system(), reason="interrupted")
            counts["interrupted"] += 1

    for session in VerificationSession.objects.filter(state=S.CREATED).exclude(
        participants__link_expires_at__gt=now
    ):
        services.session_expire(session=session)
        counts["expired"] += 1

    # Booked calls nobody came to (the business's no_show_after_minutes).
    for booking_id in scheduling_services.bookings_no_show_due(now=now):
        try:
            if scheduling_services.booking_record_no_show(booking_id=booking_id, now=now):
                counts["no_show"] = counts.get("no_show", 0) + 1
        except Exception:  # one bad row must not stop the sweep
            logger.exception("could not record no-show of booking %s", booking_id)
    return counts


@shared_task(acks_late=True)
def sessions_housekeeping() -> dict[str, int]:
    return sessions_sweep_stale()


_last_embedded_sweep = 0.0


def sweep_if_due(interval_seconds: float = 15.0) -> None:
    """For the embedded mode (no beat): sweep at most every interval per process."""
    global _last_embedded_sweep
    if settings.CELERY_TASK_ALWAYS_EAGER and time.monotonic() - _last_embedded_sweep >= interval_seconds:
        _last_embedded_sweep = time.monotonic()
        sessions_sweep_stale()
