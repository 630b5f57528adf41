"""The audit trail: append events to a business's keyed hash chain,
checkpoint its head outside the database, verify it.

Three layers, each against a stronger attacker (docs/security.md):

- the hash chain: each event's SHA-256 covers its fields and the previous
  event's hash, so an edit without recomputing every later hash shows;
- the MAC: each event also carries HMAC-SHA256(key, key id | hash) with a key
  from the settings, not the database, so a database writer who recomputes
  every later hash with the public algorithm cannot recompute the MACs;
- checkpoints (sessions_app.audit_checkpoints): a signed (sequence, head hash)
  per business, appended to a file and a log line outside the database, so a
  removed tail or a chain rebuilt from scratch no longer matches them.

Events written before MACs existed have none. They are accepted unkeyed only
as the start of a chain (before the first keyed event and before any
checkpoint), and the first keyed event's MAC covers their hashes through the
link, so they cannot be changed afterwards either; what they held before the
upgrade rests on the plain hash chain alone, and the report says so.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Business
from sessions_app.audit_checkpoints import (
    Checkpoint,
    checkpoint_append,
    checkpoint_from_dict,
    checkpoint_problem,
    checkpoint_sign,
    checkpoints_read,
    logger as checkpoint_logger,
)
from sessions_app import locks
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


def _fields_digest(fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _event_hash(*, previous_hash: str, fields: dict, keyed: bool = True) -> str:
    """The event's link in the chain. Keyed events (those with a MAC) hash
    the digest of their fields, so an export can show another session's
    event as a link (previous hash, fields digest, hash) without its
    content; events from before MACs hash the fields themselves."""
    if keyed:
        return _link_hash(previous_hash=previous_hash, fields_digest=_fields_digest(fields))
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{previous_hash}|{canonical}".encode()).hexdigest()


def _link_hash(*, previous_hash: str, fields_digest: str) -> str:
    return hashlib.sha256(f"{previous_hash}|{fields_digest}".encode()).hexdigest()


def _event_mac(*, key: bytes, key_id: str, event_hash: str) -> str:
    # The key id is inside the MAC, so an event cannot be moved to another key.
    return hmac.new(key, f"{key_id}|{event_hash}".encode(), hashlib.sha256).hexdigest()


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


def audit_event_hash(event: AuditEvent) -> str:
    """What the event's hash must be, given its fields and its link."""
    return _event_hash(previous_hash=event.previous_hash, fields=_hashed_fields(event), keyed=bool(event.mac))


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
        if session is not None:
            # The session before the chain (sessions_app.locks). The event's
            # foreign keys share-lock the session's row anyway; taken after the
            # chain, that waits for a service holding the session and waiting
            # for the chain: PostgreSQL saw that deadlock when an operator's
            # page loaded capture thumbnails (each look audited) during a
            # decision. A no-op where the caller holds the session already.
            locks.session_row_lock(session.pk)
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
        # One HMAC over 64 bytes: microseconds, inside the chain's row lock.
        event.key_id = settings.AUDIT_CHAIN_KEY_ID
        event.mac = _event_mac(
            key=settings.AUDIT_CHAIN_KEYS[event.key_id], key_id=event.key_id, event_hash=event.hash
        )
        event.save()
        chain.last_sequence = event.sequence
        chain.last_hash = event.hash
        chain.save(update_fields=["last_sequence", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    problem: str
    at: datetime | None = None  # when the event says it was written; None if it is gone


@dataclass
class ChainReport:
    """What verifying one business's chain found."""

    problems: list[ChainProblem] = field(default_factory=list)
    head_sequence: int = 0
    head_hash: str = GENESIS_HASH
    unkeyed_events: int = 0  # at the start of the chain, written before MACs existed
    keyed_since: datetime | None = None  # the first keyed event's time
    last_matching_checkpoint: Checkpoint | None = None

    @property
    def first_problem(self) -> ChainProblem | None:
        return min(self.problems, key=lambda problem: problem.sequence, default=None)


def _walk(
    events,
    *,
    report: ChainReport,
    expected_sequence: int,
    expected_previous: str | None,
    checkpoints: list[Checkpoint],
    keyed_seen: bool,
) -> ChainReport:
    """Check ``events`` (ordered by sequence) link by link, each against its
    own hash, its MAC and every checkpoint that names its sequence; then
    that no checkpoint names a sequence past the last event.
    ``expected_previous`` None: the first event's link is not checked (a walk
    that starts at a checkpoint, which vouches for that event's hash)."""
    keys = settings.AUDIT_CHAIN_KEYS
    by_sequence: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        by_sequence.setdefault(checkpoint.sequence, []).append(checkpoint)
    first_checkpointed = min(by_sequence, default=None)

    def problem(event, text):
        report.problems.append(ChainProblem(event.sequence, text, event.created_at))

    for event in events:
        if event.sequence != expected_sequence:
            report.problems.append(ChainProblem(expected_sequence, f"missing events before #{event.sequence}"))
        if expected_previous is not None and event.previous_hash != expected_previous:
            problem(event, "does not link to the event before it")
        if audit_event_hash(event) != event.hash:
            problem(event, "content was changed after it was written")
        if event.mac:
            key = keys.get(event.key_id)
            if key is None:
                problem(event, f"MAC made with a key id not configured ({event.key_id!r})")
            elif not hmac.compare_digest(_event_mac(key=key, key_id=event.key_id, event_hash=event.hash), event.mac):
                problem(event, "MAC does not match: rewritten by somebody without the audit key")
            elif not keyed_seen:
                keyed_seen = True
                report.keyed_since = event.created_at
        elif keyed_seen or (first_checkpointed is not None and event.sequence > first_checkpointed):
            # Everything written since MACs exist has one; an unkeyed event
            # after a keyed one, or after a checkpoint (only code with keys
            # writes those), was made without the key.
            problem(
                event,
                "has no MAC although it comes after keyed events or a checkpoint: written without the audit key",
            )
        else:
            report.unkeyed_events += 1
        for checkpoint in by_sequence.get(event.sequence, []):
            if hmac.compare_digest(checkpoint.head_hash, event.hash):
                # Events come in order of sequence: the last match is the newest.
                report.last_matching_checkpoint = checkpoint
            else:
                problem(event, f"differs from the signed checkpoint of {checkpoint.at}")
        expected_previous = event.hash
        expected_sequence = event.sequence + 1
        report.head_sequence, report.head_hash = event.sequence, event.hash
    for checkpoint in checkpoints:
        if checkpoint.sequence > report.head_sequence:
            report.problems.append(
                ChainProblem(
                    report.head_sequence + 1,
                    f"the chain ends at #{report.head_sequence} but the signed checkpoint of {checkpoint.at} "
                    f"covers #{checkpoint.sequence}: the newest events were removed",
                )
            )
    return report


def _walk_from_genesis(business, checkpoints: list[Checkpoint]) -> ChainReport:
    return _walk(
        AuditEvent.objects.filter(business=business).order_by("sequence").iterator(),
        report=ChainReport(),
        expected_sequence=1,
        expected_previous=GENESIS_HASH,
        checkpoints=checkpoints,
        keyed_seen=False,
    )


def audit_chain_report(*, business, checkpoints: list[Checkpoint] | None = None) -> ChainReport:
    """Verify the business's whole chain: hashes, links, MACs, the head row
    and every checkpoint (read from the log unless given)."""
    if checkpoints is None:
        checkpoints = checkpoints_read()[0].get(str(business.public_id), [])
    report = _walk_from_genesis(business, checkpoints)
    chain = AuditChain.objects.filter(business=business).first()
    if chain and (chain.last_sequence != report.head_sequence or chain.last_hash != report.head_hash):
        report.problems.append(ChainProblem(chain.last_sequence, "the newest events were removed"))
    return report


def audit_verify_chain(*, business) -> list[ChainProblem]:
    """Every problem of the business's chain; an empty list means intact."""
    return audit_chain_report(business=business).problems


# --- checkpoints ---------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointOutcome:
    business: Business
    written: Checkpoint | None = None
    problems: tuple[ChainProblem, ...] = ()  # why nothing was signed


def audit_checkpoint_business(*, business, previous: Checkpoint | None) -> CheckpointOutcome:
    """Sign the chain's head, after checking every event since the previous
    checkpoint: a head is never signed on top of a chain that no longer
    verifies, or the checkpoint would vouch for the forgery. No events, or
    none since the previous checkpoint: nothing to sign."""
    if previous is None:
        report = _walk_from_genesis(business, [])
    else:
        report = _walk(
            AuditEvent.objects.filter(business=business, sequence__gte=previous.sequence)
            .order_by("sequence")
            .iterator(),
            report=ChainReport(),
            expected_sequence=previous.sequence,
            expected_previous=None,
            checkpoints=[previous],
            # Unkeyed events after the checkpoint are refused all the same
            # (_walk: nothing written after a checkpoint lacks a MAC).
            keyed_seen=False,
        )
    if report.problems:
        checkpoint_logger.error(
            "not checkpointing business %s: its audit chain does not verify since #%s",
            business.public_id,
            report.first_problem.sequence,
        )
        return CheckpointOutcome(business, problems=tuple(report.problems))
    if report.head_sequence == 0 or (previous and previous.sequence == report.head_sequence):
        return CheckpointOutcome(business)
    checkpoint = checkpoint_sign(
        business=str(business.public_id),
        sequence=report.head_sequence,
        head_hash=report.head_hash,
        at=timezone.now().isoformat(),
    )
    checkpoint_append(checkpoint)
    return CheckpointOutcome(business, written=checkpoint)


def audit_checkpoint_all() -> list[CheckpointOutcome]:
    """Checkpoint every business's chain (the beat task and `manage.py
    audit_checkpoint`). Idempotent: a head already checkpointed is not again."""
    accepted, _rejected = checkpoints_read()
    outcomes = []
    for business in Business.objects.order_by("pk"):
        # The newest checkpoint that still matches is the one to build on:
        # a forged line was already dropped by checkpoints_read.
        known = accepted.get(str(business.public_id), [])
        previous = max(known, key=lambda checkpoint: checkpoint.sequence, default=None)
        outcomes.append(audit_checkpoint_business(business=business, previous=previous))
    return outcomes


# --- proof for an export: verifiable offline ------------------------------------------

PROOF_FORMAT = "verity-audit-proof-v1"


def audit_event_export(event: AuditEvent) -> dict:
    """What an auditor needs of one event to recompute its hash and, with the
    audit key, its MAC."""
    return {
        "hashed_fields": _hashed_fields(event),
        "previous_hash": event.previous_hash,
        "hash": event.hash,
        "mac": event.mac,
        "key_id": event.key_id,
    }


def audit_session_proof(*, business, events: list[AuditEvent]) -> dict:
    """How the events (one session's, in the order of the chain) reach a
    signed checkpoint: for each event, the earliest checkpoint at or after it,
    and the links between them of the other events (their previous hash,
    fields digest and hash: never their content). The last checkpoint named
    is the latest that covers the session's events. Events written after the
    newest checkpoint are listed as not yet covered."""
    checkpoints = sorted(
        checkpoints_read()[0].get(str(business.public_id), []), key=lambda checkpoint: checkpoint.sequence
    )
    own = {event.sequence for event in events}
    segments: dict[int, int] = {}  # checkpoint sequence -> first sequence that needs it
    used: dict[int, Checkpoint] = {}
    uncovered = []
    for event in events:
        checkpoint = next((c for c in checkpoints if c.sequence >= event.sequence), None)
        if checkpoint is None:
            uncovered.append(event.sequence)
            continue
        used.setdefault(checkpoint.sequence, checkpoint)
        segments[checkpoint.sequence] = min(segments.get(checkpoint.sequence, event.sequence), event.sequence)
    links = []
    for end, start in sorted(segments.items()):
        rows = (
            AuditEvent.objects.filter(business=business, sequence__gt=start, sequence__lte=end)
            .exclude(sequence__in=own)
            .order_by("sequence")
        )
        for row in rows.iterator():
            links.append(
                {
                    "sequence": row.sequence,
                    "previous_hash": row.previous_hash,
                    # Unkeyed (pre-MAC) events hash their fields, not a digest:
                    # their link cannot be shown without content.
                    "fields_sha256": _fields_digest(_hashed_fields(row)) if row.mac else None,
                    "hash": row.hash,
                }
            )
    return {
        "format": PROOF_FORMAT,
        "checkpoints": [checkpoint.as_dict() for checkpoint in used.values()],
        "links": links,
        "not_yet_checkpointed": uncovered,
    }


def audit_proof_problems(*, trail: list[dict], proof: dict, public_keys: dict[str, bytes]) -> list[str]:
    """Check an export offline (no database, no audit key): every event's
    hash from its fields, every link, up to a checkpoint whose Ed25519
    signature holds under ``public_keys``. ``trail`` holds the exported
    events (audit_event_export). An empty list: every event is anchored."""
    problems = []
    checkpoint_at: dict[int, Checkpoint] = {}
    for data in proof.get("checkpoints", []):
        try:
            checkpoint = checkpoint_from_dict(data)
        except ValueError as exc:
            problems.append(f"a checkpoint is unreadable: {exc}")
            continue
        refused = checkpoint_problem(checkpoint, public_keys)
        if refused:
            problems.append(f"checkpoint #{checkpoint.sequence}: {refused}")
        else:
            checkpoint_at[checkpoint.sequence] = checkpoint
    chain: dict[int, tuple[str, str]] = {}  # sequence -> (previous hash, hash), each recomputed
    for entry in trail:
        fields = entry["hashed_fields"]
        sequence = fields["sequence"]
        keyed = bool(entry.get("mac"))
        if _event_hash(previous_hash=entry["previous_hash"], fields=fields, keyed=keyed) != entry["hash"]:
            problems.append(f"event #{sequence}: its fields do not give its hash")
        chain[sequence] = (entry["previous_hash"], entry["hash"])
    for link in proof.get("links", []):
        if link.get("fields_sha256") is None:
            continue  # unkeyed: left out of chain, so the walk below reports the gap
        if _link_hash(previous_hash=link["previous_hash"], fields_digest=link["fields_sha256"]) != link["hash"]:
            problems.append(f"link #{link['sequence']}: its digest does not give its hash")
        chain[link["sequence"]] = (link["previous_hash"], link["hash"])
    not_covered = set(proof.get("not_yet_checkpointed", []))
    for entry in trail:
        sequence = entry["hashed_fields"]["sequence"]
        if sequence in not_covered:
            continue
        current = sequence
        while current not in checkpoint_at:
            following = chain.get(current + 1)
            if following is None:
                problems.append(f"event #{sequence}: no verifiable link from #{current} to a checkpoint")
                break
            if following[0] != chain[current][1]:
                problems.append(f"event #{sequence}: #{current + 1} does not link to #{current}")
                break
            current += 1
        else:
            if checkpoint_at[current].head_hash != chain[current][1]:
                problems.append(f"event #{sequence}: the chain reaches #{current} but not its signed checkpoint")
    return problems
