"""The dashboard's tables and charts are written in Python (actions/dashboard/svg.py,
Figure.body_html) for speed; they must stay the markup the templates they replaced wrote
(kept in samples/), with every value escaped the same way."""

from pathlib import Path

import pytest
from django import forms
from django.template import engines
from django.urls import reverse

from actions.dashboard import charts
from actions.dashboard.figures.shapes import Cell, Column, Figure
from actions.dashboard.params import ScopeSelect
from actions.dashboard.svg import chart_svg

from ..factories import UserFactory
from .dashboard_view import view
from .test_dashboard import DASHBOARD, _frozen, _organisation  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).parent / "samples"


def _template(name: str):
    text = (SAMPLES / name).read_text()
    if name == "dashboard_table_body.html":
        text = text.removesuffix("\n")  # the file's last newline; in the page it was inline
    return engines["django"].from_string(text)


def _figures(client, params) -> list[Figure]:
    return list(view(client, params).figures.values())


@pytest.mark.parametrize("params", [{"scope": "org"}, {"scope": "org", "range": "365"}])
def test_charts_and_tables_are_the_markup_the_templates_wrote(client, params):
    admin = _admin()
    client.force_login(admin)
    _organisation(12)
    chart, body = _template("dashboard_chart.html"), _template("dashboard_table_body.html")
    figures = _figures(client, params)
    charts = 0
    for f in figures:
        assert f.body_html == body.render({"f": f}), f.key
        drawn = [(f.chart, f.key, f.finding)] if f.chart else []
        drawn += [(c, cid, label) for label, c, cid in f.small_charts]
        for c, cid, title in drawn:
            charts += 1
            assert chart_svg(c, cid, title) == chart.render(
                {"c": c, "chart_id": cid, "title": title}
            ), f.key
    assert charts >= 8  # column and bar charts, with links, markers, references, legends
    kinds = {f.chart.kind for f in figures if f.chart}
    assert kinds == {"columns", "bars"}


def test_text_in_tables_and_charts_is_escaped(client):
    evil = '<script>alert("x")</script> & co'
    figure = Figure(
        "owed-list",
        "Heading",
        evil,
        [Column("A"), Column("B", num=True)],
        [[Cell(evil, link="/?a=1&b=<2>"), Cell(3, num=True)]],
    )
    html = figure.body_html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="/?a=1&amp;b=&lt;2&gt;"' in html
    assert html == _template("dashboard_table_body.html").render({"f": figure})
    chart = charts.bars(
        rows=[evil],
        series=[charts.Series("n", evil, charts.BLUE), charts.Series("m", "M", charts.SKY)],
        values={"n": [2], "m": [1]},
        unit=charts.count_unit(evil),
        category_label=evil,
        hrefs=["/?a=1&b=2"],
    )
    drawn = chart_svg(chart, "k<", evil)
    assert "<script>" not in drawn and 'href="/?a=1&amp;b=2"' in drawn
    assert drawn == _template("dashboard_chart.html").render(
        {"c": chart, "chart_id": "k<", "title": evil}
    )


def _admin():
    return UserFactory(is_superuser=True)


def test_the_dashboard_page_shows_the_charts(client):
    client.force_login(_admin())
    _organisation(6)
    page = view(client, {"scope": "org"}).text
    assert page.count('<div class="chart-box">') >= 8
    assert 'class="chart chart-columns"' in page and "<tbody>" in page
    assert reverse("actions:dashboard-rows", args=["items-due"]) in page


@pytest.mark.parametrize("value", ["org", "team:b", "service:s&1", "", None, "nope"])
def test_the_scope_select_is_the_markup_django_writes(value):
    """Written in Python (an admin's lists every team and service); grouped, escaped and
    selected as Django's widget templates do it."""
    choices = [
        ("org", "Organisation (every team)"),
        ("Your teams", [("team:a", "A <&> team"), ("team:b", 'B "quoted"')]),
        ("Other teams", [("team:c", "C"), ("team:b", "B again")]),
        ("Services & more", [("service:s&1", "S1")]),
    ]
    fast, django = ScopeSelect(choices=choices), forms.Select(choices=choices)
    attrs = {"id": "id_scope", "aria-describedby": "x"}
    assert fast.render("scope", value, attrs) == django.render("scope", value, attrs)
    assert 'value="team:b" selected' not in fast.render("scope", "team:c", attrs)
