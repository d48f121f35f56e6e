"""The dashboard's per-day rollups (actions.rollups): the figures read from them (plus a live
count over the viewer's private incidents) equal the live queries they replace, for every
kind of viewer, after changes made through the services, and their rows stay in step."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, Min, OuterRef, Q
from django.db.models.functions import TruncDate, TruncMonth
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions import metrics, rollups, services
from actions.metrics import ITEM_TEAM, ORG, OWNER, PUBLIC_ONLY, Period, Scope
from actions.models import (
    ActionItem,
    ActionItemEvent,
    ItemsCreatedDay,
    ItemsCreatedMonth,
    ItemsDueDay,
    ItemsDueMonth,
    OpenItemsDue,
    OpenItemsMonth,
)
from incidents.services import update_incident

from ..factories import (
    ActionItemFactory,
    IncidentFactory,
    PostmortemFactory,
    TeamFactory,
    UserFactory,
)
from ..races import race, report, run_together

pytestmark = pytest.mark.django_db

DONE, WONT_DO = ActionItem.Status.DONE, ActionItem.Status.WONT_DO


# --- The reference: the live queries as they were before the rollups ------------------------


def _on_time():
    return Q(status=DONE, completed_day__lte=metrics.F("due_on"))


def reference_completion_grid(period, scope, viewer, previous=None):
    previous = previous or period.before()
    now = Q(due_on__gte=period.start, due_on__lte=period.end)
    then = Q(due_on__gte=previous.start, due_on__lte=previous.end)
    ever_moved = ActionItemEvent.objects.filter(
        item=OuterRef("pk"), kind=ActionItemEvent.Kind.DUE_DATE
    )
    return list(
        metrics.items(scope, viewer)
        .filter(now | then)
        .exclude(status=WONT_DO)
        .annotate(completed_day=TruncDate("completed_at", tzinfo=UTC))
        .order_by()
        .values(
            **ITEM_TEAM,
            month=TruncMonth("due_on"),
            current=ExpressionWrapper(now, output_field=BooleanField()),
        )
        .annotate(
            due=Count("pk"),
            on_time=Count("pk", filter=_on_time()),
            due_moved=Count("pk", filter=Exists(ever_moved)),
        )
    )


def reference_open_items_grid(scope, viewer, today):
    late = Q(due_on__lt=today)
    return list(
        metrics.items(scope, viewer)
        .open()
        .order_by()
        .values(**ITEM_TEAM, **OWNER)
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=late),
            oldest_due=Min("due_on", filter=late),
        )
    )


def reference_open_by_team(scope, viewer, today):
    late = Q(due_on__lt=today)
    return list(
        metrics.items(scope, viewer)
        .open()
        .order_by()
        .values(**ITEM_TEAM)
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=late),
            oldest_due=Min("due_on", filter=late),
        )
    )


def reference_item_mix(period, scope, viewer):
    return list(
        metrics.items_created(period, scope, viewer)
        .order_by()
        .values("priority", "leverage")
        .annotate(
            created=Count("pk"),
            open=Count("pk", filter=Q(status__in=ActionItem.OPEN_STATUSES)),
            done=Count("pk", filter=Q(status=DONE)),
            dropped=Count("pk", filter=Q(status=WONT_DO)),
        )
        .order_by("priority", "leverage")
    )


def _rows(rows):
    return sorted((tuple(sorted(row.items())) for row in rows), key=repr)


def assert_same_figures(viewer, scope):
    today = timezone.localdate()
    for days in (90, 365):
        period = Period.last(days, today)
        reference = reference_completion_grid(period, scope, viewer)
        assert _rows(metrics.completion_grid(period, scope, viewer)) == _rows(reference)
        sums = metrics.completion_sums(period, scope, viewer)
        expected = metrics.CompletionSums.of(reference)
        assert _rows(sums.teams) == _rows(expected.teams)
        assert _rows(sums.months) == _rows(expected.months)
        teams_only = metrics.completion_sums(period, scope, viewer, months=False)
        assert (_rows(teams_only.teams), teams_only.months) == (_rows(expected.teams), [])
        assert metrics.items_by_priority_and_leverage(period, scope, viewer) == (
            reference_item_mix(period, scope, viewer)
        )
    for day in (today, today + timedelta(days=20)):
        assert _rows(metrics.open_items_grid(scope, viewer, day)) == _rows(
            reference_open_items_grid(scope, viewer, day)
        )
        assert _rows(metrics.open_items_grid(scope, viewer, day, owners=False)) == _rows(
            reference_open_by_team(scope, viewer, day)
        )


def stored_rows():
    return {
        model: sorted(
            (tuple(v for k, v in row.items() if k != "id") for row in model.objects.values()),
            key=repr,  # (the organisation's rows have no team)
        )
        for model in rollups.ROLLUPS
    }


def assert_org_rows_sum_the_team_rows():
    """Each of the organisation's rows (no team) holds the sums of the teams' rows of its key,
    and there is one for each key some team has."""
    for model, (keys, counts) in rollups.ORG_WIDE.items():
        summed = {}
        for row in model.objects.filter(team__isnull=False).values(*keys, *counts):
            key = tuple(row[k] for k in keys)
            before = summed.get(key, (0,) * len(counts))
            summed[key] = tuple(a + row[n] for a, n in zip(before, counts, strict=True))
        org = {
            tuple(row[k] for k in keys): tuple(row[n] for n in counts)
            for row in model.objects.filter(team__isnull=True).values(*keys, *counts)
        }
        assert org == summed, model.__name__
        assert model.objects.filter(team__isnull=True).count() == len(org)


def assert_in_step():
    """The rows kept by the commit hooks are those a full recount gives, the organisation's
    rows included."""
    assert_org_rows_sum_the_team_rows()
    kept = stored_rows()
    rollups.rebuild()
    assert kept == stored_rows()
    assert_org_rows_sum_the_team_rows()


# --- The organisation ----------------------------------------------------------------------


@pytest.fixture
def org():
    today = timezone.localdate()
    team_a, team_b = TeamFactory(), TeamFactory()
    member, manager, outsider = UserFactory(), UserFactory(), UserFactory()
    admin = UserFactory(is_superuser=True, is_staff=True)
    team_a.managers.add(manager)
    owners = [UserFactory() for _ in range(3)]
    incidents = {
        "public_a": IncidentFactory(team=team_a),
        "public_b": IncidentFactory(team=team_b),
        "private_a": IncidentFactory(team=team_a, private=True),
        "private_b": IncidentFactory(team=team_b, private=True),
    }
    incidents["private_b"].members.add(member)
    items = []
    for n, incident in enumerate(incidents.values()):
        postmortem = PostmortemFactory(incident=incident)
        for k in range(6):
            item = ActionItemFactory(
                postmortem=postmortem,
                owner=owners[(n + k) % 3],
                due_on=today + timedelta(days=(k * 17 + n * 5) % 60 - 40),
                priority=k % 4,
                leverage=ActionItem.Leverage.values[(n + k) % 3],
            )
            items.append(item)
    # Some done (on time and late), one dropped, one blocked, one moved.
    for item in items[::4]:
        ActionItem.objects.filter(pk=item.pk).update(
            status=DONE, completed_at=timezone.now() - timedelta(days=item.pk % 3 * 30)
        )
    ActionItem.objects.filter(pk=items[1].pk).update(status=WONT_DO, reason="no")
    ActionItem.objects.filter(pk=items[6].pk).update(
        status=ActionItem.Status.BLOCKED, reason="waiting"
    )
    ActionItemEvent.objects.create(
        item=items[2], kind="due_date", at=timezone.now(), from_due=today, to_due=today
    )
    rollups.refresh_pending()  # the factories' saves, as the commit would
    rollups.rebuild()  # rows written with update() and create() above: as after a bulk load
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
        "items": [ActionItem.objects.get(pk=item.pk) for item in items],
        "admin": admin,
    }


def _check_everyone(org):
    for viewer in org["viewers"].values():
        for scope in (ORG, Scope(team=org["teams"][0]), Scope(team=org["teams"][1])):
            assert_same_figures(viewer, scope)


def test_the_rollups_hold_public_items_only_and_the_figures_equal_the_live_queries(org):
    assert ItemsDueDay.objects.exists() and OpenItemsDue.objects.exists()
    private = sum(1 for item in org["items"] if item.postmortem.incident.private)
    public = len(org["items"]) - private
    teams = ItemsCreatedDay.objects.filter(team__isnull=False)
    assert sum(teams.values_list("created", flat=True)) == public
    org_wide = ItemsCreatedDay.objects.filter(team__isnull=True)
    assert sum(org_wide.values_list("created", flat=True)) == public
    assert_org_rows_sum_the_team_rows()
    # The member sees a private incident the outsider does not: different figures.
    today = timezone.localdate()
    period = Period.last(365, today)
    seen = {
        name: sum(r["created"] for r in metrics.items_by_priority_and_leverage(period, ORG, v))
        for name, v in org["viewers"].items()
    }
    assert seen["outsider"] == seen["public"] == public
    assert seen["member"] == seen["manager"] == public + 6
    assert seen["admin"] == public + 12
    _check_everyone(org)


def test_changes_through_the_services_keep_the_rollups_in_step(
    org, django_capture_on_commit_callbacks
):
    admin, items = org["admin"], org["items"]
    today = timezone.localdate()
    public_a = org["incidents"]["public_a"]
    changes = [
        lambda: services.change_status(item=items[3], status=DONE, by=admin),
        lambda: services.change_status(item=items[5], status=WONT_DO, reason="x", by=admin),
        lambda: services.change_due_date(
            item=items[7], due_on=today - timedelta(days=9), reason="later", by=admin
        ),
        lambda: services.reassign(item=items[9], owner=items[0].owner, reason="", by=admin),
        lambda: services.update_action_item(
            item=items[10], by=admin, priority=0, leverage=ActionItem.Leverage.DETECTION
        ),
        lambda: services.create_action_item(
            postmortem=public_a.postmortem,
            by=admin,
            title="Alert on empty upstream lists",
            owner=items[11].owner,
            due_on=today - timedelta(days=2),
            priority=2,
            leverage=ActionItem.Leverage.MITIGATION,
        ),
    ]
    for change in changes:
        with django_capture_on_commit_callbacks(execute=True):
            change()
        assert_in_step()
        _check_everyone(org)


def _edit_incident(incident, admin, **fields):
    incident.refresh_from_db()
    update_incident(incident=incident, by=admin, version=incident.version, **fields)


def test_privacy_and_team_changes_and_deletions_keep_the_rollups_in_step(
    org, django_capture_on_commit_callbacks
):
    admin, team_a = org["admin"], org["teams"][0]
    incidents = org["incidents"]
    steps = [
        lambda: _edit_incident(incidents["public_a"], admin, private=True),
        lambda: _edit_incident(incidents["private_b"], admin, private=False),
        lambda: _edit_incident(incidents["public_b"], admin, team=team_a),
        lambda: org["items"][0].delete(),
        lambda: incidents["private_b"].postmortem.delete(),
    ]
    for step in steps:
        with django_capture_on_commit_callbacks(execute=True):
            step()
        assert_in_step()
        _check_everyone(org)


def test_with_team_read_access_the_figures_are_the_live_ones(org, settings):
    settings.DEBRIEF_READ_ACCESS = "team"
    # Stale rows would show if they were read: empty them.
    for model in rollups.ROLLUPS:
        model.objects.all().delete()
    _check_everyone(org)


def test_reading_the_rollups_takes_the_same_queries_whatever_the_data(org):
    viewer = org["viewers"]["member"]
    period = Period.last(90, timezone.localdate())

    def queries():
        with CaptureQueriesContext(connection) as captured:
            metrics.completion_grid(period, ORG, viewer)
            metrics.completion_sums(period, ORG, viewer)
            metrics.open_items_grid(ORG, viewer, timezone.localdate())
            metrics.items_by_priority_and_leverage(period, ORG, viewer)
        return len(captured)

    before = queries()
    postmortem = org["incidents"]["public_b"].postmortem
    for k in range(30):
        ActionItemFactory(postmortem=postmortem, due_on=timezone.localdate() - timedelta(days=k))
    rollups.refresh_pending()  # as the commit would
    assert ItemsDueDay.objects.count() > 30
    assert queries() == before


def test_a_change_recounts_just_the_keys_it_touched(
    org, django_capture_on_commit_callbacks, monkeypatch
):
    team_a, team_b = org["teams"]
    moved = org["incidents"]["public_b"]
    recounted = []
    recount = rollups.recount
    monkeypatch.setattr(
        rollups,
        "recount",
        lambda team, due, made: recounted.append((team, due)) or recount(team, due, made),
    )
    with django_capture_on_commit_callbacks(execute=True):
        _edit_incident(moved, org["admin"], team=team_a)
    days = set(
        ActionItem.objects.filter(postmortem__incident=moved).values_list("due_on", flat=True)
    )
    assert sorted(recounted, key=lambda r: r[0] != team_b.pk) == [
        (team_b.pk, days),
        (team_a.pk, days),
    ]
    assert_in_step()
    recounted.clear()
    item = org["items"][4]
    old_due = item.due_on
    with django_capture_on_commit_callbacks(execute=True):
        services.change_due_date(
            item=item, due_on=old_due + timedelta(days=3), reason="r", by=org["admin"]
        )
    team = item.postmortem.incident.team_id
    assert recounted == [(team, {old_due, old_due + timedelta(days=3)})]
    assert_in_step()


def test_whole_months_are_read_by_month_and_cut_months_by_day():
    span = Period(date(2026, 1, 15), date(2026, 6, 30))
    whole, cut = metrics._whole_months(span, split=date(2026, 4, 10))
    # January starts before the span, April holds the split: both by day; June ends with it.
    assert whole == [date(2026, 2, 1), date(2026, 3, 1), date(2026, 5, 1), date(2026, 6, 1)]
    team = TeamFactory()
    days = [date(2026, 1, 14), date(2026, 1, 15), date(2026, 1, 31), date(2026, 2, 1)]
    days += [date(2026, 4, 1), date(2026, 4, 30), date(2026, 5, 1), date(2026, 7, 1)]
    for day in days:
        ItemsDueDay.objects.create(team=team, due_on=day)
    found = ItemsDueDay.objects.filter(cut, team=team).values_list("due_on", flat=True)
    assert set(found) == {date(2026, 1, 15), date(2026, 1, 31), date(2026, 4, 1), date(2026, 4, 30)}


def test_cut_months_are_read_from_their_days_or_their_month_less_the_other_days():
    # Items due every other day over sixteen months, two teams, some done on time, some
    # late, some dropped, some moved: each way a month can be cut is read and equals live.
    teams = [TeamFactory(), TeamFactory()]
    postmortems = [PostmortemFactory(incident__team=team) for team in teams]
    owner = UserFactory()
    day, items = date(2025, 10, 1), []
    while day <= date(2027, 1, 31):
        n = len(items)
        status = [DONE, DONE, ActionItem.Status.OPEN, WONT_DO][n % 4]
        late = timedelta(days=2 if n % 8 == 1 else 0)
        done_at = datetime.combine(day + late, time(12), UTC) if status == DONE else None
        items.append(
            ActionItem(
                postmortem=postmortems[n % 2],
                title=f"Item {n}",
                owner=owner,
                due_on=day,
                status=status,
                completed_at=done_at,
                reason="no" if status == WONT_DO else "",
            )
        )
        day += timedelta(days=2 if n % 3 else 1)
    ActionItem.objects.bulk_create(items)
    ActionItemEvent.objects.bulk_create(
        ActionItemEvent(item=item, kind="due_date", at=timezone.now(), from_due=item.due_on)
        for item in items[::5]
    )
    rollups.rebuild()
    periods = [
        Period.last(90, date(2026, 12, 5)),  # months cut by the span, the split and the end
        Period.last(30, date(2026, 3, 15)),
        Period.last(365, date(2026, 7, 4)),
        Period(date(2026, 2, 10), date(2026, 5, 20)),
        Period(date(2026, 3, 14), date(2026, 3, 20)),  # both periods inside one month
        Period(date(2026, 1, 1), date(2026, 1, 31)),  # whole months only
        Period(date(2026, 11, 20), date(2027, 1, 10)),  # into the future
        Period(date(2025, 12, 19), date(2026, 1, 1)),  # a month row for the earlier period only
    ]
    for period in periods:
        reference = metrics.CompletionSums.of(reference_completion_grid(period, ORG, PUBLIC_ONLY))
        assert reference.teams, period
        found = metrics.completion_sums(period, ORG, PUBLIC_ONLY)
        assert _rows(found.teams) == _rows(reference.teams), period
        assert _rows(found.months) == _rows(reference.months), period
        for team in teams:
            scope = Scope(team=team)
            own = metrics.CompletionSums.of(reference_completion_grid(period, scope, PUBLIC_ONLY))
            found = metrics.completion_sums(period, scope, PUBLIC_ONLY, months=False)
            assert _rows(found.teams) == _rows(own.teams), (period, team)
    # A 90-day period reads 19 days per team (June 1-8 and September 1-6 less, December
    # 1-5), where its days in the cut months are 57.
    period = Period.last(90, date(2026, 12, 5))
    months, days = metrics._month_pieces(period, period.before())
    assert sum((last - first).days + 1 for first, last, *_ in days) == 19
    assert (date(2026, 9, 1), date(2026, 9, 6), -1, 1) in days
    assert months[date(2026, 6, 1)] is False and months[date(2026, 9, 1)] is True


def test_the_month_rows_sum_the_day_rows_and_serve_a_year(org):
    assert ItemsDueMonth.objects.exists()
    months = {
        (r.team_id, r.month): (r.due, r.on_time, r.due_moved) for r in ItemsDueMonth.objects.all()
    }
    summed = {}
    for r in ItemsDueDay.objects.all():
        key = (r.team_id, r.due_on.replace(day=1))
        due, on_time, moved = summed.get(key, (0, 0, 0))
        summed[key] = (due + r.due, on_time + r.on_time, moved + r.due_moved)
    assert months == summed
    # A stale month row shows in a year's figures (so they are read), and only there.
    period = Period.last(365, timezone.localdate())
    whole, _ = metrics._whole_months(Period(period.before().start, period.end), period.start)
    row = ItemsDueMonth.objects.filter(month__in=whole, team__isnull=False).first()
    before = sum(r["due"] for r in metrics.completion_grid(period, ORG, PUBLIC_ONLY))
    ItemsDueMonth.objects.filter(pk=row.pk).update(due=row.due + 100)
    after = sum(r["due"] for r in metrics.completion_grid(period, ORG, PUBLIC_ONLY))
    assert after == before + 100
    # Organisation-wide, the sums per month read the organisation's row, the sums per team
    # the teams' rows.
    org_months = ItemsDueMonth.objects.filter(month__in=whole, team__isnull=True)
    row = org_months.filter(month__gte=period.start).first()
    assert row is not None

    def sums():
        found = metrics.completion_sums(period, ORG, PUBLIC_ONLY)
        return sum(r["due"] for r in found.months), sum(r["due"] for r in found.teams)

    months, teams = sums()
    ItemsDueMonth.objects.filter(pk=row.pk).update(due=row.due + 7)
    assert sums() == (months + 7, teams)


def test_open_items_per_team_read_months_before_and_after_this_one(org):
    today = timezone.localdate()
    this_month = today.replace(day=1)
    months = set(OpenItemsMonth.objects.values_list("month", flat=True))
    # The fixture's items fall due from 40 days ago to 20 days ahead.
    assert any(m < this_month for m in months)
    # A stale row of an earlier month shows (so it is read): as open and overdue.
    row = OpenItemsMonth.objects.filter(month__lt=this_month).first()
    before = metrics.open_by_team(
        ORG, PUBLIC_ONLY, today, metrics.open_items_grid(ORG, PUBLIC_ONLY, today, owners=False)
    )
    OpenItemsMonth.objects.filter(pk=row.pk).update(open=row.open + 5)
    after = metrics.open_by_team(
        ORG, PUBLIC_ONLY, today, metrics.open_items_grid(ORG, PUBLIC_ONLY, today, owners=False)
    )
    assert sum(r["open"] for r in after) == sum(r["open"] for r in before) + 5
    assert sum(r["overdue"] for r in after) == sum(r["overdue"] for r in before) + 5


def test_the_item_mix_reads_whole_months_from_their_rows_and_stays_in_step(
    org, django_capture_on_commit_callbacks
):
    # Items created months ago (the fixture's are all created today, in a month the period
    # cuts): some in whole months of a year, one in the month a year ago cuts.
    items = org["items"]
    now = timezone.now()
    for k, item in enumerate(items[:20]):
        ActionItem.objects.filter(pk=item.pk).update(created_at=now - timedelta(days=40 + 16 * k))
    rollups.rebuild()  # rows written with update(): as after a bulk load
    summed = {}
    for r in ItemsCreatedDay.objects.all():
        key = (r.team_id, r.created_on.replace(day=1), r.priority, r.leverage)
        counts = summed.get(key, (0, 0, 0, 0))
        summed[key] = tuple(
            a + b for a, b in zip(counts, (r.created, r.open, r.done, r.dropped), strict=True)
        )
    months = {
        (r.team_id, r.month, r.priority, r.leverage): (r.created, r.open, r.done, r.dropped)
        for r in ItemsCreatedMonth.objects.all()
    }
    assert len(months) > 2 and months == summed
    _check_everyone(org)
    # A change to an item created months ago recounts its month row.
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(item=items[7], status=DONE, by=org["admin"])
    assert_in_step()
    _check_everyone(org)
    # A stale month row shows in a year's figures (so it is read).
    period = Period.last(365, timezone.localdate())
    whole, _ = metrics._whole_months(period, period.start, field="created_on")
    row = ItemsCreatedMonth.objects.filter(month__in=whole, team__isnull=True).first()
    assert row is not None

    def created():
        return sum(r["created"] for r in metrics.items_by_priority_and_leverage(period, ORG, None))

    before = created()
    ItemsCreatedMonth.objects.filter(pk=row.pk).update(created=row.created + 100)
    assert created() == before + 100


@race
@pytest.mark.django_db(transaction=True)
def test_two_commits_recounting_the_same_organisation_day_at_once(race_mode, capsys):
    # Two teams' items due the same day, changed at once: each commit recounts its team's row
    # of the day, then the organisation's. Without one recount at a time, each would delete
    # the organisation's row and insert its own (a unique key error), or sum without the
    # other's team.
    day = timezone.localdate()
    teams = [TeamFactory(), TeamFactory()]
    for team in teams:
        ActionItemFactory(
            postmortem=PostmortemFactory(incident=IncidentFactory(team=team)), due_on=day
        )
    created_on = timezone.now().astimezone(UTC).date()
    waiting = [team.pk for team in teams]
    run = run_together(lambda: rollups.recount(waiting.pop(), {day}, {created_on}))
    assert_org_rows_sum_the_team_rows()
    assert ItemsDueDay.objects.get(team=None, due_on=day).due == 2
    assert ItemsDueMonth.objects.get(team=None, month=day.replace(day=1)).due == 2
    report(
        capsys,
        f"two recounts of one day wrote {run.results} rows; calls overlapped: {run.overlapped}",
    )
