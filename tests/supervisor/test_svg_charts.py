"""The SVG renderer: an image a screen reader can name, bars to scale, text
escaped, gaps where there is no figure."""

import re
import xml.etree.ElementTree as ET

from operators.supervisor.charts import LABEL_WIDTH, VALUE_WIDTH, WIDTH, Series, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))


def test_a_bar_chart_is_a_named_image_with_bars_to_scale():
    root = parse(bar_chart(title="Per operator", labels=["Alice", "Anton"], series=[Series("Answered", [30, 15])]))
    assert root.get("role") == "img" and root.get("aria-label") == "Per operator"
    assert root.find(f"{SVG}title").text == "Per operator"
    bars = root.findall(f"{SVG}rect")
    widths = [float(bar.get("width")) for bar in bars]
    assert widths == [WIDTH - LABEL_WIDTH - VALUE_WIDTH, (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / 2]
    assert [bar.find(f"{SVG}title").text for bar in bars] == ["Alice: 30", "Anton: 15"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["Alice", "30", "Anton", "15"]


def test_two_series_get_a_legend_and_shares_keep_their_scale():
    root = parse(
        bar_chart(
            title="Per language", labels=["German"], series=[Series("In time", [50.0]), Series("Abandoned", [10.0])],
            decimals=1, maximum=100,
        )
    )
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts[:2] == ["In time", "Abandoned"]  # the legend
    bars = [r for r in root.findall(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    assert [float(b.get("width")) for b in bars] == [plot / 2, plot / 10]
    assert "50.0" in texts and "10.0" in texts


def test_text_from_the_database_is_escaped():
    svg = str(bar_chart(title="<b>x</b>", labels=['<script>alert("x")</script>'], series=[Series("n", [1])]))
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg
    parse(svg)  # still well-formed


def test_no_figure_draws_no_bar_and_a_dash():
    root = parse(bar_chart(title="t", labels=["a", "b"], series=[Series("n", [None, 0])]))
    assert [float(r.get("width")) for r in root.findall(f"{SVG}rect")] == [0.0, 0.0]
    assert [t.text for t in root.iter(f"{SVG}text")] == ["a", "–", "b", "0"]


def test_a_line_chart_breaks_where_a_day_has_no_figure():
    root = parse(line_chart(title="Per day", labels=[f"{d}." for d in range(1, 6)], series=[Series("Wait", [10, 20, None, 40, 40])]))
    assert root.get("role") == "img" and root.get("aria-label") == "Per day"
    lines = root.findall(f"{SVG}polyline")
    assert [len(line.get("points").split()) for line in lines] == [2, 2]
    # The highest value touches the top of the plot, on the grid line.
    tops = {float(p.split(",")[1]) for p in lines[1].get("points").split()}
    grid = root.find(f"{SVG}line[@class='chart-grid']")
    assert tops == {float(grid.get("y1"))}


def test_a_lone_point_is_drawn_as_a_dot_and_labels_stay_few():
    root = parse(line_chart(title="t", labels=[str(n) for n in range(30)], series=[Series("n", [None] * 29 + [3])]))
    assert len(root.findall(f"{SVG}circle")) == 1
    day_labels = [t for t in root.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    assert 5 <= len(day_labels) <= 8
    assert re.fullmatch(r"\d+", day_labels[0].text)
