"""The dashboard's figures in words: each section a chart and the same
numbers as a table (what a screen reader reads), and the CSV export's rows.
One place, so the page, its tables and the export never disagree."""

from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _

from kyc.languages import language_name
from operators.models import Decision
from operators.supervisor import charts
from operators.supervisor.selectors import LIVE_STATES, PeriodFigures
from sessions_app.models import VerificationSession


@dataclass
class Table:
    caption: str
    headers: list
    rows: list  # lists of already formatted cells; the first cell is a row header


@dataclass
class Section:
    id: str
    title: str
    chart: str
    table: Table

    @property
    def wide(self) -> bool:
        """A table with many columns goes under its chart, not beside it."""
        return len(self.table.headers) > 4


def seconds(value) -> str:
    return "–" if value is None else formats.number_format(round(value))


def percent(value) -> str:
    return "–" if value is None else formats.number_format(round(value * 100, 1), 1) + " %"  # number_format cuts, it does not round


def _decisions_section(key: str, title: str, label_heading: str, counts: list[tuple[str, int]]) -> "Section":
    """A bar per label with its number of decisions, and the same as a table."""
    return Section(
        key,
        title,
        charts.bar_chart(
            title=title,
            labels=[label for label, _n in counts],
            series=[charts.Series(_("Decisions"), [n for _l, n in counts])],
        ),
        Table(title, [label_heading, _("Decisions")], [[label, n] for label, n in counts]),
    )


def outcome_label(value: str) -> str:
    return str(Decision.Outcome(value).label)


def reason_label(value: str) -> str:
    try:
        return str(Decision.Reason(value).label)
    except ValueError:
        return value


def live_states(live: dict) -> list:
    return [(state, str(VerificationSession.State(state).label), live["by_state"][state]) for state in LIVE_STATES]


def summary(figures: PeriodFigures) -> list:
    """(key, label, value) of the headline tiles; the keys name them in the
    page (data-figure) for the browser test."""
    counts = figures.counts
    return [
        ("queued", _("Calls queued"), formats.number_format(counts.queued)),
        ("answered", _("Answered"), formats.number_format(counts.answered)),
        ("abandoned", _("Abandoned"), formats.number_format(counts.abandoned)),
        ("abandonment_rate", _("Abandonment rate"), percent(counts.abandonment_rate)),
        (
            "service_level",
            _("Answered within %(n)s s") % {"n": figures.sla_seconds},
            percent(counts.service_level),
        ),
        ("wait_median", _("Median wait (s)"), seconds(figures.wait[0])),
        ("wait_p90", _("90th percentile wait (s)"), seconds(figures.wait[1])),
        ("length_median", _("Median call length (s)"), seconds(figures.length[0])),
        ("length_p90", _("90th percentile call length (s)"), seconds(figures.length[1])),
    ]


def sections(figures: PeriodFigures) -> list[Section]:
    counts = figures.counts
    median, p90 = _("Median"), _("90th percentile")
    result = []

    days = figures.days
    day_labels = [formats.date_format(row.day, "SHORT_DATE_FORMAT") for row in days]
    title = _("Calls per day")
    result.append(
        Section(
            "days",
            title,
            charts.line_chart(
                title=title,
                labels=[row.day.strftime("%d.%m.") for row in days],
                series=[
                    charts.Series(_("Queued"), [row.counts.queued for row in days]),
                    charts.Series(_("Answered"), [row.counts.answered for row in days]),
                    charts.Series(_("Abandoned"), [row.counts.abandoned for row in days]),
                ],
            ),
            Table(
                title,
                [_("Day"), _("Queued"), _("Answered"), _("Abandoned"), _("Median wait (s)")],
                [
                    [label, row.counts.queued, row.counts.answered, row.counts.abandoned, seconds(row.wait[0])]
                    for label, row in zip(day_labels, days)
                ],
            ),
        )
    )

    title = _("Wait and call length (seconds)")
    times = [(_("Wait"), figures.wait), (_("Call length"), figures.length)]
    result.append(
        Section(
            "times",
            title,
            charts.bar_chart(
                title=title,
                labels=[label for label, _values in times],
                series=[charts.Series(median, [v[0] for _l, v in times]), charts.Series(p90, [v[1] for _l, v in times])],
            ),
            Table(title, ["", median, p90], [[label, seconds(v[0]), seconds(v[1])] for label, v in times]),
        )
    )

    title = _("Abandonment and service level")
    shares = [
        (_("Abandoned"), counts.abandonment_rate),
        (_("Answered within %(n)s s") % {"n": figures.sla_seconds}, counts.service_level),
    ]
    result.append(
        Section(
            "service",
            title,
            charts.bar_chart(
                title=title,
                labels=[label for label, _v in shares],
                series=[charts.Series(_("Share (%)"), [None if v is None else v * 100 for _l, v in shares])],
                decimals=1,
                maximum=100,
            ),
            Table(
                title,
                ["", _("Share"), _("Calls")],
                [
                    [shares[0][0], percent(shares[0][1]), f"{counts.abandoned} / {counts.settled}"],
                    [shares[1][0], percent(shares[1][1]), f"{counts.answered_in_time} / {counts.settled}"],
                ],
            ),
        )
    )

    result.append(
        _decisions_section(
            "outcomes", _("Outcomes"), _("Outcome"),
            [(outcome_label(value), n) for value, n in figures.outcomes.items()],
        )
    )
    result.append(
        _decisions_section(
            "reasons", _("Reasons"), _("Outcome and reason"),
            [(f"{outcome_label(outcome)}: {reason_label(reason)}", n) for outcome, reason, n in figures.reasons],
        )
    )

    title = _("Per operator")
    operators = figures.operators
    result.append(
        Section(
            "operators",
            title,
            charts.bar_chart(
                title=title,
                labels=[row.name for row in operators],
                series=[charts.Series(_("Answered"), [row.answered for row in operators])],
            ),
            Table(
                title,
                [
                    _("Operator"),
                    _("Answered"),
                    _("Median wait (s)"),
                    _("Median call length (s)"),
                    _("90th percentile call length (s)"),
                ]
                + [outcome_label(value) for value in Decision.Outcome.values],
                [
                    [row.name, row.answered, seconds(row.wait[0]), seconds(row.length[0]), seconds(row.length[1])]
                    + [row.outcomes[value] for value in Decision.Outcome.values]
                    for row in operators
                ],
            ),
        )
    )

    title = _("Per language")
    languages = figures.languages
    result.append(
        Section(
            "languages",
            title,
            charts.bar_chart(
                title=title,
                labels=[language_name(row.language) for row in languages],
                series=[
                    charts.Series(
                        _("Answered within %(n)s s (%%)") % {"n": figures.sla_seconds},
                        [None if row.counts.service_level is None else row.counts.service_level * 100 for row in languages],
                    ),
                    charts.Series(
                        _("Abandoned (%)"),
                        [None if row.counts.abandonment_rate is None else row.counts.abandonment_rate * 100 for row in languages],
                    ),
                ],
                decimals=1,
                maximum=100,
            ),
            Table(
                title,
                [
                    _("Language"),
                    _("Queued"),
                    _("Answered"),
                    _("Abandoned"),
                    _("Answered within %(n)s s") % {"n": figures.sla_seconds},
                    _("Median wait (s)"),
                    _("90th percentile wait (s)"),
                ],
                [
                    [
                        language_name(row.language),
                        row.counts.queued,
                        row.counts.answered,
                        row.counts.abandoned,
                        percent(row.counts.service_level),
                        seconds(row.wait[0]),
                        seconds(row.wait[1]),
                    ]
                    for row in languages
                ],
            ),
        )
    )
    return result


def _raw(value):
    """A number as the export writes it: plain, with a dot, two decimals at
    most; nothing for no figure."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return value


def csv_rows(figures: PeriodFigures):
    """(section, group, figure, value) rows, in English keys a spreadsheet can
    filter on; numbers unformatted (seconds, shares as 0–1)."""
    c = figures.counts
    period = f"{figures.period.first_day.isoformat()}..{figures.period.last_day.isoformat()}"
    yield ["period", period, "sla_seconds", figures.sla_seconds]
    for key in ("queued", "answered", "abandoned", "still_waiting", "answered_in_time"):
        yield ["total", "", key, getattr(c, key)]
    yield ["total", "", "abandonment_rate", _raw(c.abandonment_rate)]
    yield ["total", "", "service_level", _raw(c.service_level)]
    yield ["total", "", "wait_median_s", _raw(figures.wait[0])]
    yield ["total", "", "wait_p90_s", _raw(figures.wait[1])]
    yield ["total", "", "length_median_s", _raw(figures.length[0])]
    yield ["total", "", "length_p90_s", _raw(figures.length[1])]
    for outcome, n in figures.outcomes.items():
        yield ["outcome", outcome, "decisions", n]
    for outcome, reason, n in figures.reasons:
        yield ["reason", f"{outcome}:{reason}", "decisions", n]
    for row in figures.operators:
        group = row.name
        yield ["operator", group, "answered", row.answered]
        yield ["operator", group, "wait_median_s", _raw(row.wait[0])]
        yield ["operator", group, "wait_p90_s", _raw(row.wait[1])]
        yield ["operator", group, "length_median_s", _raw(row.length[0])]
        yield ["operator", group, "length_p90_s", _raw(row.length[1])]
        for outcome, n in row.outcomes.items():
            yield ["operator", group, f"decisions_{outcome}", n]
    for row in figures.languages:
        group = row.language or "unknown"
        for key in ("queued", "answered", "abandoned", "answered_in_time"):
            yield ["language", group, key, getattr(row.counts, key)]
        yield ["language", group, "abandonment_rate", _raw(row.counts.abandonment_rate)]
        yield ["language", group, "service_level", _raw(row.counts.service_level)]
        yield ["language", group, "wait_median_s", _raw(row.wait[0])]
        yield ["language", group, "wait_p90_s", _raw(row.wait[1])]
    for row in figures.days:
        group = row.day.isoformat()
        for key in ("queued", "answered", "abandoned"):
            yield ["day", group, key, getattr(row.counts, key)]
        yield ["day", group, "wait_median_s", _raw(row.wait[0])]


def csv_cell(value):
    """A cell a spreadsheet shows as text, never runs as a formula (an
    operator's display name could start with "=")."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
