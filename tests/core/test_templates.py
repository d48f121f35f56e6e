"""The template helpers every page shares: the `debrief` tag library and the navigation."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template, engines
from django.template.loader import get_template
from django.test import RequestFactory
from django.utils import timezone

from core.context_processors import navigation
from incidents.formatting import duration

from ..factories import ActionItemFactory

ROOT = Path(settings.BASE_DIR)


def every_template() -> list[str]:
    """Template names under templates/ and each app's templates/ folder."""
    folders = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    folders += [ROOT / app / "templates" for app in ("incidents", "postmortems", "actions", "core")]
    return sorted(
        str(path.relative_to(folder))
        for folder in folders
        if folder.is_dir()
        for path in folder.rglob("*")
        if path.suffix in {".html", ".txt", ".ics", ".md"}
    )


def test_there_are_templates_to_check():
    assert {"base.html", "incidents/incident_list.html", "includes/pagination.html"} <= set(
        every_template()
    )


@pytest.mark.parametrize("name", every_template())
def test_every_template_compiles_with_its_tag_libraries(name):
    get_template(name)  # raises TemplateSyntaxError on an unknown library, tag or filter


def test_the_library_loads_by_its_name_and_is_a_builtin():
    explicit = Template("{% load debrief %}{{ d|duration }}")
    builtin = engines["django"].from_string("{% severity_badge 2 %} {{ d|duration }}")
    context = {"d": timedelta(hours=2, minutes=14)}
    assert explicit.render(Context(context)) == "2 h 14 m"
    assert builtin.render(context) == (
        '<span class="badge sev sev2" title="P1">SEV2</span> 2 h 14 m'
    )


@pytest.mark.parametrize(
    "value, shown",
    [
        (None, "—"),
        (timedelta(seconds=30), "<1 m"),
        (timedelta(minutes=59), "59 m"),
        (timedelta(hours=2, minutes=14), "2 h 14 m"),
        (timedelta(days=1, hours=3, minutes=20), "1 d 3 h"),
    ],
)
def test_durations_read_the_way_responders_say_them(value, shown):
    assert duration(value) == shown


def test_utc_shows_utc_whatever_the_viewer_timezone():
    moment = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    template = engines["django"].from_string("{% utc t %} {% when t %}")
    with timezone.override("Asia/Tokyo"):
        html = template.render({"t": moment})
    utc = '<time class="ts" datetime="2026-03-02T09:05:00+00:00">2026-03-02 09:05 UTC</time>'
    assert html.startswith(utc)
    assert 'title="2026-03-02 09:05 UTC">2026-03-02 18:05</time>' in html  # when: local time


def test_the_navigation_counts_my_overdue_items_only(db, user, other_user):
    ActionItemFactory.create_batch(2, owner=user, overdue=True)
    ActionItemFactory(owner=other_user, overdue=True)
    ActionItemFactory(owner=user)  # not overdue
    request = RequestFactory().get("/")
    request.user = user
    assert navigation(request)["my_overdue_count"]() == 2


def test_the_navigation_adds_nothing_for_anonymous_visitors():
    request = RequestFactory().get("/")
    assert navigation(request) == {}
