"""Server-rendered SVG charts for the supervisor dashboard: horizontal bars
and a line over days. No JavaScript, no library: the page works without
scripts and prints.

Each chart is an ``<svg role="img">`` with an ``aria-label`` and a
``<title>``; the page puts the numbers beside it as a table, which is what a
screen reader reads. Every piece of text is escaped here (operator names and
labels come from the database). The ``viewBox`` lets the browser scale the
chart to a phone's width.
"""

from dataclasses import dataclass

from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# Colours that keep a 3:1 contrast against white and apart from each other
# for the common colour-vision deficiencies (Okabe & Ito's palette).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
WIDTH = 640
LABEL_WIDTH = 240
VALUE_WIDTH = 64
BAR_HEIGHT = 16
BAR_GAP = 4
ROW_GAP = 10
LEGEND_HEIGHT = 30


@dataclass(frozen=True)
class Series:
    name: str
    values: list  # numbers or None (no figure: no bar, a dash)


def _number(value, decimals: int) -> str:
    """In the page's language's number format (8,9 in German)."""
    if value is None:
        return "–"
    return formats.number_format(round(value, decimals), decimals) if decimals else formats.number_format(round(value))


def _legend(series: list[Series], y: int) -> list[str]:
    parts, x = [], 0
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            format_html('<rect x="{}" y="{}" width="12" height="12" fill="{}"></rect>', x, y + 6, colour)
            # The baseline low enough for the phone's larger type (supervisor.css).
            + format_html('<text x="{}" y="{}" class="chart-legend">{}</text>', x + 16, y + 18, one.name)
        )
        # Room for the name at the phone's larger type too.
        x += 28 + 11 * len(one.name)
    return parts


def _svg(title: str, height: int, body: list[str]) -> SafeString:
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        title,
        WIDTH,
        height,
        title,
        mark_safe("".join(body)),
    )


def bar_chart(*, title: str, labels: list[str], series: list[Series], decimals: int = 0, maximum=None) -> SafeString:
    """One row per label, one bar per series in it, the value written at the
    bar's end. Bars share one scale: the largest value (or ``maximum``, e.g. 1
    for shares) spans the plot."""
    values = [v for one in series for v in one.values if v is not None]
    top = maximum if maximum is not None else max(values, default=0)
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    legend = len(series) > 1
    y = LEGEND_HEIGHT if legend else 0
    body = _legend(series, 0) if legend else []
    row_height = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    for row, label in enumerate(labels):
        short = label if len(label) <= 20 else label[:19] + "…"  # the whole label is in the bar's title and the table
        body.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" class="chart-label">{}</text>',
                LABEL_WIDTH - 8,
                y + row_height / 2 + 5,
                short,
            )
        )
        for index, one in enumerate(series):
            value = one.values[row]
            length = 0 if not top or value is None else max(0.0, value) / top * plot
            bar_y = y + index * (BAR_HEIGHT + BAR_GAP)
            body.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
                    LABEL_WIDTH,
                    bar_y,
                    f"{length:.1f}",
                    BAR_HEIGHT,
                    PALETTE[index % len(PALETTE)],
                    f"{label}, {one.name}" if legend else label,
                    _number(value, decimals),
                )
            )
            body.append(
                format_html(
                    '<text x="{}" y="{}" class="chart-value">{}</text>',
                    f"{LABEL_WIDTH + length + 4:.1f}",
                    bar_y + BAR_HEIGHT - 3,
                    _number(value, decimals),
                )
            )
        y += row_height + ROW_GAP
    return _svg(title, max(y, 30), body)


def line_chart(*, title: str, labels: list[str], series: list[Series], decimals: int = 0) -> SafeString:
    """A line per series over evenly spaced labels (days); a gap where a value
    is None. The y axis starts at 0 and is marked at its top."""
    height, top_pad, bottom_pad, left, right = 220, LEGEND_HEIGHT + 10, 24, 48, 12
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom_pad
    values = [v for one in series for v in one.values if v is not None]
    top = max(values, default=0) or 1
    step = plot_w / max(len(labels) - 1, 1)
    body = _legend(series, 0)
    axis_y = top_pad + plot_h
    body.append(format_html('<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-axis"></line>', left, axis_y, WIDTH - right, axis_y))
    body.append(format_html('<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-grid"></line>', left, top_pad, WIDTH - right, top_pad))
    body.append(format_html('<text x="{}" y="{}" text-anchor="end" class="chart-value">{}</text>', left - 4, top_pad + 4, _number(top, decimals)))
    body.append(format_html('<text x="{}" y="{}" text-anchor="end" class="chart-value">0</text>', left - 4, axis_y + 4))
    # At most about seven labels under the axis, so they never overlap.
    every = max(1, -(-len(labels) // 7))
    for index, label in enumerate(labels):
        if index % every == 0:
            body.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" class="chart-label">{}</text>',
                    f"{left + index * step:.1f}",
                    height - 6,
                    label,
                )
            )
    for number, one in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        runs, run = [], []
        for index, value in enumerate(one.values):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{left + index * step:.1f},{axis_y - value / top * plot_h:.1f}")
        if run:
            runs.append(run)
        for points in runs:
            if len(points) == 1:
                x, y = points[0].split(",")
                body.append(format_html('<circle cx="{}" cy="{}" r="3" fill="{}"></circle>', x, y, colour))
            else:
                body.append(
                    format_html(
                        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"></polyline>', " ".join(points), colour
                    )
                )
    return _svg(title, height, body)

