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
"unknown". Days are the business's days: its time zone (Business.time_zone,
the zone its operators' working hours are in) draws the period's bounds and
the per-day rows, DST included.

Percentiles are PostgreSQL's ``percentile_cont`` (linear interpolation) in
the database; on SQLite, which has no such aggregate, the same definition in
Python over the period's durations (one column of numbers, read once).
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Aggregate, CharField, Count, FloatField, Func, Min, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Operator
from accounts.selectors import operators_seen_at, presence_cutoff
from operators.models import Decision
from sessions_app.models import VerificationSession
from sessions_app.selectors import session_language_expression

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


# --- the period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From the first day's midnight to the midnight after the last day, in
    the time zone ``zone`` (an IANA name: the business's)."""

    first_day: date
    last_day: date
    zone: str = "UTC"

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=ZoneInfo(self.zone))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=ZoneInfo(self.zone))

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]


def period_default(*, today: date | None = None, zone: str = "UTC") -> Period:
    today = today or timezone.now().astimezone(ZoneInfo(zone)).date()
    return Period(first_day=today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), last_day=today, zone=zone)


def sessions_in_period(business, period: Period):
    return VerificationSession.objects.filter(
        business=business, waiting_at__gte=period.start, waiting_at__lt=period.end
    ).order_by()


def _first_language():
    # The call's language by the one rule routing uses too
    # (sessions_app.selectors.session_language); no participant (NULL) and a
    # blank language are one group, "unknown", in the database already, so
    # each group's percentiles are computed over all of its calls.
    return Coalesce(session_language_expression(), Value(""))


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


def _figures_by(queryset, *, group: str | None, counts: dict, measures: dict) -> dict:
    """{group value (None without a group): {count: n, measure: (median, p90)}}.

    On PostgreSQL one query: the counts and percentile_cont of each measure
    (which skips NULLs: a wait of a call never answered, the length of one not
    ended). On SQLite the counts in one query, and the measures' values read
    once and their percentiles taken in Python."""
    queryset = queryset.order_by()  # the model's ordering would join the GROUP BY
    grouped = queryset.values(group) if group else queryset
    if _in_database():
        aggregates = dict(counts)
        for name, expression in measures.items():
            aggregates[f"{name}__median"] = PercentileCont(0.5, expression)
            aggregates[f"{name}__p90"] = PercentileCont(0.9, expression)
        rows = [grouped.aggregate(**aggregates)] if group is None else list(grouped.annotate(**aggregates))
        return {
            (row[group] if group else None): {
                **{key: row[key] for key in counts},
                **{name: (row[f"{name}__median"], row[f"{name}__p90"]) for name in measures},
            }
            for row in rows
        }
    rows = [grouped.aggregate(**counts)] if group is None else list(grouped.annotate(**counts))
    result = {(row[group] if group else None): {key: row[key] for key in counts} for row in rows}
    values = defaultdict(lambda: defaultdict(list))
    columns = ([group] if group else []) + [f"_m_{name}" for name in measures]
    measured = queryset.annotate(**{f"_m_{name}": expression for name, expression in measures.items()})
    for row in measured.values_list(*columns):
        key, numbers = (row[0], row[1:]) if group else (None, row)
        for name, value in zip(measures, numbers):
            if value is not None:
                values[key][name].append(value)
    for key, figures in result.items():
        for name in measures:
            found = values[key][name]
            figures[name] = (percentile_cont(found, 0.5), percentile_cont(found, 0.9))
    return result


def utc_offset_segments(zone: str, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offsets over [start, end) as (until, minutes) pairs,
    the last with until None: one pair, or one more per DST change."""
    tz = ZoneInfo(zone)

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds() // 60)

    segments = []
    current = offset(start)
    moment = start.astimezone(dt_timezone.utc).replace(minute=0, second=0, microsecond=0)
    while moment < end:
        moment += timedelta(hours=1)
        # Every zone changes its offset on the hour or the half hour in UTC;
        # the half-hour look catches the latter.
        for candidate in (moment - timedelta(minutes=30), moment):
            if candidate < end and offset(candidate) != current:
                segments.append((candidate, current))
                current = offset(candidate)
    segments.append((None, current))
    return segments


class LocalDay(Func):
    """The day of a datetime in a time zone, as 'YYYY-MM-DD' text. On
    PostgreSQL, AT TIME ZONE. On SQLite, which knows no zones, the zone's
    offsets over the period (utc_offset_segments) as a CASE of datetime()
    shifts; not TruncDate, which there is a Python function called per row."""

    output_field = CharField()

    def __init__(self, expression, *, period: "Period"):
        super().__init__(expression)
        self.period = period

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"to_char({sql} AT TIME ZONE %s, 'YYYY-MM-DD')", [*params, self.period.zone]

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        segments = utc_offset_segments(self.period.zone, self.period.start, self.period.end)
        shifted = f"substr(datetime({sql}, %s), 1, 10)"
        parts, values = [], []
        for until, minutes in segments:
            modifier = f"{minutes:+d} minutes"
            if until is None:
                parts.append(f"ELSE {shifted}" if len(segments) > 1 else shifted)
                values += [*params, modifier]
            else:
                parts.append(f"WHEN {sql} < %s THEN {shifted}")
                values += [*params, connection.ops.adapt_datetimefield_value(until), *params, modifier]
        if len(segments) == 1:
            return parts[0], values
        return "CASE " + " ".join(parts) + " END", values


MEASURES = {"wait": WAIT, "length": LENGTH}


def period_figures(*, business, period: Period, sla_seconds: int) -> PeriodFigures:
    sessions = sessions_in_period(business, period).annotate(_wait=WAIT)
    aggregates = _count_aggregates(sla_seconds)
    total = _figures_by(sessions, group=None, counts=aggregates, measures=MEASURES)[None]
    counts = Counts(**{key: total[key] for key in aggregates})

    # One query for every decision figure: outcomes, reasons, per operator.
    decisions = defaultdict(int)
    for operator_id, outcome, reason, n in (
        Decision.objects.filter(
            participant__session__business=business,
            participant__session__waiting_at__gte=period.start,
            participant__session__waiting_at__lt=period.end,
        )
        .order_by()
        .values_list("operator", "outcome", "reason_code")
        .annotate(n=Count("pk"))
    ):
        decisions[(operator_id, outcome, reason)] += n
    by_outcome = defaultdict(int)
    by_reason = defaultdict(int)
    for (_operator, outcome, reason), n in decisions.items():
        by_outcome[outcome] += n
        by_reason[(outcome, reason)] += n
    outcomes = {outcome: by_outcome.get(outcome, 0) for outcome in Decision.Outcome.values}
    reasons = sorted(((o, r, n) for (o, r), n in by_reason.items()), key=lambda row: (-row[2], row[0], row[1]))

    return PeriodFigures(
        period=period,
        sla_seconds=sla_seconds,
        counts=counts,
        wait=total["wait"],
        length=total["length"],
        outcomes=outcomes,
        reasons=reasons,
        operators=_operator_rows(sessions, decisions),
        languages=_language_rows(sessions, aggregates),
        days=_day_rows(sessions, aggregates, period),
    )


def _operator_rows(sessions, decisions: dict) -> list[OperatorRow]:
    answered = sessions.filter(answered_at__isnull=False)
    figures = _figures_by(answered, group="operator", counts={"answered": Count("pk")}, measures=MEASURES)
    outcomes = defaultdict(lambda: defaultdict(int))
    for (operator_id, outcome, _reason), n in decisions.items():
        outcomes[operator_id][outcome] += n
    ids = {pk for pk in set(figures) | set(outcomes) if pk is not None}
    names = dict(Operator.objects.filter(pk__in=ids).values_list("pk", "display_name"))
    rows = [
        OperatorRow(
            operator_id=pk,
            name=names.get(pk, "?"),
            answered=figures.get(pk, {}).get("answered", 0),
            wait=figures.get(pk, {}).get("wait", (None, None)),
            length=figures.get(pk, {}).get("length", (None, None)),
            outcomes={outcome: outcomes[pk].get(outcome, 0) for outcome in Decision.Outcome.values},
        )
        for pk in ids
    ]
    return sorted(rows, key=lambda row: (-row.answered, row.name))


def _language_rows(sessions, aggregates) -> list[LanguageRow]:
    figures = _figures_by(
        sessions.annotate(_language=_first_language()), group="_language", counts=aggregates, measures={"wait": WAIT}
    )
    # Blank and NULL (no participant at position 0) are both "unknown".
    merged: dict[str, LanguageRow] = {}
    for language, row in figures.items():
        language = language or UNKNOWN_LANGUAGE
        counts = Counts(**{key: row[key] for key in aggregates})
        if language in merged:
            kept = merged[language]
            for key in aggregates:
                setattr(kept.counts, key, getattr(kept.counts, key) + getattr(counts, key))
        else:
            merged[language] = LanguageRow(language=language, counts=counts, wait=row["wait"])
    return sorted(merged.values(), key=lambda row: (-row.counts.queued, row.language))


def _day_rows(sessions, aggregates, period: Period) -> list[DayRow]:
    figures = _figures_by(sessions.annotate(_day=LocalDay("waiting_at", period=period)), group="_day", counts=aggregates, measures={"wait": WAIT})
    rows = []
    for day in period.days:
        row = figures.get(day.isoformat())
        rows.append(
            DayRow(day=day, counts=Counts(**{key: row[key] for key in aggregates}), wait=row["wait"])
            if row
            else DayRow(day=day, counts=Counts())
        )
    return rows


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
    # No "operator is not null" here: with it, SQLite's planner walks the
    # operator index over the whole table instead of this business's calls.
    in_call_ids = set(live.filter(state=State.IN_CALL).values_list("operator", flat=True)) - {None}
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
