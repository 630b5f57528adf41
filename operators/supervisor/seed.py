"""A month of made-up call history for the supervisor dashboard: the demo
(`make run`), the browser test and its screenshots.

Written with bulk_create, not through the session services: these calls never
happened, so they get no audit trail, no webhooks and no evidence; only the
rows the dashboard reads (sessions, their first participant, decisions).
Every seeded session has ended, so none of them shows up in an operator's
queue. Deterministic for a given ``seed``.
"""

import hashlib
import random
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.db import transaction
from django.utils import timezone

from accounts.models import Business, Operator
from operators.models import Decision
from sessions_app.models import Participant, VerificationSession

State = VerificationSession.State
LANGUAGES = (("de", 55), ("en", 30), ("", 10), ("fr", 5))
OUTCOMES = ((Decision.Outcome.APPROVE, 76), (Decision.Outcome.REJECT, 11), (Decision.Outcome.RETRY, 13))
FIRST_NAMES = ("Lena", "Jonas", "Mia", "Paul", "Emma", "Felix", "Sofia", "Noah", "Clara", "Elias", "Hannah", "Luca")
LAST_NAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch")
BATCH = 2000


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights=weights)[0]


def _hour_weight(hour: int) -> float:
    """Calls come in office hours, most around late morning and after work."""
    return {8: 0.6, 9: 1.0, 10: 1.3, 11: 1.4, 12: 1.0, 13: 0.9, 14: 1.0, 15: 1.1, 16: 1.2, 17: 1.4, 18: 1.2, 19: 0.7}.get(hour, 0)


def dashboard_sessions_seed(
    *, business: Business, workflow, operators: list[Operator], days: int = 30, per_day: int = 40,
    seed: int = 21, now: datetime | None = None,
) -> int:
    """Seed ``days`` days of ended calls before ``now`` (about ``per_day`` a
    weekday, fewer at weekends): varied waits (longer at busy hours), call
    lengths, operators (some busier than others), languages, outcomes and
    reasons, abandoned and expired calls. Returns how many sessions."""
    if not operators:
        raise ValueError("The seed needs at least one operator of the business.")
    rng = random.Random(seed)
    now = now or timezone.now()
    today = now.astimezone(dt_timezone.utc).date()
    # Some operators answer more calls than others.
    operator_weights = [(operator, 1.0 + 0.6 * index) for index, operator in enumerate(operators)]
    hours = [h for h in range(24) if _hour_weight(h)]
    sessions, participants_of, decisions_of = [], {}, {}
    for back in range(days, 0, -1):
        day = today - timedelta(days=back - 1)
        weekend = day.weekday() >= 5
        count = max(1, round(per_day * (0.45 if weekend else 1.0) * rng.uniform(0.8, 1.2)))
        for _ in range(count):
            hour = rng.choices(hours, weights=[_hour_weight(h) for h in hours])[0]
            waiting_at = datetime.combine(day, time(hour), tzinfo=dt_timezone.utc) + timedelta(seconds=rng.uniform(0, 3599))
            if waiting_at >= now - timedelta(minutes=30):
                continue  # a seeded call has ended by now
            busy = _hour_weight(hour) >= 1.2
            wait = rng.lognormvariate(3.4 if busy else 3.0, 0.7)  # median ~30 s at busy hours, ~20 s otherwise
            roll = rng.random()
            operator = None
            answered_at = None
            if roll < 0.07 or wait > 600:
                state, ended_at = State.ABANDONED, waiting_at + timedelta(seconds=min(wait * 1.5, 900))
            elif roll < 0.09:
                state, ended_at = State.EXPIRED, waiting_at + timedelta(seconds=min(wait * 2, 1800))
            else:
                operator = _pick(rng, operator_weights)
                answered_at = waiting_at + timedelta(seconds=wait)
                length = max(120.0, rng.gauss(480, 150))
                state, ended_at = State.COMPLETED, answered_at + timedelta(seconds=length)
            session = VerificationSession(
                business=business, workflow=workflow, state=state, operator=operator,
                business_reference=f"SEED-{day:%Y%m%d}-{len(sessions):05d}",
                waiting_at=waiting_at, answered_at=answered_at, ended_at=ended_at, state_changed_at=ended_at,
            )
            sessions.append(session)
            participants_of[id(session)] = (
                f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                _pick(rng, LANGUAGES),
            )
            if state == State.COMPLETED:
                outcome = _pick(rng, OUTCOMES)
                reasons = Decision.REASONS_BY_OUTCOME[outcome]
                decisions_of[id(session)] = (outcome, reasons[0] if len(reasons) == 1 else rng.choice(reasons), operator)
    with transaction.atomic():
        for start in range(0, len(sessions), BATCH):
            _write_batch(sessions[start : start + BATCH], participants_of, decisions_of, seed)
    return len(sessions)


def _write_batch(sessions, participants_of, decisions_of, seed):
    VerificationSession.objects.bulk_create(sessions)
    if sessions and sessions[0].pk is None:
        # Backends that do not return ids from a bulk insert: read them back
        # by the unique references just written.
        ids = dict(
            VerificationSession.objects.filter(public_id__in=[s.public_id for s in sessions]).values_list("public_id", "pk")
        )
        for session in sessions:
            session.pk = ids[session.public_id]
    participants = []
    for session in sessions:
        name, language = participants_of[id(session)]
        decided = id(session) in decisions_of
        participants.append(
            Participant(
                session=session, position=0, name=name, language=language,
                state=Participant.State.DECIDED if decided else Participant.State.LEFT,
                state_changed_at=session.ended_at,
                # Not a working link: the hash of nothing anybody holds.
                link_token_hash=hashlib.sha256(f"seed-{seed}-{session.public_id}".encode()).hexdigest(),
                link_expires_at=session.ended_at,
            )
        )
    Participant.objects.bulk_create(participants)
    decisions = []
    for session, participant in zip(sessions, participants):
        if id(session) in decisions_of:
            outcome, reason, operator = decisions_of[id(session)]
            decisions.append(Decision(participant=participant, outcome=outcome, reason_code=reason, operator=operator))
    Decision.objects.bulk_create(decisions)
