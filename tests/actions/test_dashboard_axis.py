"""The dashboard charts' one value axis (charts.axis): ticks, scaling and labels for every
chart kind."""

import pytest

from actions.dashboard import charts
from actions.dashboard.charts import Series

COUNT = charts.count_unit("items")
ONE = [Series("n", "Items", charts.BLUE)]


def test_no_data_still_draws_an_axis_from_zero_to_one():
    axis = charts.axis([], unit=COUNT, start=200, end=20)
    assert axis.ticks == [0, 1]
    assert axis.at(0) == 200 and axis.at(1) == 20


def test_a_zero_maximum_does_not_divide_by_zero():
    axis = charts.axis([0, 0], unit=COUNT, start=0, end=100)
    assert axis.ticks == [0, 1]
    assert axis.at(0) == 0


def test_categories_without_a_value_do_not_count_towards_the_top():
    axis = charts.axis([None, 3, None], unit=COUNT, start=0, end=100)
    assert axis.ticks[-1] >= 3
    assert charts.axis([None], unit=COUNT, start=0, end=100).ticks == [0, 1]


def test_one_value_gets_round_ticks_just_above_it():
    axis = charts.axis([7], unit=COUNT, start=0, end=400)
    assert axis.ticks == [0, 2, 4, 6, 8]
    assert axis.at(8) == 400 and axis.at(4) == 200


def test_counts_tick_on_whole_numbers_but_percentages_and_durations_need_not():
    assert charts.axis([2], unit=COUNT, start=0, end=1).ticks == [0, 1, 2]
    hours, _ = charts.duration_unit(3600)
    assert charts.axis([0.2], unit=hours, start=0, end=1).ticks == [0, 0.05, 0.1, 0.15, 0.2]


def test_large_values_keep_round_ticks_and_readable_labels():
    axis = charts.axis([1_234_567], unit=COUNT, start=0, end=500)
    assert axis.ticks == [0, 500_000, 1_000_000, 1_500_000]
    assert axis.at(1_500_000) == 500
    grid = axis.grid(COUNT, "x")
    assert grid[-1] == {"x": 500, "label": "1,500,000"}


def test_a_given_top_wins_over_the_data():
    axis = charts.axis([30, 45], unit=charts.PERCENT, start=0, end=100, top=100)
    assert axis.ticks == [0, 25, 50, 75, 100]


def test_reference_lines_and_markers_stay_on_the_chart():
    references = [(80.0, "80% healthy")]
    markers = (Series("p90", "90th percentile", charts.VERMILLION), [None, 130.0])
    axis = charts.axis([10, 20], unit=COUNT, start=0, end=1, references=references)
    assert axis.ceiling >= 80
    axis = charts.axis([10, 20], unit=COUNT, start=0, end=1, markers=markers)
    assert axis.ceiling >= 130


def test_a_vertical_axis_runs_upwards_from_its_start():
    axis = charts.axis([4], unit=COUNT, start=214, end=20)
    assert axis.at(0) == 214 and axis.at(axis.ceiling) == 20
    assert axis.grid(COUNT, "y")[0] == {"y": 214, "label": "0"}


def test_stacked_totals_skip_categories_with_no_value_in_any_series():
    series = [Series("a", "A", charts.BLUE), Series("b", "B", charts.SKY)]
    values = {"a": [1, None, None], "b": [2, 5, None]}
    assert charts.totals(series, values, 3) == [3, 5, None]


@pytest.mark.parametrize("kind", ["columns", "bars"])
def test_both_chart_kinds_draw_their_grid_from_the_same_axis(kind):
    values = {"n": [3, 9]}
    if kind == "columns":
        chart = charts.columns(
            categories=["Jan", "Feb"], series=ONE, values=values, unit=COUNT, category_label="m"
        )
        coordinate, start, end = "y", chart.plot["y1"], chart.plot["y0"]
    else:
        chart = charts.bars(
            rows=["A", "B"], series=ONE, values=values, unit=COUNT, category_label="t"
        )
        coordinate, start, end = "x", chart.plot["x0"], chart.plot["x1"]
    axis = charts.axis([3, 9], unit=COUNT, start=float(start), end=float(end))
    expected = [
        {coordinate: f"{g[coordinate]:.1f}".removesuffix(".0"), "label": g["label"]}
        for g in axis.grid(COUNT, coordinate)
    ]
    assert chart.grid == expected
    assert [g["label"] for g in chart.grid] == ["0", "3", "6", "9"]


def test_an_empty_chart_still_renders_an_axis():
    chart = charts.columns(
        categories=[], series=ONE, values={"n": []}, unit=COUNT, category_label="m"
    )
    assert [g["label"] for g in chart.grid] == ["0", "1"]
    assert chart.bars == []
