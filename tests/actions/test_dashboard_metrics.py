"""The dashboard's figure definitions (actions/metrics.py) on small hand-built data."""

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Exists, F, OuterRef, Q

from actions import metrics
from actions.metrics import ORG, PUBLIC_ONLY, REPEAT_WINDOW, Period, Scope
from actions.models import ActionItem, ActionItemEvent, RepeatsDay
from actions.repeats import rebuild_repeat_flags, recount_days, refresh_pending
from incidents.models import (
    REPEAT_AFTER_FIX,
    REPEAT_CAUSE,
    REPEAT_PATTERN,
    Incident,
    TimelineEvent,
)
from postmortems.models import ContributingFactor

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    ServiceFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
OCTOBER = Period.month("2026-10")
AUTUMN = Period(date(2026, 9, 1), date(2026, 11, 30))


def _at(day: int, month: int = 10, hour: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _item(*, due: date, done_at: datetime | None = None, status=None, created=None, **kwargs):
    status = status or ("done" if done_at else "open")
    if status in ("blocked", "wont_do"):
        kwargs.setdefault("reason", "A recorded decision")
    item = ActionItemFactory(due_on=due, status=status, completed_at=done_at, **kwargs)
    ActionItem.objects.filter(pk=item.pk).update(created_at=created or _at(1, 9))
    return item


# Periods --------------------------------------------------------------------------------


def test_periods_for_the_dashboard():
    last = Period.last(30, date(2026, 11, 27))
    assert (last.start, last.end, last.days) == (date(2026, 10, 29), date(2026, 11, 27), 30)
    assert last.before() == Period(date(2026, 9, 29), date(2026, 10, 28))
    assert last.months() == [date(2026, 10, 1), date(2026, 11, 1)]
    assert Period(date(2025, 12, 31), date(2026, 1, 1)).months() == [
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]
    assert Period.month("2026-02").before() == Period(date(2026, 1, 4), date(2026, 1, 31))


# Completion -----------------------------------------------------------------------------


def test_completion_by_month_counts_items_by_the_month_they_were_due():
    pm = PostmortemFactory()
    _item(postmortem=pm, due=date(2026, 9, 10), done_at=_at(9, 9))  # on time
    _item(postmortem=pm, due=date(2026, 9, 20), done_at=_at(25, 9))  # done late
    _item(postmortem=pm, due=date(2026, 9, 30))  # never done
    _item(postmortem=pm, due=date(2026, 9, 30), status="wont_do")  # a decision: left out
    _item(postmortem=pm, due=date(2026, 11, 3), done_at=_at(3, 11, hour=23))  # the same day
    rows = metrics.completion_by_month(AUTUMN, ORG, PUBLIC_ONLY)
    assert [r["month"] for r in rows] == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert [(r["due"], r["on_time"]) for r in rows] == [(3, 1), (0, 0), (1, 1)]
    assert rows[0]["band"] == "theatre" and rows[0]["rate"] == pytest.approx(1 / 3)
    assert rows[1]["rate"] is None and rows[1]["band"] is None  # an empty month
    assert rows[2]["band"] == "healthy"
    # The months add up to the digest's figure for the whole period.
    whole = metrics.completion_by_due_date(AUTUMN, ORG, PUBLIC_ONLY)
    assert (whole["due"], whole["on_time"]) == (4, 2)


def test_a_reopened_item_counts_as_not_done_and_a_redone_one_by_its_latest_completion():
    pm = PostmortemFactory()
    reopened = _item(postmortem=pm, due=date(2026, 10, 10))  # was done on the 5th, reopened
    ActionItemEvent.objects.create(
        item=reopened, kind="status", from_status="open", to_status="done", at=_at(5)
    )
    ActionItemEvent.objects.create(
        item=reopened, kind="status", from_status="done", to_status="open", at=_at(7)
    )
    _item(postmortem=pm, due=date(2026, 10, 10), done_at=_at(20))  # redone late
    figures = metrics.completion_by_due_date(OCTOBER, ORG, PUBLIC_ONLY)
    assert (figures["due"], figures["on_time"]) == (2, 0)


def test_completion_by_month_clips_the_first_and_last_month_to_the_period():
    pm = PostmortemFactory()
    _item(postmortem=pm, due=date(2026, 10, 2), done_at=_at(1))  # before the period
    _item(postmortem=pm, due=date(2026, 10, 20))
    rows = metrics.completion_by_month(Period(date(2026, 10, 15), date(2026, 11, 5)), ORG, None)
    assert [(r["month"].month, r["due"]) for r in rows] == [(10, 1), (11, 0)]


def test_completion_by_team_compares_with_the_period_before():
    payments, search = TeamFactory(name="Payments"), TeamFactory(name="Search")
    ours = PostmortemFactory(incident__team=payments)
    theirs = PostmortemFactory(incident__team=search)
    # Payments: September 2 of 2 on time, October 1 of 2.
    _item(postmortem=ours, due=date(2026, 9, 10), done_at=_at(9, 9))
    _item(postmortem=ours, due=date(2026, 9, 12), done_at=_at(12, 9))
    _item(postmortem=ours, due=date(2026, 10, 10), done_at=_at(9))
    _item(postmortem=ours, due=date(2026, 10, 11))
    # Search: nothing due in September, 1 of 1 in October.
    _item(postmortem=theirs, due=date(2026, 10, 3), done_at=_at(2))
    previous = Period.month("2026-09")
    rows = metrics.completion_by_team(OCTOBER, ORG, PUBLIC_ONLY, previous)
    assert [r["team_name"] for r in rows] == ["Payments", "Search"]
    pay, sea = rows
    assert (pay["due"], pay["on_time"], pay["prev_due"], pay["prev_on_time"]) == (2, 1, 2, 2)
    assert pay["rate"] == 0.5 and pay["prev_rate"] == 1.0 and pay["change"] == -0.5
    assert pay["band"] == "at_risk" and pay["prev_band"] == "healthy"
    assert sea["prev_rate"] is None and sea["change"] is None and sea["band"] == "healthy"
    # By default "before" is the same length just before: 30 Aug – 30 Sep for October.
    default = metrics.completion_by_team(OCTOBER, ORG, PUBLIC_ONLY)
    assert default[0]["prev_due"] == 2


def test_the_completion_grid_adds_up_to_the_digest_figure_in_both_periods():
    teams = [TeamFactory(), TeamFactory()]
    rng = random.Random(5)
    for n in range(40):
        due = date(2026, 8, 1) + timedelta(days=rng.randrange(0, 92))
        done = rng.random()
        _item(
            postmortem=PostmortemFactory(incident__team=teams[n % 2]),
            due=due,
            done_at=_at(due.day, due.month) + timedelta(days=rng.randint(-3, 3))
            if done < 0.6
            else None,
            status="wont_do" if done > 0.9 else None,
        )
    previous = Period(date(2026, 8, 1), date(2026, 9, 30))
    grid = metrics.completion_grid(OCTOBER, ORG, PUBLIC_ONLY, previous)
    for flag, period in ((True, OCTOBER), (False, previous)):
        rows = [r for r in grid if r["current"] is flag]
        expected = metrics.completion_by_due_date(period, ORG, PUBLIC_ONLY)
        assert sum(r["due"] for r in rows) == expected["due"] > 0
        assert sum(r["on_time"] for r in rows) == expected["on_time"]
    sums = metrics.completion_sums(OCTOBER, ORG, PUBLIC_ONLY, previous)
    expected = metrics.CompletionSums.of(grid)
    by_team = lambda r: (r["team_pk"], r["current"])  # noqa: E731
    assert sorted(sums.teams, key=by_team) == sorted(expected.teams, key=by_team)
    by_month = lambda r: r["month"]  # noqa: E731
    assert sorted(sums.months, key=by_month) == sorted(expected.months, key=by_month)
    teams_view = metrics.completion_by_team(OCTOBER, ORG, PUBLIC_ONLY, previous, sums=sums)
    for team in teams_view:
        own = metrics.completion_by_due_date(
            OCTOBER, Scope(team=TeamFactory(slug=team["team_slug"])), None
        )
        assert (team["due"], team["on_time"]) == (own["due"], own["on_time"])


# Overdue, load --------------------------------------------------------------------------


def test_open_and_overdue_by_team_and_owner_follow_the_list_rule():
    team = TeamFactory(name="Checkout", slug="checkout")
    dana, lee = UserFactory(username="dana"), UserFactory(username="lee", is_active=False)
    pm = PostmortemFactory(incident__team=team)
    today = date(2026, 10, 15)
    _item(postmortem=pm, owner=dana, due=date(2026, 10, 1))  # overdue
    _item(postmortem=pm, owner=dana, due=date(2026, 10, 14), status="blocked")  # overdue too
    _item(postmortem=pm, owner=dana, due=today)  # due today: not overdue yet
    _item(postmortem=pm, owner=lee, due=date(2026, 10, 2), status="in_progress")
    _item(postmortem=pm, owner=lee, due=date(2026, 10, 2), done_at=_at(1))  # done
    _item(postmortem=pm, owner=lee, due=date(2026, 10, 2), status="wont_do")  # dropped
    (row,) = metrics.open_by_team(ORG, PUBLIC_ONLY, today)
    assert (row["team_slug"], row["open"], row["overdue"]) == ("checkout", 4, 3)
    assert row["oldest_due"] == date(2026, 10, 1)
    assert row["overdue"] == metrics.overdue_items(ORG, PUBLIC_ONLY, today).count()
    owners = metrics.open_by_owner(ORG, PUBLIC_ONLY, today)
    assert [(o["username"], o["open"], o["overdue"], o["active"]) for o in owners] == [
        ("dana", 3, 2, True),
        ("lee", 1, 1, False),
    ]


# The mix of items -----------------------------------------------------------------------


def test_items_by_priority_and_leverage_are_those_created_in_the_period():
    pm = PostmortemFactory()
    _item(postmortem=pm, due=date(2026, 10, 9), priority=0, leverage="prevention", created=_at(2))
    _item(
        postmortem=pm,
        due=date(2026, 10, 9),
        priority=0,
        leverage="prevention",
        done_at=_at(3),
        created=_at(2),
    )
    _item(postmortem=pm, due=date(2026, 10, 9), priority=2, leverage="detection", created=_at(5))
    _item(
        postmortem=pm,
        due=date(2026, 10, 9),
        priority=2,
        leverage="detection",
        status="wont_do",
        created=_at(6),
    )
    _item(postmortem=pm, due=date(2026, 10, 9), created=_at(30, 9))  # before October
    rows = metrics.items_by_priority_and_leverage(OCTOBER, ORG, PUBLIC_ONLY)
    assert [
        (r["priority"], r["leverage"], r["created"], r["open"], r["done"], r["dropped"])
        for r in rows
    ] == [(0, "prevention", 2, 1, 1, 0), (2, "detection", 2, 1, 0, 1)]


def test_published_postmortems_without_a_prevention_item():
    def published(day):
        return PostmortemFactory(status="published", published_at=_at(day))

    covered, dropped_only, detection_only = published(3), published(4), published(5)
    _item(postmortem=covered, due=date(2026, 10, 20), leverage="prevention")
    _item(postmortem=dropped_only, due=date(2026, 10, 20), leverage="prevention", status="wont_do")
    _item(postmortem=detection_only, due=date(2026, 10, 20), leverage="detection")
    draft = PostmortemFactory()  # not published: not judged yet
    _item(postmortem=draft, due=date(2026, 10, 20), leverage="detection")
    without = metrics.postmortems_without_prevention(OCTOBER, ORG, PUBLIC_ONLY)
    assert set(without) == {dropped_only, detection_only}
    assert metrics.prevention_coverage(OCTOBER, ORG, PUBLIC_ONLY) == {
        "published": 3,
        "without_prevention": 2,
    }


# Cycle time -----------------------------------------------------------------------------


def _published_after(days: float, *, resolved_day: int = 1, month: int = 10):
    resolved = _at(resolved_day, month)
    incident = IncidentFactory(started_at=resolved - timedelta(hours=2), resolved_at=resolved)
    return PostmortemFactory(
        incident=incident, status="published", published_at=resolved + timedelta(days=days)
    )


def test_cycle_time_median_90th_percentile_and_share_within_a_week():
    for days in (1, 2, 3, 4, 10):
        _published_after(days)
    figures = metrics.cycle_times(OCTOBER, ORG, PUBLIC_ONLY)
    assert figures["published"] == 5 and figures["within"] == 4
    assert figures["share_within"] == 0.8
    assert figures["median"] == timedelta(days=3)
    # percentile_cont: position 0.9 × 4 = 3.6, so 4 d + 0.6 × (10 d − 4 d).
    assert figures["p90"] == timedelta(days=7.6)


def test_cycle_time_counts_exactly_seven_days_as_within_and_empty_periods_as_nothing():
    _published_after(7)
    assert metrics.cycle_times(OCTOBER, ORG, None)["within"] == 1
    empty = metrics.cycle_times(Period.month("2026-06"), ORG, None)
    assert empty == {"published": 0, "within": 0, "share_within": None, "median": None, "p90": None}


def test_cycle_time_by_month_of_publication():
    _published_after(2, resolved_day=1, month=9)
    _published_after(4, resolved_day=28, month=9)  # published 2 October
    _published_after(6, resolved_day=10, month=10)
    rows = metrics.cycle_times_by_month(AUTUMN, ORG, None)
    assert [(r["month"].month, r["published"], r["median"]) for r in rows] == [
        (9, 1, timedelta(days=2)),
        (10, 2, timedelta(days=5)),
        (11, 0, None),
    ]


def test_percentile_cont_in_python_matches_the_definition():
    values = [timedelta(minutes=m) for m in (10, 1, 4)]
    assert metrics.percentile_cont(values, 0.5) == timedelta(minutes=4)
    assert metrics.percentile_cont(values, 0.9) == timedelta(minutes=8.8)
    assert metrics.percentile_cont([], 0.5) is None
    assert metrics.percentile_cont([timedelta(1)], 0.9) == timedelta(1)


# Incidents ------------------------------------------------------------------------------


def test_incidents_by_severity_by_month_with_empty_months():
    IncidentFactory(severity=1, started_at=_at(2, 9))
    IncidentFactory(severity=3, started_at=_at(30, 9, hour=23))
    IncidentFactory(severity=3, started_at=_at(1, 11, hour=0))
    rows = metrics.incidents_by_severity_by_month(AUTUMN, ORG, PUBLIC_ONLY)
    assert [(r["month"].month, r["SEV1"], r["SEV3"], r["total"]) for r in rows] == [
        (9, 1, 1, 2),
        (10, 0, 0, 0),
        (11, 0, 1, 1),
    ]


def test_response_times_use_the_incident_times_else_the_first_timeline_event_of_the_phase():
    def incident(**times):
        start = _at(5)
        fields = {
            f"{k}_at": start + timedelta(minutes=v) if v is not None else None
            for k, v in times.items()
        }
        status = Incident.Status.RESOLVED if fields.get("resolved_at") else "investigating"
        return IncidentFactory(started_at=start, status=status, **fields)

    incident(detected=10, mitigated=30, resolved=60)
    incident(detected=20, mitigated=40, resolved=120)
    from_timeline = incident(detected=None, mitigated=None, resolved=None)
    for minutes, phase in ((30, "detection"), (35, "detection"), (50, "mitigation")):
        TimelineEventFactory(
            incident=from_timeline, phase=phase, occurred_at=_at(5) + timedelta(minutes=minutes)
        )
    medians = metrics.response_times(OCTOBER, ORG, PUBLIC_ONLY)
    assert medians["detect"] == timedelta(minutes=20)  # of 10, 20, 30
    assert medians["mitigate"] == timedelta(minutes=40)  # of 30, 40, 50
    assert medians["resolve"] == timedelta(minutes=90)  # of 60, 120 (one never resolved)
    by_month = metrics.response_times(AUTUMN, ORG, PUBLIC_ONLY, by_month=True)
    assert [r["detect"] for r in by_month] == [None, timedelta(minutes=20), None]


def test_a_timeline_event_before_the_start_is_not_a_detection():
    start = _at(5)
    incident = IncidentFactory(started_at=start, detected_at=None, mitigated_at=None)
    TimelineEvent.objects.create(
        incident=incident, occurred_at=start - timedelta(minutes=5), text="x", phase="detection"
    )
    assert metrics.response_times(OCTOBER, ORG, None)["detect"] is None


# Recurrence -----------------------------------------------------------------------------


def _with_factor(incident, category="alerting"):
    pm = PostmortemFactory(incident=incident)
    ContributingFactorFactory(postmortem=pm, category=category)
    return pm


def test_a_repeat_after_a_prevention_item_was_marked_done_is_flagged():
    first = IncidentFactory(pattern="cert-expiry", started_at=_at(1, 3))
    fix = _item(
        postmortem=PostmortemFactory(incident=first),
        due=date(2026, 4, 1),
        leverage="prevention",
        done_at=_at(20, 3),
    )
    again = IncidentFactory(pattern="cert-expiry", started_at=_at(10))
    service = ServiceFactory()
    earlier = IncidentFactory(started_at=_at(1, 6))
    earlier.services.add(service)
    pm = _with_factor(earlier)
    _item(postmortem=pm, due=date(2026, 7, 1), leverage="detection", done_at=_at(2, 6))
    by_cause = IncidentFactory(started_at=_at(15))
    by_cause.services.add(service)
    _with_factor(by_cause)
    refresh_pending()  # as the commit would
    repeats = {i.pk: i for i in metrics.recurrences(OCTOBER, ORG, PUBLIC_ONLY)}
    assert set(repeats) == {again.pk, by_cause.pk}
    assert repeats[again.pk].after_fix and repeats[again.pk].same_pattern
    # Only a detection item was done before the service/factor repeat: no prevention failed.
    assert not repeats[by_cause.pk].after_fix and repeats[by_cause.pk].same_cause
    months = metrics.recurrence_by_month(OCTOBER, ORG, PUBLIC_ONLY)
    assert months == [{"month": date(2026, 10, 1), "repeats": 2, "same_pattern": 1, "after_fix": 1}]
    # Marked done as the repeat started, or after: the fix had not been in place yet.
    for moment in (again.started_at, _at(11)):
        ActionItem.objects.filter(pk=fix.pk).update(completed_at=moment)
        rebuild_repeat_flags()  # an update() writes no audit trail
        assert metrics.recurrence_by_month(OCTOBER, ORG, None)[0]["after_fix"] == 0


def test_a_prevention_item_reopened_since_still_counts_as_a_fix_that_did_not_hold():
    first = IncidentFactory(pattern="disk-full", started_at=_at(1, 5))
    item = _item(
        postmortem=PostmortemFactory(incident=first), due=date(2026, 6, 1), leverage="prevention"
    )
    ActionItemEvent.objects.create(item=item, kind="status", to_status="done", at=_at(3, 5))
    ActionItemEvent.objects.create(
        item=item, kind="status", from_status="done", to_status="open", at=_at(12)
    )
    IncidentFactory(pattern="disk-full", started_at=_at(10))
    refresh_pending()
    assert metrics.recurrence_by_month(OCTOBER, ORG, None)[0]["after_fix"] == 1


def test_repeats_look_back_exactly_twelve_months():
    repeat_start = _at(10)
    IncidentFactory(pattern="dns", started_at=repeat_start - REPEAT_WINDOW)  # exactly 365 days
    repeat = IncidentFactory(pattern="dns", started_at=repeat_start)
    IncidentFactory(pattern="queue", started_at=repeat_start - REPEAT_WINDOW - timedelta(seconds=1))
    IncidentFactory(pattern="queue", started_at=_at(12))
    IncidentFactory(pattern="same-time", started_at=_at(14))
    IncidentFactory(pattern="same-time", started_at=_at(14))  # simultaneous: neither earlier
    refresh_pending()
    assert list(metrics.repeat_incidents(OCTOBER, ORG, None)) == [repeat]


def test_an_earlier_private_incident_makes_a_repeat_only_for_those_who_can_see_it():
    member, outsider = UserFactory(), UserFactory()
    IncidentFactory(pattern="breach", started_at=_at(1, 4), private=True, members=[member])
    repeat = IncidentFactory(pattern="breach", started_at=_at(10))
    refresh_pending()
    assert list(metrics.repeat_incidents(OCTOBER, ORG, member)) == [repeat]
    assert list(metrics.repeat_incidents(OCTOBER, ORG, outsider)) == []
    assert list(metrics.repeat_incidents(OCTOBER, ORG, PUBLIC_ONLY)) == []


def _reference_repeats(period, scope, viewer):
    """The straightforward definition (one EXISTS per incident), kept as an oracle for the
    set-wise implementation in metrics._repeat_flags_sql."""
    earlier = metrics.incidents(ORG, viewer).filter(
        started_at__lt=OuterRef("started_at"),
        started_at__gte=OuterRef("started_at") - REPEAT_WINDOW,
    )
    same_pattern = earlier.filter(pattern=OuterRef("pattern")).exclude(pattern="")
    categories = ContributingFactor.objects.filter(
        postmortem__incident_id=OuterRef(OuterRef("pk"))
    ).values("category")
    same_cause = earlier.filter(
        services__incidents=OuterRef("pk"), postmortem__factors__category__in=categories
    )
    done_before = ActionItemEvent.objects.filter(
        item=OuterRef("pk"),
        kind="status",
        to_status="done",
        at__lt=OuterRef(OuterRef(OuterRef("started_at"))),
    )
    fixed = ActionItem.objects.filter(
        postmortem__incident=OuterRef("pk"), leverage="prevention"
    ).filter(
        Q(status="done", completed_at__lt=OuterRef(OuterRef("started_at"))) | Exists(done_before)
    )
    rows = (
        metrics.incidents(scope, viewer)
        .filter(period.span("started_at"))
        .annotate(
            p=Exists(same_pattern),
            c=Exists(same_cause),
            f=Exists(same_pattern.filter(Exists(fixed))) | Exists(same_cause.filter(Exists(fixed))),
        )
        .filter(Q(p=True) | Q(c=True))
    )
    return {i.pk: (i.p, i.c, i.f) for i in rows}


@pytest.mark.parametrize("read_access", ["organisation", "team"])
def test_the_stored_repeat_flags_agree_with_the_straightforward_definition(settings, read_access):
    """For an outsider, a member of private incidents, a manager, an admin and PUBLIC_ONLY;
    with DEBRIEF_READ_ACCESS=team (public incidents narrowed too) as well."""
    settings.DEBRIEF_READ_ACCESS = read_access
    rng = random.Random(11)
    teams = [TeamFactory() for _ in range(2)]
    services = [ServiceFactory(team=teams[i % 2]) for i in range(4)]
    member, outsider, manager = UserFactory(), UserFactory(), UserFactory()
    admin = UserFactory(is_superuser=True)
    teams[0].managers.add(manager)
    start = _at(1, 1, year=2025)
    for n in range(70):
        started = start + timedelta(hours=rng.randrange(0, 23 * 30 * 24))
        if n % 9 == 0:  # some incidents start at the very same moment
            started = start + timedelta(days=300)
        incident = IncidentFactory(
            team=rng.choice(teams),
            started_at=started,
            pattern=rng.choice(["", "", "", "dns", "cert", "queue"]),
            private=rng.random() < 0.15,
            members=[member] if rng.random() < 0.5 else [],
        )
        incident.services.set(rng.sample(services, rng.randint(0, 2)))
        if rng.random() < 0.8:
            pm = PostmortemFactory(incident=incident)
            for category in rng.sample(["technical", "process", "alerting", "testing"], 2)[
                : rng.randint(0, 2)
            ]:
                ContributingFactorFactory(postmortem=pm, category=category)
            if rng.random() < 0.6:
                done = started + timedelta(days=rng.randint(1, 200))
                item = _item(
                    postmortem=pm,
                    due=done.date(),
                    leverage=rng.choice(["prevention", "prevention", "detection"]),
                    done_at=done if rng.random() < 0.7 else None,
                )
                if item.status == "open" and rng.random() < 0.5:  # done once, reopened
                    ActionItemEvent.objects.create(
                        item=item, kind="status", to_status="done", at=done
                    )
    refresh_pending()  # what the commit of these changes does
    checked = 0
    for period in (Period.month("2026-03"), Period(date(2025, 6, 1), date(2026, 9, 30))):
        for scope in (ORG, Scope(team=teams[0]), Scope(service=services[1])):
            for viewer in (PUBLIC_ONLY, member, outsider, manager, admin):
                expected = _reference_repeats(period, scope, viewer)
                found = {
                    i.pk: (i.same_pattern, i.same_cause, i.after_fix)
                    for i in metrics.recurrences(period, scope, viewer)
                }
                assert found == expected, (period, scope, viewer)
                listed = metrics.repeat_flags(period, scope, viewer)
                assert {
                    f["id"]: (f["same_pattern"], f["same_cause"], f["after_fix"]) for f in listed
                } == expected
                fixed = metrics.repeat_flags(period, scope, viewer, only="after_fix")
                assert [f["id"] for f in fixed] == [f["id"] for f in listed if f["after_fix"]]
                months = metrics.recurrence_by_month(period, scope, viewer)
                assert sum(m["repeats"] for m in months) == len(expected)
                assert sum(m["after_fix"] for m in months) == sum(f for *_, f in expected.values())
                assert sum(m["same_pattern"] for m in months) == sum(
                    p for p, *_ in expected.values()
                )
                # The repeat list's count, from the same day counts, for each of its filters.
                assert metrics.repeats_count(period, scope, viewer) == len(expected)
                for only, kept in (
                    ("pattern", lambda p, c, f: p),
                    ("after_fix", lambda p, c, f: f),
                    ("other", lambda p, c, f: not f),
                ):
                    assert metrics.repeats_count(period, scope, viewer, only) == len(
                        [flags for flags in expected.values() if kept(*flags)]
                    )
                    listed_only = metrics.repeats(period, scope, viewer, only)
                    assert listed_only.count() == metrics.repeats_count(period, scope, viewer, only)
                checked += len(expected)
    assert checked > 40  # the random data really has repeats of every kind
    # Some flags differ for those who see private incidents (so they were judged per viewer;
    # a shared cause: the next test).
    differ = Incident.objects.exclude(repeats=F("public_repeats"))
    changed = [r ^ p for r, p in differ.values_list("repeats", "public_repeats")]
    for bit in (REPEAT_PATTERN, REPEAT_AFTER_FIX):
        assert any(c & bit for c in changed), bit


def test_a_private_incident_with_the_same_cause_and_a_fix_makes_a_repeat_for_its_members():
    member, outsider, admin = UserFactory(), UserFactory(), UserFactory(is_superuser=True)
    service = ServiceFactory()
    earlier = IncidentFactory(started_at=_at(1, 5), private=True, members=[member])
    earlier.services.add(service)
    _item(postmortem=_with_factor(earlier), due=date(2026, 6, 1), leverage="prevention")
    item = ActionItem.objects.get(postmortem__incident=earlier)
    # Marked done once and reopened since: the fix still did not hold.
    ActionItemEvent.objects.create(item=item, kind="status", to_status="done", at=_at(2, 5))
    repeat = IncidentFactory(started_at=_at(10))
    repeat.services.add(service)
    _with_factor(repeat)
    IncidentFactory(started_at=_at(11)).services.add(service)  # no factor: no shared cause
    refresh_pending()
    for viewer in (member, admin):
        [found] = metrics.recurrences(OCTOBER, ORG, viewer)
        assert (found, found.same_pattern, found.same_cause, found.after_fix) == (
            repeat,
            False,
            True,
            True,
        )
        assert metrics.recurrence_by_month(OCTOBER, ORG, viewer) == [
            {"month": date(2026, 10, 1), "repeats": 1, "same_pattern": 0, "after_fix": 1}
        ]
        assert metrics.repeats_count(OCTOBER, ORG, viewer, "after_fix") == 1
    for viewer in (outsider, PUBLIC_ONLY):
        assert list(metrics.recurrences(OCTOBER, ORG, viewer)) == []
        assert metrics.repeats_count(OCTOBER, ORG, viewer) == 0


def _stored_and_live() -> tuple[dict, dict]:
    """Every incident's stored flags, and the same computed from scratch."""
    stored = {
        pk: (r, p) for pk, r, p in Incident.objects.values_list("pk", "repeats", "public_repeats")
    }
    everything = Incident.objects.all()
    live = dict.fromkeys(stored, (0, 0)) | {
        pk: (r, p) for pk, r, p in metrics.repeat_flag_rows(everything, everything)
    }
    return stored, live


def _day_counts() -> tuple[Counter, Counter]:
    """The stored RepeatsDay counts, and the same counted from the incidents' flags:
    {(team or None, day, private, repeats, public_repeats): incidents}."""
    stored = Counter()
    for row in RepeatsDay.objects.all():
        key = (row.team_id, row.day, row.private, row.repeats, row.public_repeats)
        assert key not in stored  # one row per key
        stored[key] = row.incidents
    fresh = Counter()
    for incident in Incident.objects.filter(repeats__gt=0):
        day = incident.started_at.astimezone(UTC).date()
        flags = (incident.private, incident.repeats, incident.public_repeats)
        fresh[(incident.team_id, day, *flags)] += 1
        fresh[(None, day, *flags)] += 1
    return stored, fresh


def test_stored_repeat_flags_follow_changes_made_through_the_services(
    django_capture_on_commit_callbacks,
):
    from incidents.services import create_incident, update_incident
    from postmortems.services import add_factor, delete_factor

    admin = UserFactory(is_superuser=True)
    team = TeamFactory()
    service = ServiceFactory(team=team)
    steps = []

    def step(change):
        with django_capture_on_commit_callbacks(execute=True):
            result = change()
        stored, live = _stored_and_live()
        assert stored == live, len(steps)
        stored_days, fresh_days = _day_counts()
        assert stored_days == fresh_days, len(steps)
        steps.append(stored)
        return result

    def incident(pattern, day, **fields):
        return step(
            lambda: create_incident(
                by=admin,
                team=team,
                title="x",
                severity=2,
                pattern=pattern,
                started_at=_at(1, 1, year=2025) + timedelta(days=day),
                **fields,
            )
        )

    def edit(target, **fields):
        target.refresh_from_db()
        return step(
            lambda: update_incident(incident=target, by=admin, version=target.version, **fields)
        )

    first = incident("dns", 0)
    second = incident("dns", 10)
    third = incident("dns", 300)
    assert steps[-1][third.pk] == (REPEAT_PATTERN, REPEAT_PATTERN)
    edit(second, pattern="db")  # the third still repeats the first
    edit(first, started_at=_at(1, 1, year=2025) - timedelta(days=100))  # now too long before
    assert steps[-1][third.pk] == (0, 0)
    edit(second, pattern="dns")
    edit(second, private=True)  # a repeat for those who see the second only
    assert steps[-1][third.pk] == (REPEAT_PATTERN, 0)
    edit(third, team=TeamFactory())  # its day's counts move to the other team
    edit(third, started_at=_at(1, 1, year=2025) + timedelta(days=301))  # and to the next day
    edit(third, private=True)
    edit(third, private=False)
    assert RepeatsDay.objects.filter(team=third.team, incidents=1).exists()
    cause = incident("", 20, services=[service])
    later = incident("", 40, services=[service])
    factors = [
        step(
            lambda i=i: add_factor(
                postmortem=PostmortemFactory(incident=i),
                by=admin,
                category="alerting",
                description="x",
                whys=[],
            )
        )
        for i in (cause, later)
    ]
    assert steps[-1][later.pk] == (REPEAT_CAUSE, REPEAT_CAUSE)
    edit(cause, services=[])  # no shared service left
    assert steps[-1][later.pk] == (0, 0)
    edit(cause, services=[service])
    step(lambda: delete_factor(factor=factors[0], by=admin))
    assert steps[-1][later.pk] == (0, 0)
    step(lambda: Incident.objects.get(pk=first.pk).delete())
    assert len(steps) > 12


def test_the_day_counts_follow_saves_outside_the_services(django_capture_on_commit_callbacks):
    """As the admin saves: the audit trail records the change, and the counts follow it."""
    IncidentFactory(pattern="dns", started_at=_at(1, 3))
    again = IncidentFactory(pattern="dns", started_at=_at(10))
    refresh_pending()  # as the commit would
    for name, value in (("team", TeamFactory()), ("private", True), ("started_at", _at(9))):
        with django_capture_on_commit_callbacks(execute=True):
            setattr(again, name, value)
            again.save()
        stored, fresh = _day_counts()
        assert stored == fresh, name
    assert RepeatsDay.objects.get(team=again.team).day == date(2026, 10, 9)
    with django_capture_on_commit_callbacks(execute=True):
        again.delete()
    assert _day_counts() == (Counter(), Counter())


def test_the_day_counts_are_rebuilt_after_writes_that_bypass_the_trail():
    IncidentFactory(pattern="dns", started_at=_at(1, 3))
    again = IncidentFactory(pattern="dns", started_at=_at(10), private=True)
    refresh_pending()  # as the commit would
    stored, fresh = _day_counts()
    assert stored == fresh and len(stored) == 2  # the team's row and the organisation's
    # A bulk update writes no audit trail: the counts are stale until rebuilt.
    Incident.objects.filter(pk=again.pk).update(team=TeamFactory(), started_at=_at(9))
    assert _day_counts()[0] != _day_counts()[1]
    assert "2 day rows" in rebuild_repeat_flags()
    stored, fresh = _day_counts()
    assert stored == fresh
    RepeatsDay.objects.all().delete()
    assert recount_days() == 2 and _day_counts()[0] == fresh
    # Only the admin sees the private repeat.
    assert (
        metrics.recurrence_by_month(OCTOBER, ORG, UserFactory(is_superuser=True))[0]["repeats"] == 1
    )
    assert metrics.recurrence_by_month(OCTOBER, ORG, UserFactory())[0]["repeats"] == 0


# Slippage -------------------------------------------------------------------------------


def test_slippage_by_team_counts_changes_in_the_period_and_net_days():
    team = TeamFactory(name="Checkout")
    pm = PostmortemFactory(incident__team=team)
    moved = _item(postmortem=pm, due=date(2026, 10, 30))
    for at, old, new in [
        (_at(2), date(2026, 10, 10), date(2026, 10, 20)),  # +10
        (_at(9), date(2026, 10, 20), date(2026, 10, 30)),  # +10
        (_at(25, 9), date(2026, 10, 1), date(2026, 10, 10)),  # September: not counted
    ]:
        ActionItemEvent.objects.create(item=moved, kind="due_date", at=at, from_due=old, to_due=new)
    earlier = _item(postmortem=pm, due=date(2026, 10, 5))
    ActionItemEvent.objects.create(
        item=earlier,
        kind="due_date",
        at=_at(3),
        from_due=date(2026, 10, 8),
        to_due=date(2026, 10, 5),
    )
    _item(postmortem=pm, due=date(2026, 10, 12))  # due, never moved
    (row,) = metrics.slippage_by_team(OCTOBER, ORG, PUBLIC_ONLY)
    assert (row["team_name"], row["changes"], row["items_moved"]) == ("Checkout", 3, 2)
    assert row["slipped"] == timedelta(days=17)  # +10 +10 −3
    assert (row["due"], row["due_moved"]) == (3, 2)
    items = {i.pk: i for i in metrics.items_moved(OCTOBER, ORG, PUBLIC_ONLY)}
    assert items[moved.pk].changes == 2 and items[moved.pk].slipped == timedelta(days=20)
    assert items[earlier.pk].slipped == timedelta(days=-3)


def test_slippage_is_empty_without_changes_or_due_items():
    assert metrics.slippage_by_team(OCTOBER, ORG, PUBLIC_ONLY) == []


# Privacy --------------------------------------------------------------------------------


def test_private_incidents_count_for_their_members_and_admins_only():
    member, outsider = UserFactory(), UserFactory()
    admin = UserFactory(is_superuser=True)
    secret = IncidentFactory(private=True, members=[member], started_at=_at(3), severity=1)
    pm = PostmortemFactory(incident=secret, status="published", published_at=_at(4))
    _item(postmortem=pm, due=date(2026, 10, 10), created=_at(5))
    _item(postmortem=PostmortemFactory(), due=date(2026, 10, 10), created=_at(5))
    for viewer, seen in ((member, 2), (admin, 2), (outsider, 1), (PUBLIC_ONLY, 1)):
        assert metrics.completion_by_due_date(OCTOBER, ORG, viewer)["due"] == seen
        assert sum(r["open"] for r in metrics.open_by_team(ORG, viewer, date(2026, 11, 1))) == seen
        assert (
            sum(r["created"] for r in metrics.items_by_priority_and_leverage(OCTOBER, ORG, viewer))
            == seen
        )
    assert metrics.cycle_times(OCTOBER, ORG, outsider)["published"] == 0
    assert metrics.cycle_times(OCTOBER, ORG, member)["published"] == 1
    months = metrics.incidents_by_severity_by_month(OCTOBER, ORG, outsider)
    assert months[0]["SEV1"] == 0


# The dashboard's combined reads ------------------------------------------------------------


def _mixed_history(member):
    """Incidents and postmortems across three months: severities, response times from the
    incident and from the timeline, cycle times, prevention items, a private incident."""
    for n in range(12):
        start = _at(1 + n * 2, 9 + n % 3, hour=n)
        resolved = start + timedelta(hours=n + 1) if n % 5 else None
        incident = IncidentFactory(
            severity=1 + n % 3,
            started_at=start,
            detected_at=start + timedelta(minutes=5 * n) if n % 4 else None,
            mitigated_at=start + timedelta(minutes=7 * n) if n % 3 else None,
            resolved_at=resolved,
            status="resolved" if resolved else "investigating",
            private=n == 7,
            members=[member] if n == 7 else [],
        )
        if n % 4 == 0:
            TimelineEventFactory(
                incident=incident, phase="detection", occurred_at=start + timedelta(minutes=n)
            )
        if n % 6 == 5:
            continue  # no postmortem
        pm = PostmortemFactory(
            incident=incident,
            status="published" if n % 6 != 4 else "draft",
            published_at=start + timedelta(days=n % 10, hours=3) if n % 6 != 4 else None,
        )
        if n % 2:
            leverage = "prevention" if n % 3 else "detection"
            _item(postmortem=pm, due=date(2026, 10, 20), leverage=leverage)


@pytest.mark.parametrize("who", ["public", "outsider", "member", "admin"])
def test_the_dashboards_combined_reads_equal_the_figures_one_by_one(who):
    member = UserFactory()
    _mixed_history(member)
    viewer = {
        "public": PUBLIC_ONLY,
        "outsider": UserFactory(),
        "member": member,
        "admin": UserFactory(is_superuser=True),
    }[who]
    for period in (AUTUMN, OCTOBER, Period.month("2026-06")):
        pms = metrics.postmortem_figures(period, ORG, viewer)
        assert pms["cycle"] == metrics.cycle_times(period, ORG, viewer)
        assert pms["cycle_months"] == metrics.cycle_times_by_month(period, ORG, viewer)
        assert pms["coverage"] == metrics.prevention_coverage(period, ORG, viewer)
        found = metrics.incident_figures(period, ORG, viewer)
        assert found["severity"] == metrics.incidents_by_severity_by_month(period, ORG, viewer)
        assert found["response"] == metrics.response_times(period, ORG, viewer)
        assert found["response_months"] == metrics.response_times(
            period, ORG, viewer, by_month=True
        )
    # The data reaches every figure, so the comparison above compared something.
    autumn = metrics.postmortem_figures(AUTUMN, ORG, viewer)
    assert autumn["cycle"]["published"] > 2 and autumn["cycle"]["median"] is not None
    assert autumn["coverage"]["without_prevention"] > 0
    assert metrics.incident_figures(AUTUMN, ORG, viewer)["response"]["detect"] is not None


def test_the_combined_reads_answer_an_empty_period_with_empty_figures():
    june = Period.month("2026-06")
    pms = metrics.postmortem_figures(june, ORG, PUBLIC_ONLY)
    assert pms["coverage"] == {"published": 0, "without_prevention": 0}
    assert pms["cycle"]["published"] == 0 and pms["cycle"]["median"] is None
    found = metrics.incident_figures(june, ORG, PUBLIC_ONLY)
    assert found["severity"] == [
        {"month": date(2026, 6, 1), "SEV1": 0, "SEV2": 0, "SEV3": 0, "total": 0}
    ]
    assert found["response"] == {"detect": None, "mitigate": None, "resolve": None}


def test_open_items_per_team_only_add_up_to_the_per_owner_rows():
    member, teams = UserFactory(), [TeamFactory(), TeamFactory()]
    secret = IncidentFactory(private=True, members=[member], team=teams[0])
    for n in range(6):
        pm = PostmortemFactory(incident=secret if n == 5 else IncidentFactory(team=teams[n % 2]))
        _item(postmortem=pm, due=date(2026, 10, 1 + n), owner=UserFactory())
    today = date(2026, 10, 4)
    for viewer in (PUBLIC_ONLY, member, UserFactory()):
        by_owner = metrics.open_items_grid(ORG, viewer, today)
        by_team = metrics.open_items_grid(ORG, viewer, today, owners=False)
        assert metrics.open_by_team(ORG, viewer, today, by_team) == metrics.open_by_team(
            ORG, viewer, today, by_owner
        )
        assert len(by_team) == 2 < len(by_owner)
