"""The supervisor dashboard's figures, read from the database.

A period's figures are about the calls that entered the queue in it: a
session counts when its ``waiting_at`` falls in [start, end). Of those,

- *answered*: an operator answered (``answered_at`` is set);
- *abandoned*: never answered and no longer waiting (the customer left the
  queue, the link expired, the business cancelled);
- *still waiting*: in the queue now; neither answered nor abandoned yet, so
  left out of the abandonment rate and the service level.

Wait = answered_at - waiting_at (answered calls); call length =
ended_at - answered_at (answered calls that ended). The service level is the
share of answered + abandoned calls answered within N seconds: a customer who
gave up waiting was not answered in time.

A call's language is its first participant's (position 0); blank is
"unknown". Days are UTC days (the business has no time zone of its own).

Percentiles are PostgreSQL's ``percentile_cont`` (linear interpolation) in
the database; on SQLite, which has no such aggregate, the same definition in
Python over the period's durations (one column of numbers, read once).
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Func, Min, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Operator
from accounts.selectors import operators_seen_at, presence_cutoff
from operators.models import Decision
from sessions_app.models import Participant, VerificationSession

State = VerificationSession.State
UNKNOWN_LANGUAGE = ""
DEFAULT_PERIOD_DAYS = 30


class Seconds(Func):
    """Seconds from the second datetime to the first, as a float."""

    arity = 2
    output_field = FloatField()
    # SQLite keeps datetimes as ISO text, which julianday() reads.
    template = "((julianday(%(expressions)s)) * 86400.0)"
    arg_joiner = ") - julianday("

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)",
            arg_joiner=" - ",
            **extra,
        )


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate percentile_cont(p)."""

    function = "percentile_cont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, percentile: float, expression, **extra):
        super().__init__(expression, percentile=repr(float(percentile)), **extra)


WAIT = Seconds("answered_at", "waiting_at")
LENGTH = Seconds("ended_at", "answered_at")


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over a list: linear interpolation between
    the two closest ranks (so both stacks give the same answer)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _in_database() -> bool:
    return connection.vendor == "postgresql"


def _percentiles(queryset, expression, *, group: str | None = None) -> dict:
    """{group value (None without a group): (median, p90)} of ``expression``
    over ``queryset``'s rows, where it is not null."""
    queryset = queryset.order_by()  # the model's ordering would join the GROUP BY
    if _in_database():
        if group is None:
            row = queryset.aggregate(median=PercentileCont(0.5, expression), p90=PercentileCont(0.9, expression))
            return {None: (row["median"], row["p90"])} if row["median"] is not None else {}
        rows = queryset.values(group).annotate(
            median=PercentileCont(0.5, expression), p90=PercentileCont(0.9, expression)
        )
        return {row[group]: (row["median"], row["p90"]) for row in rows}
    values = defaultdict(list)
    columns = ("_x",) if group is None else (group, "_x")
    for row in queryset.annotate(_x=expression).values_list(*columns):
        key = None if group is None else row[0]
        if row[-1] is not None:
            values[key].append(row[-1])
    return {key: (percentile_cont(v, 0.5), percentile_cont(v, 0.9)) for key, v in values.items()}


# --- the period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From the first day's midnight (UTC) to the midnight after the last day."""

    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=dt_timezone.utc)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=dt_timezone.utc)

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]


def period_default(*, today: date | None = None) -> Period:
    today = today or timezone.now().astimezone(dt_timezone.utc).date()
    return Period(first_day=today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), last_day=today)


def sessions_in_period(business, period: Period):
    return VerificationSession.objects.filter(
        business=business, waiting_at__gte=period.start, waiting_at__lt=period.end
    ).order_by()


def _first_language():
    return Subquery(
        Participant.objects.filter(session=OuterRef("pk"), position=0).order_by().values("language")[:1]
    )


# --- the figures -----------------------------------------------------------------------------


@dataclass
class Counts:
    queued: int = 0
    answered: int = 0
    abandoned: int = 0
    still_waiting: int = 0
    answered_in_time: int = 0

    @property
    def settled(self) -> int:
        """Answered or abandoned: the calls whose wait is over."""
        return self.answered + self.abandoned

    @property
    def abandonment_rate(self) -> float | None:
        return self.abandoned / self.settled if self.settled else None

    @property
    def service_level(self) -> float | None:
        return self.answered_in_time / self.settled if self.settled else None


def _count_aggregates(sla_seconds: int) -> dict:
    answered = Q(answered_at__isnull=False)
    return {
        "queued": Count("pk"),
        "answered": Count("pk", filter=answered),
        "abandoned": Count("pk", filter=Q(answered_at__isnull=True) & ~Q(state=State.WAITING)),
        "still_waiting": Count("pk", filter=Q(answered_at__isnull=True, state=State.WAITING)),
        "answered_in_time": Count("pk", filter=answered & Q(_wait__lte=sla_seconds)),
    }


@dataclass
class OperatorRow:
    operator_id: int
    name: str
    answered: int = 0
    wait: tuple = (None, None)
    length: tuple = (None, None)
    outcomes: dict = field(default_factory=dict)


@dataclass
class LanguageRow:
    language: str
    counts: Counts
    wait: tuple = (None, None)


@dataclass
class DayRow:
    day: date
    counts: Counts
    wait: tuple = (None, None)


@dataclass
class PeriodFigures:
    period: Period
    sla_seconds: int
    counts: Counts
    wait: tuple
    length: tuple
    outcomes: dict  # outcome -> count, in Decision.Outcome's order
    reasons: list  # (outcome, reason, count), most frequent first
    operators: list
    languages: list
    days: list


def period_figures(*, business, period: Period, sla_seconds: int) -> PeriodFigures:
    sessions = sessions_in_period(business, period)
    timed = sessions.annotate(_wait=WAIT)
    aggregates = _count_aggregates(sla_seconds)
    counts = Counts(**timed.aggregate(**aggregates))
    answered = sessions.filter(answered_at__isnull=False)
    ended = answered.filter(ended_at__isnull=False)
    wait = _percentiles(answered, WAIT).get(None, (None, None))
    length = _percentiles(ended, LENGTH).get(None, (None, None))

    decisions = Decision.objects.filter(
        participant__session__business=business,
        participant__session__waiting_at__gte=period.start,
        participant__session__waiting_at__lt=period.end,
    ).order_by()
    by_outcome = dict(decisions.values_list("outcome").annotate(n=Count("pk")))
    outcomes = {outcome: by_outcome.get(outcome, 0) for outcome in Decision.Outcome.values}
    reasons = sorted(
        decisions.values_list("outcome", "reason_code").annotate(n=Count("pk")),
        key=lambda row: (-row[2], row[0], row[1]),
    )

    operators = _operator_rows(answered, ended, decisions)
    languages = _language_rows(sessions, aggregates)
    days = _day_rows(sessions, aggregates, answered, period)
    return PeriodFigures(
        period=period,
        sla_seconds=sla_seconds,
        counts=counts,
        wait=wait,
        length=length,
        outcomes=outcomes,
        reasons=list(reasons),
        operators=operators,
        languages=languages,
        days=days,
    )


def _operator_rows(answered, ended, decisions) -> list[OperatorRow]:
    counts = dict(answered.values_list("operator").annotate(n=Count("pk")))
    waits = _percentiles(answered, WAIT, group="operator")
    lengths = _percentiles(ended, LENGTH, group="operator")
    outcomes = defaultdict(dict)
    for operator_id, outcome, n in decisions.values_list("operator", "outcome").annotate(n=Count("pk")):
        outcomes[operator_id][outcome] = n
    ids = set(counts) | set(outcomes)
    names = dict(Operator.objects.filter(pk__in=ids).values_list("pk", "display_name"))
    rows = [
        OperatorRow(
            operator_id=pk,
            name=names.get(pk, "?"),
            answered=counts.get(pk, 0),
            wait=waits.get(pk, (None, None)),
            length=lengths.get(pk, (None, None)),
            outcomes={outcome: outcomes[pk].get(outcome, 0) for outcome in Decision.Outcome.values},
        )
        for pk in ids
        if pk is not None
    ]
    return sorted(rows, key=lambda row: (-row.answered, row.name))


def _language_rows(sessions, aggregates) -> list[LanguageRow]:
    with_language = sessions.annotate(_language=_first_language(), _wait=WAIT)
    rows = with_language.values("_language").annotate(**aggregates)
    waits = _percentiles(
        sessions.filter(answered_at__isnull=False).annotate(_language=_first_language()), WAIT, group="_language"
    )
    result = [
        LanguageRow(
            language=row["_language"] or UNKNOWN_LANGUAGE,
            counts=Counts(**{key: row[key] for key in aggregates}),
            wait=waits.get(row["_language"], (None, None)),
        )
        for row in rows
    ]
    # Blank and NULL (no participant at position 0) are both "unknown".
    merged: dict[str, LanguageRow] = {}
    for row in result:
        if row.language in merged:
            kept = merged[row.language]
            for key in aggregates:
                setattr(kept.counts, key, getattr(kept.counts, key) + getattr(row.counts, key))
        else:
            merged[row.language] = row
    return sorted(merged.values(), key=lambda row: (-row.counts.queued, row.language))


def _day_rows(sessions, aggregates, answered, period: Period) -> list[DayRow]:
    utc = dt_timezone.utc
    rows = {
        row["_day"]: row
        for row in sessions.annotate(_day=TruncDate("waiting_at", tzinfo=utc), _wait=WAIT)
        .values("_day")
        .annotate(**aggregates)
    }
    waits = _percentiles(answered.annotate(_day=TruncDate("waiting_at", tzinfo=utc)), WAIT, group="_day")
    return [
        DayRow(
            day=day,
            counts=Counts(**{key: rows[day][key] for key in aggregates}) if day in rows else Counts(),
            wait=waits.get(day, (None, None)),
        )
        for day in period.days
    ]


# --- live ------------------------------------------------------------------------------------

LIVE_STATES = (State.CREATED, State.WAITING, State.IN_CALL)


def live_figures(*, business, now: datetime | None = None) -> dict:
    """The floor now: the queue, the operators, the calls not ended. Each a
    query on an index ((business, state, waiting_at), operators of one
    business)."""
    now = now or timezone.now()
    live = VerificationSession.objects.filter(business=business, state__in=LIVE_STATES).order_by()
    by_state = dict(live.values_list("state").annotate(n=Count("pk")))
    oldest = live.filter(state=State.WAITING).aggregate(oldest=Min("waiting_at"))["oldest"]
    in_call_ids = set(
        live.filter(state=State.IN_CALL, operator__isnull=False).values_list("operator", flat=True).distinct()
    )
    operators = list(
        Operator.objects.for_business(business).filter(user__is_active=True).only("pk", "presence", "last_seen_at")
    )
    seen = operators_seen_at(operators)
    cutoff = presence_cutoff()
    in_call = sum(1 for op in operators if op.pk in in_call_ids)
    available = sum(
        1
        for op in operators
        if op.pk not in in_call_ids
        and op.presence == Operator.Presence.AVAILABLE
        and seen.get(op.pk) is not None
        and seen[op.pk] >= cutoff
    )
    return {
        "waiting": by_state.get(State.WAITING, 0),
        "longest_wait_seconds": max(0, round((now - oldest).total_seconds())) if oldest else 0,
        "operators": {"available": available, "in_call": in_call, "away": len(operators) - available - in_call},
        "by_state": {state.value: by_state.get(state, 0) for state in LIVE_STATES},
        "at": now.isoformat(),
    }
