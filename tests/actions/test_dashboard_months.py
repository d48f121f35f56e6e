"""The one per-month table builder every monthly dashboard figure uses (figures.months)."""

from datetime import date

from actions.dashboard.figures.months import month_table, months_of
from actions.dashboard.figures.shapes import Cell, Column, Figure


def _figure() -> Figure:
    return Figure("severity-month", "Incidents by month", "", [Column("Month")], [])


def test_no_months_add_no_rows_and_no_labels():
    figure = _figure()
    months = month_table(figure, [], lambda r, month: [Cell(r["n"])])
    assert figure.rows == []
    assert months.keys == months.short == months.names == []


def test_one_month_is_one_row_keyed_for_the_csv_and_named_for_the_page():
    figure = _figure()
    months = month_table(figure, [{"month": date(2026, 3, 1), "n": 4}], lambda r, m: [Cell(r["n"])])
    assert len(figure.rows) == 1
    month, count = figure.rows[0]
    assert month.value == "2026-03" and str(month) == "March 2026"
    assert count.value == 4
    assert (months.keys, months.short, months.names) == (["2026-03"], ["Mar"], ["March 2026"])


def test_each_row_gets_its_own_cells_and_month_key_in_order():
    rows = [{"month": date(2026, m, 1), "n": m * 10} for m in (1, 2, 3)]
    seen = []

    def cells(r, month):
        seen.append(month)
        return [Cell(r["n"], link=f"/rows?month={month}"), Cell(None)]

    figure = _figure()
    month_table(figure, rows, cells)
    assert seen == ["2026-01", "2026-02", "2026-03"]
    assert [[c.value for c in row] for row in figure.rows] == [
        ["2026-01", 10, None],
        ["2026-02", 20, None],
        ["2026-03", 30, None],
    ]
    assert figure.rows[1][1].href == "/rows?month=2026-02"


def test_months_spanning_two_years_carry_the_year_in_their_short_labels():
    months = months_of([date(2025, 12, 1), date(2026, 1, 1)])
    assert months.short == ["Dec 25", "Jan 26"]
    assert months.names == ["December 2025", "January 2026"]
    assert months_of([date(2026, 1, 1), date(2026, 12, 1)]).short == ["Jan", "Dec"]


def test_three_years_of_months_keep_every_month_distinct():
    firsts = [date(2024 + i // 12, i % 12 + 1, 1) for i in range(36)]
    months = months_of(firsts)
    assert len(set(months.keys)) == len(set(months.short)) == 36
    assert months.keys[0] == "2024-01" and months.keys[-1] == "2026-12"


def test_rows_already_in_the_figure_are_kept_before_the_months():
    figure = _figure()
    figure.rows.append([Cell("before")])
    month_table(figure, [{"month": date(2026, 5, 1)}], lambda r, m: [])
    assert [[c.value for c in row] for row in figure.rows] == [["before"], ["2026-05"]]
