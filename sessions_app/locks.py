"""The lock order: the one rule every write that locks rows follows.

    session → participant → a row of that participant (step, capture) → audit chain

Two services that lock the same rows in different orders deadlock on
PostgreSQL (seen: a customer leaving the queue as the operator answers; an
operator's capture request against a stored check result). So every service
takes its locks through these functions, top of the order first, and the
audit chain last (``sessions_app.audit.audit_record`` locks it as it writes).

One FOR UPDATE over a row joined to its parents locks them in whatever order
the query plan reads them, so each level is locked on its own, and the
session with ``of=("self",)``: a join under FOR UPDATE would lock the
business's row too and make every call of a business wait for each other.
A participant never changes session, nor a step or capture participant, so
reading the parent's id unlocked first is safe.
"""

from django.db import models

from sessions_app.models import Participant, VerificationSession


def session_lock(session_id: int) -> VerificationSession:
    """The session, locked. Caller is inside ``transaction.atomic()``."""
    return VerificationSession.objects.select_for_update(of=("self",)).select_related("business").get(pk=session_id)


def session_row_lock(session_id: int) -> None:
    """Take the session's row lock without reading it: what audit_record does
    before it takes the chain, so a writer that holds nothing yet (a look at
    evidence, an admin page) still locks in the order above."""
    list(VerificationSession.objects.select_for_update(of=("self",)).filter(pk=session_id).values_list("pk", flat=True))


def participant_lock(participant_id: int) -> Participant:
    """The participant, locked after its session (``participant.session`` is
    the locked session)."""
    session_id = Participant.objects.values_list("session_id", flat=True).get(pk=participant_id)
    session = session_lock(session_id)
    participant = Participant.objects.select_for_update().get(pk=participant_id)
    participant.session = session
    return participant


def participant_row_lock(queryset: models.QuerySet, pk: int):
    """A row that belongs to one participant (a step, a capture request),
    locked after its session and participant (``row.participant`` is the
    locked participant). ``queryset`` names the model: ``StepState.objects``."""
    participant_id = queryset.values_list("participant_id", flat=True).get(pk=pk)
    participant = participant_lock(participant_id)
    row = queryset.select_for_update(of=("self",)).get(pk=pk)
    row.participant = participant
    return row
