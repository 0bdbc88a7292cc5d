"""Charts: y-axis ticks are round, distinct and cover the data; text keeps its CSS size."""

import itertools
import re
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.charts import Series, category_ticks, nice_ticks, render_chart, tick_decimals
from sessions_app.curves import time_ticks

CASES = [
    # (lowest, highest, whole numbers only, expected ticks)
    (0, 1, True, [0, 1]),
    (0, 3, True, [0, 1, 2, 3]),
    (0, 7, True, [0, 2, 4, 6, 8]),
    (0, 23, True, [0, 5, 10, 15, 20, 25]),
    (0, 0, True, [0, 1]),
    (0, 1, False, ["0", "0.2", "0.4", "0.6", "0.8", "1"]),
    (0, 12.34, False, ["0", "2.5", "5", "7.5", "10", "12.5"]),
    (0, 0.03, False, ["0", "0.01", "0.02", "0.03"]),
    (0, 100, False, [0, 20, 40, 60, 80, 100]),
    (0, 99.6, False, [0, 20, 40, 60, 80, 100]),
    (0, 1234, True, [0, 500, 1000, 1500]),
    (-3, 4, True, [-4, -2, 0, 2, 4]),
]


@pytest.mark.parametrize(("low", "high", "integer", "expected"), CASES)
def test_nice_ticks_are_the_expected_round_values(low, high, integer, expected):
    assert nice_ticks(low, high, integer=integer) == [Decimal(str(v)) for v in expected]


@pytest.mark.parametrize(("low", "high", "integer", "expected"), CASES)
def test_ticks_are_distinct_increasing_and_cover_the_data(low, high, integer, expected):
    ticks = nice_ticks(low, high, integer=integer)
    assert len(set(ticks)) == len(ticks) >= 2
    assert ticks == sorted(ticks)
    assert ticks[0] <= min(0, low) and ticks[-1] >= Decimal(str(high))
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1


@pytest.mark.parametrize("high", [0.4, 1, 2, 3, 5, 7, 9.99, 11, 17, 42, 99, 250, 1001, 98765])
def test_tick_labels_never_repeat(high):
    ticks = nice_ticks(0, high)
    decimals = tick_decimals(ticks)
    labels = [f"{tick:.{decimals}f}" for tick in ticks]
    assert len(set(labels)) == len(labels)


def test_whole_counts_get_whole_ticks():
    assert all(t == t.to_integral_value() for t in nice_ticks(0, 2, integer=True))


def chart(values, kind="bar", labels=None, series_names=("Sessions",)):
    labels = labels or [f"day {i}" for i in range(len(values))]
    return render_chart(
        kind,
        title="Sessions per day",
        x_title="Day",
        y_title="Sessions",
        labels=labels,
        series=[Series(name, values) for name in series_names],
        formatter=lambda value: f"{value:.0f}",
    )


def tick_labels(svg: str) -> list[str]:
    return re.findall(r'<text class="chart-tick" [^>]*text-anchor="end">([^<]*)</text>', svg)


def test_a_chart_of_one_session_labels_its_axis_0_and_1_once_each():
    assert tick_labels(chart([0, 1, 0]).svg) == ["0", "1"]


def test_the_svg_has_no_viewbox_so_its_text_is_not_scaled():
    svg = chart([3, 5, 1]).svg
    outer = re.match(r"<svg[^>]*>", svg).group(0)
    assert "viewBox" not in outer
    assert 'width="100%"' in outer


def test_two_line_series_differ_by_dash_and_marker_and_have_a_legend():
    drawn = chart([1, 2, 3], kind="line", series_names=("Average", "Median"))
    lines = re.findall(r"<polyline [^>]*/>", drawn.svg)
    dashes = [re.search(r'stroke-dasharray="([^"]*)"', line) for line in lines]
    assert len(lines) == 2
    assert dashes[0] is None and dashes[1] is not None
    assert "circle" in drawn.svg and '<rect x="-3.5"' in drawn.svg
    assert [entry.name for entry in drawn.legend] == ["Average", "Median"]


def test_bars_of_a_second_series_are_hatched():
    drawn = chart([1, 2], series_names=("A", "B"))
    assert re.search(r'<pattern id="[^"]*-p1"[^>]*>.*?<path d="M0 6L6 0"', drawn.svg)


def test_the_chart_has_a_summary_for_assistive_technology():
    drawn = chart([2, 9, 4])
    assert "from 2 to 9" in drawn.summary
    assert "day 1" in drawn.summary
    assert drawn.summary in drawn.svg.replace("&#x27;", "'")


def test_gaps_split_a_line():
    drawn = chart([1, 2, None, 3, 4], kind="line")
    assert drawn.svg.count("<polyline") == 2


def test_a_crowded_axis_keeps_few_labels_and_always_the_last():
    labels = [f"d{i}" for i in range(90)]
    ticks = category_ticks(labels)
    wide = [label for _p, label, on_wide, _n in ticks if on_wide]
    narrow = [label for _p, label, _w, on_narrow in ticks if on_narrow]
    assert len(wide) <= 8 and len(narrow) <= 3
    assert wide[-1] == narrow[-1] == "d89"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)),
        (datetime(2026, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
        (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
    ],
    ids=["year-1-to-9999", "to-the-last-minute", "two-months"],
)
def test_a_session_clock_spanning_years_gets_a_handful_of_time_ticks(start, end):
    ticks = time_ticks(start, end, ZoneInfo("Europe/Berlin"))

    assert 1 <= len(ticks) <= 7
    positions = [position for position, *_ in ticks]
    assert positions == sorted(positions) and positions[0] >= 0 and positions[-1] <= 1
