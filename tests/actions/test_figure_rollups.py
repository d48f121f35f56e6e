"""The dashboard's incident and postmortem rollups (actions.figure_rollups): the figures read
from them (plus a live read of the viewer's private incidents) equal the live queries they
replace, exactly, for every kind of viewer, scope and period; their rows stay in step with
changes made through the services, the admin's saves and bulk-added timelines."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from actions import figure_rollups, metrics, rollups, services
from actions.metrics import ORG, PUBLIC_ONLY, Period, Scope
from actions.models import (
    ActionItem,
    IncidentsDay,
    IncidentsMonth,
    PostmortemsDay,
    unpack_durations,
)
from incidents.models import TimelineEvent
from incidents.services import (
    add_timeline_event,
    delete_timeline_event,
    insert_timeline_events,
    update_incident,
    update_timeline_event,
)
from incidents.timeline_paste import ParsedEvent
from postmortems.models import Postmortem
from postmortems.services import reopen_postmortem

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 20)
PUBLISHED = Postmortem.Status.PUBLISHED
PREVENTION = ActionItem.Leverage.PREVENTION
# A year, a quarter cutting two months, a whole month, and a span inside one month.
PERIODS = (
    Period.last(365, TODAY),
    Period(date(2026, 8, 17), date(2026, 11, 3)),
    Period.month("2026-10"),
    Period(date(2026, 9, 3), date(2026, 9, 21)),
)


def _at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _incident(team, start, *, private=False, members=(), detected=None, phase_minutes=None, **kw):
    """An incident whose detection time is recorded, or else a detection event stands in."""
    incident = IncidentFactory(
        team=team,
        started_at=start,
        detected_at=start + timedelta(minutes=detected) if detected is not None else None,
        mitigated_at=start + timedelta(minutes=30 + start.day),
        resolved_at=start + timedelta(hours=2, minutes=start.day),
        private=private,
        **kw,
    )
    incident.members.add(*members)
    if phase_minutes is not None:
        TimelineEventFactory(
            incident=incident,
            occurred_at=start + timedelta(minutes=phase_minutes),
            phase=TimelineEvent.Phase.DETECTION,
        )
    return incident


def _published(incident, days_after: int, prevention: bool) -> Postmortem:
    postmortem = PostmortemFactory(
        incident=incident,
        status=PUBLISHED,
        published_at=incident.resolved_at + timedelta(days=days_after, hours=3),
    )
    if prevention:
        ActionItemFactory(postmortem=postmortem, leverage=PREVENTION)
    return postmortem


@pytest.fixture
def org():
    team_a, team_b = TeamFactory(), TeamFactory()
    member, manager, outsider = UserFactory(), UserFactory(), UserFactory()
    admin = UserFactory(is_superuser=True, is_staff=True)
    team_a.managers.add(manager)
    incidents = []
    for n, (month, day) in enumerate(
        [(1, 4), (3, 9), (6, 30), (8, 16), (8, 17), (9, 2), (9, 21), (10, 1), (10, 31), (11, 3)]
        + [(11, 4), (11, 19), (2, 11), (7, 7), (9, 12), (10, 15)]
    ):
        team = (team_a, team_b)[n % 2]
        private = n % 5 == 3
        incident = _incident(
            team,
            _at(month, day, 3 + n),
            private=private,
            members=[member] if private and n % 2 else [],
            detected=None if n % 3 == 0 else 4 + n,
            phase_minutes=None if n % 6 == 0 else 7 * n + 1,
            severity=1 + n % 3,
        )
        incidents.append(incident)
        if n % 4 != 1:
            _published(incident, days_after=n % 12, prevention=n % 3 == 1)
    figure_rollups.refresh_pending()  # the factories' saves, as the commit would
    rollups.refresh_pending()
    return {
        "teams": (team_a, team_b),
        "viewers": {
            "outsider": outsider,
            "member": member,
            "manager": manager,
            "admin": admin,
            "public": PUBLIC_ONLY,
        },
        "incidents": incidents,
        "admin": admin,
    }


def _live(fn, *args):
    applies = metrics._rollups_apply
    metrics._rollups_apply = lambda scope, viewer: False
    try:
        return fn(*args)
    finally:
        metrics._rollups_apply = applies


def assert_same_figures(org, every: bool = False):
    """Every viewer, scope and period with `every`; else a sample that still has a reader
    of private incidents, one who reads none, a team, and periods cutting months."""
    viewers = org["viewers"]
    if not every:
        viewers = {name: viewers[name] for name in ("outsider", "member", "admin")}
    scopes = [ORG, Scope(team=org["teams"][0]), Scope(team=org["teams"][1])][: 3 if every else 2]
    for viewer in viewers.values():
        for scope in scopes:
            for period in PERIODS if every else PERIODS[:2]:
                for fn in (metrics.incident_figures, metrics.postmortem_figures):
                    stored = fn(period, scope, viewer)
                    assert stored == _live(fn, period, scope, viewer), (fn, scope, period)
            for day in (TODAY, date(2026, 9, 10)):
                owed = metrics.postmortems_owed(day, scope, viewer).count()
                assert metrics.postmortems_owed_count(day, scope, viewer) == owed, (scope, day)


def stored_rows():
    models = (IncidentsDay, IncidentsMonth, PostmortemsDay, figure_rollups.PostmortemsMonth)
    return {
        model: sorted(
            (tuple(v for k, v in row.items() if k != "id") for row in model.objects.values()),
            key=repr,
        )
        for model in models
    }


def assert_in_step():
    """The rows kept by the commit hooks are those a full recount gives."""
    kept = stored_rows()
    figure_rollups.rebuild()
    assert kept == stored_rows()


def test_the_rows_hold_public_incidents_only_and_the_figures_equal_the_live_ones(org):
    public = [i for i in org["incidents"] if not i.private]
    org_rows = IncidentsMonth.objects.filter(team=None)
    assert sum(r.sev1 + r.sev2 + r.sev3 for r in org_rows) == len(public)
    team_a_days = IncidentsDay.objects.filter(team=org["teams"][0])
    assert sum(r.sev1 + r.sev2 + r.sev3 for r in team_a_days) == len(
        [i for i in public if i.team == org["teams"][0]]
    )
    # The lists are sorted whole microseconds.
    january = IncidentsMonth.objects.get(team=None, month=date(2026, 1, 1))
    assert unpack_durations(january.mitigate).tolist() == [
        timedelta(minutes=34) // timedelta(microseconds=1)
    ]
    assert all(
        unpack_durations(r.resolve).tolist() == sorted(unpack_durations(r.resolve))
        for r in org_rows
    )
    # The member sees a private incident the outsider does not: different figures.
    year = PERIODS[0]
    seen = {
        name: metrics.incident_figures(year, ORG, viewer)["severity"]
        for name, viewer in org["viewers"].items()
    }
    total = {name: sum(row["total"] for row in rows) for name, rows in seen.items()}
    assert total["outsider"] == total["public"] == len(public)
    assert total["outsider"] < total["member"] < total["admin"] == len(org["incidents"])
    assert_same_figures(org, every=True)
    owed = metrics.postmortems_owed_count(TODAY, ORG, PUBLIC_ONLY)
    assert 0 < owed < metrics.postmortems_owed_count(TODAY, ORG, org["admin"])


def _edit(incident, admin, **fields):
    incident.refresh_from_db()
    update_incident(incident=incident, by=admin, version=incident.version, **fields)


def test_changes_through_the_services_keep_the_rows_in_step(
    org, django_capture_on_commit_callbacks
):
    admin, (team_a, _team_b) = org["admin"], org["teams"]
    first, second, third, fourth = org["incidents"][1:5]
    event = first.timeline.first()

    def paste():
        line = ParsedEvent(
            occurred_at=third.started_at + timedelta(minutes=2),
            text="Pager went off",
            source=TimelineEvent.Source.ALERT,
            phase=TimelineEvent.Phase.DETECTION,
        )
        insert_timeline_events(incident=third, events=[line], by=admin)

    steps = [
        lambda: _edit(first, admin, detected_at=None),
        lambda: _edit(first, admin, started_at=_at(2, 20), detected_at=_at(2, 20, 10)),
        lambda: _edit(second, admin, severity=1),
        lambda: _edit(second, admin, team=team_a),
        lambda: _edit(third, admin, private=True),
        lambda: _edit(fourth, admin, private=False, resolved_at=fourth.resolved_at + timedelta(1)),
        paste,
        lambda: add_timeline_event(
            incident=fourth,
            by=admin,
            occurred_at=fourth.started_at + timedelta(minutes=1),
            text="Customer report",
            phase=TimelineEvent.Phase.DETECTION,
        ),
        lambda: update_timeline_event(
            event=event, by=admin, version=None, phase=TimelineEvent.Phase.MITIGATION
        ),
        lambda: delete_timeline_event(event=third.timeline.first(), by=admin),
        lambda: services.create_action_item(
            postmortem=fourth.postmortem,
            by=admin,
            title="Canary the config push",
            owner=admin,
            due_on=TODAY,
            priority=1,
            leverage=PREVENTION,
        ),
        lambda: reopen_postmortem(postmortem=fourth.postmortem, by=admin, reason="New facts"),
    ]
    for step in steps:
        with django_capture_on_commit_callbacks(execute=True):
            step()
        assert_in_step()
        assert_same_figures(org)


def test_saves_outside_the_services_and_deletions_keep_the_rows_in_step(
    org, django_capture_on_commit_callbacks
):
    incidents = org["incidents"]
    moved = incidents[2]

    def publish_again():
        postmortem = incidents[6].postmortem
        postmortem.published_at = _at(11, 18)
        postmortem.save()

    def move_in_time():
        moved.started_at = _at(4, 25)
        moved.save()

    steps = [
        move_in_time,
        publish_again,
        lambda: ActionItem.objects.filter(postmortem__incident=incidents[4]).first().delete(),
        lambda: incidents[7].postmortem.delete(),
        lambda: incidents[8].delete(),
        lambda: _incident(org["teams"][0], _at(10, 2), detected=12, phase_minutes=3),
    ]
    for step in steps:
        with django_capture_on_commit_callbacks(execute=True):
            step()
        assert_in_step()
        assert_same_figures(org)
    assert not IncidentsDay.objects.filter(day=date(2026, 6, 30), team__isnull=False).exists()


def test_a_change_recounts_only_its_days_and_months(org, django_capture_on_commit_callbacks):
    incident = org["incidents"][4]  # 17 August, public
    untouched = IncidentsDay.objects.get(team=None, day=date(2026, 1, 4))
    with django_capture_on_commit_callbacks(execute=True):
        _edit(incident, org["admin"], detected_at=incident.started_at + timedelta(minutes=1))
    # Rows are rewritten by deleting and inserting: another day's row keeps its id.
    assert IncidentsDay.objects.get(team=None, day=date(2026, 1, 4)).pk == untouched.pk
    august = IncidentsMonth.objects.get(team=incident.team, month=date(2026, 8, 1))
    assert unpack_durations(august.detect)[0] == 60 * 10**6
    assert_in_step()


def test_reading_takes_the_same_queries_whatever_the_data(org):
    viewer = org["viewers"]["manager"]

    def queries():
        with CaptureQueriesContext(connection) as captured:
            metrics.incident_figures(PERIODS[1], ORG, viewer)
            metrics.postmortem_figures(PERIODS[1], ORG, viewer)
        return len(captured)

    few = queries()
    for n in range(12):
        incident = _incident(org["teams"][n % 2], _at(8 + n % 4, 1 + n), detected=n)
        _published(incident, days_after=n, prevention=n % 2 == 0)
    figure_rollups.refresh_pending()
    rollups.refresh_pending()
    assert queries() == few
    assert_same_figures(org)


def test_with_team_read_access_the_figures_are_the_live_ones(org, settings):
    viewer = org["viewers"]["member"]
    for model in (IncidentsMonth, IncidentsDay):
        model.objects.all().delete()  # stale rows would show if they were read
    assert metrics.incident_figures(PERIODS[0], ORG, viewer) != _live(
        metrics.incident_figures, PERIODS[0], ORG, viewer
    )
    settings.DEBRIEF_READ_ACCESS = "team"
    assert metrics.incident_figures(PERIODS[0], ORG, viewer) == _live(
        metrics.incident_figures, PERIODS[0], ORG, viewer
    )


def test_the_rebuild_command_fills_the_rows(org):
    from django.core.management import call_command

    IncidentsMonth.objects.all().delete()
    PostmortemsDay.objects.all().delete()
    call_command("rebuild_rollups", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert IncidentsMonth.objects.filter(team=None).exists()
    assert_in_step()
    assert_same_figures(org)


def test_a_page_reads_the_viewers_private_incidents_once(org, django_capture_on_commit_callbacks):
    viewer, period = org["viewers"]["member"], PERIODS[0]

    def queries():
        with CaptureQueriesContext(connection) as captured:
            first = metrics.postmortem_figures(period, ORG, viewer)
            assert metrics.postmortem_figures(period, ORG, viewer) == first
        return len(captured), first

    outside, before = queries()
    with metrics.reading_once():
        inside, same = queries()
    assert inside == outside - 1 and same == before
    # The next page (a new read) sees a private incident the member was just added to.
    hidden = next(i for i in org["incidents"] if i.private and viewer not in i.members.all())
    with django_capture_on_commit_callbacks(execute=True):
        hidden.members.add(viewer)
    with metrics.reading_once():
        after = metrics.postmortem_figures(period, ORG, viewer)
    assert after == _live(metrics.postmortem_figures, period, ORG, viewer)
    assert after["coverage"]["published"] == before["coverage"]["published"] + 1


def test_migrating_fills_empty_rollups_once(org):
    from django.apps import apps
    from django.db.models.signals import post_migrate

    for model in (IncidentsMonth, IncidentsDay, PostmortemsDay):
        model.objects.all().delete()
    post_migrate.send(
        sender=apps.get_app_config("actions"),
        app_config=apps.get_app_config("actions"),
        using="default",
    )
    assert IncidentsMonth.objects.filter(team=None).exists()
    assert_in_step()
    kept = IncidentsMonth.objects.get(team=None, month=date(2026, 1, 1)).pk
    post_migrate.send(
        sender=apps.get_app_config("actions"),
        app_config=apps.get_app_config("actions"),
        using="default",
    )
    assert IncidentsMonth.objects.get(team=None, month=date(2026, 1, 1)).pk == kept  # not again


def test_a_rolled_back_change_leaves_the_rows_as_they_were(org, django_capture_on_commit_callbacks):
    from django.db import transaction

    incident = org["incidents"][4]
    before = stored_rows()
    with pytest.raises(RuntimeError), transaction.atomic():
        _edit(incident, org["admin"], severity=1, detected_at=None)
        raise RuntimeError("the request failed after the edit")
    # Its marks stay noted; the next commit recounts them against what is really stored.
    with django_capture_on_commit_callbacks(execute=True):
        figure_rollups.refresh_pending()
    assert stored_rows() == before
    assert_same_figures(org)


def test_the_edges_of_days_months_and_years_are_counted_once(org):
    team = org["teams"][0]
    # The last microsecond of a month and of a year (UTC), and the first of the next.
    edges = [
        datetime(2026, 9, 30, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    ]
    for start in edges:
        _incident(team, start, detected=1)
    figure_rollups.refresh_pending()
    assert_in_step()
    assert IncidentsDay.objects.filter(team=None, day=date(2026, 9, 30)).exists()
    assert IncidentsDay.objects.filter(team=None, day=date(2025, 12, 31)).exists()
    across = (
        Period(date(2025, 12, 31), date(2026, 1, 1)),  # a year's last and first day
        Period(date(2026, 9, 30), date(2026, 9, 30)),  # one day, the last of a month
        Period(date(2025, 12, 1), date(2026, 10, 1)),  # whole months, a cut one at the end
    )
    for viewer in (org["viewers"]["admin"], PUBLIC_ONLY):
        for period in across:
            for fn in (metrics.incident_figures, metrics.postmortem_figures):
                assert fn(period, ORG, viewer) == _live(fn, period, ORG, viewer), period
    one_day = metrics.incident_figures(across[1], ORG, PUBLIC_ONLY)
    assert sum(row["total"] for row in one_day["severity"]) == 1
