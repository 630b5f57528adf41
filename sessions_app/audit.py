"""The audit trail: append events to a business's hash chain, verify it."""

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from sessions_app.models import AuditChain, AuditEvent

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    kind: str
    user_id: int | None = None

    @classmethod
    def system(cls):
        return cls(AuditEvent.ActorKind.SYSTEM)

    @classmethod
    def customer(cls):
        return cls(AuditEvent.ActorKind.CUSTOMER)

    @classmethod
    def operator(cls, operator):
        return cls(AuditEvent.ActorKind.OPERATOR, operator.user_id)

    @classmethod
    def staff(cls, user):
        return cls(AuditEvent.ActorKind.STAFF, user.pk)

    @classmethod
    def api(cls):
        return cls(AuditEvent.ActorKind.API)


def _event_hash(*, previous_hash: str, fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{previous_hash}|{canonical}".encode()).hexdigest()


def _hashed_fields(event: AuditEvent) -> dict:
    return {
        "business": event.business_id,
        "sequence": event.sequence,
        "session": event.session_id,
        "participant": event.participant_id,
        "actor_kind": event.actor_kind,
        "actor_user": event.actor_user_id,
        "action": event.action,
        "data": event.data,
        "created_at": event.created_at.isoformat(),
    }


def audit_record(
    *,
    business,
    action: str,
    actor: Actor,
    session=None,
    participant=None,
    data: dict | None = None,
) -> AuditEvent:
    """Append one event. Runs in the caller's transaction, so the event and
    the change it describes commit or roll back together."""
    with transaction.atomic():
        chain, _created = AuditChain.objects.select_for_update().get_or_create(business=business)
        if _created:
            # get_or_create's insert does not hold the lock on every database;
            # take it now so the next writer waits for us.
            chain = AuditChain.objects.select_for_update().get(pk=chain.pk)
        event = AuditEvent(
            business=business,
            sequence=chain.last_sequence + 1,
            session=session,
            participant=participant,
            actor_kind=actor.kind,
            actor_user_id=actor.user_id,
            action=action,
            # A JSON round trip makes the stored data exactly what is hashed
            # (tuples become lists, dates strings) so verification agrees.
            data=json.loads(json.dumps(data or {}, default=str)),
            created_at=timezone.now(),
            previous_hash=chain.last_hash,
        )
        event.hash = _event_hash(previous_hash=event.previous_hash, fields=_hashed_fields(event))
        event.save()
        chain.last_sequence = event.sequence
        chain.last_hash = event.hash
        chain.save(update_fields=["last_sequence", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    problem: str


def audit_verify_chain(*, business) -> list[ChainProblem]:
    """Recompute every hash of the business's chain; an empty list means intact."""
    problems = []
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    for event in AuditEvent.objects.filter(business=business).order_by("sequence").iterator():
        if event.sequence != expected_sequence:
            problems.append(ChainProblem(expected_sequence, f"missing events before #{event.sequence}"))
        if event.previous_hash != expected_previous:
            problems.append(ChainProblem(event.sequence, "does not link to the event before it"))
        if _event_hash(previous_hash=event.previous_hash, fields=_hashed_fields(event)) != event.hash:
            problems.append(ChainProblem(event.sequence, "content was changed after it was written"))
        expected_previous = event.hash
        expected_sequence = event.sequence + 1
    chain = AuditChain.objects.filter(business=business).first()
    if chain and (chain.last_sequence != expected_sequence - 1 or chain.last_hash != expected_previous):
        problems.append(ChainProblem(chain.last_sequence, "the newest events were removed"))
    return problems
