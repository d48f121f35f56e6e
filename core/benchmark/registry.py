"""What the benchmark measures: the main pages and jobs, each with the realistic user and object
to request it with, and for pages their floor (the page's main SQL alone).

Floors use the same QuerySet methods and FilterSets as the views, so they follow changes. Adding
a page or a job is a few lines appended to REGISTRY, in the section of its app.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from actions import jobs, metrics
from actions.dashboard.figures import Dashboard
from actions.dashboard.params import utc_today
from actions.dashboard.views import analytics
from actions.filters import ActionItemFilter
from actions.models import ActionItem
from incidents import permissions
from incidents.filters import IncidentFilter
from incidents.models import Incident, Service, Team
from incidents.paging import paginate_list
from postmortems.models import MeetingAttendee, MeetingCapture, Postmortem, ReviewMeeting

from .dataset import SEARCH_WORD
from .measuring import Bench, BenchmarkError, Job, Page, QueryCounter, percentile, to_ms
from .visitor import Visitor


def url(name: str, params: dict | None = None, args=()) -> str:
    path = reverse(name, args=args)
    return f"{path}?{urlencode(params, doseq=True)}" if params else path


def first_page(queryset, counted=None) -> list:
    """What `incidents.paging.paginate_list` runs for page 1: the capped count, then the rows."""
    return list(paginate_list(HttpRequest(), queryset, counted=counted).object_list)


def incident_rows(bench: Bench, params: dict) -> list:
    queryset = Incident.objects.visible_to(bench.engineer).for_list()
    rows = IncidentFilter(params, queryset=queryset).qs.order_by("-started_at", "-pk")
    return first_page(rows, counted=rows)


def action_rows(bench: Bench, params: dict, *, mine: bool = False) -> list:
    user = bench.engineer
    queryset = ActionItem.objects.all()
    if mine:
        queryset = queryset.filter(owner=user)
    filtered = ActionItemFilter(params, queryset=queryset.for_list_rows()).qs
    rows = filtered.visible_to(user).order_by("due_on", "priority", "pk")
    return first_page(rows, counted=filtered.listed_for(user))


def incident_search(bench: Bench) -> dict:
    return {"severity": ["1", "2"], "team": bench.team.slug, "q": SEARCH_WORD}


def incident_detail_rows(bench: Bench) -> list:
    number = bench.busy_incident.number
    incident = Incident.objects.visible_to(bench.engineer).get(number=number)
    return list(incident.timeline.select_related("author"))


def postmortem_rows(bench: Bench) -> list:
    postmortems = Postmortem.objects.for_list()
    rows = postmortems.visible_to(bench.engineer).order_by("-incident__started_at", "-pk")
    return first_page(rows, counted=postmortems.listed_for(bench.engineer).order_by())


def postmortem_detail_rows(bench: Bench) -> list:
    number = bench.busy_incident.number
    postmortem = Postmortem.objects.visible_to(bench.engineer).get(incident__number=number)
    return list(postmortem.action_items.select_related("owner"))


REGISTRY: list[Page | Job] = [
    Page(
        "incident list",
        url=lambda b: url("incidents:list"),
        floor=lambda b: incident_rows(b, {}),
    ),
    Page(
        "incident list filtered",
        url=lambda b: url("incidents:list", incident_search(b)),
        floor=lambda b: incident_rows(b, incident_search(b)),
    ),
    Page(
        "incident list postmortems owed",
        url=lambda b: url("incidents:list", {"postmortem": "owed"}),
        floor=lambda b: incident_rows(b, {"postmortem": "owed"}),
    ),
    Page(
        "incident detail",
        url=lambda b: b.busy_incident.get_absolute_url(),
        floor=incident_detail_rows,
    ),
    Page(
        "my action items",
        url=lambda b: url("actions:mine"),
        floor=lambda b: action_rows(b, {}, mine=True),
    ),
    Page(
        "action items",
        url=lambda b: url("actions:list"),
        floor=lambda b: action_rows(b, {}),
    ),
    Page(
        "action items overdue",
        url=lambda b: url("actions:list", {"overdue": "on"}),
        floor=lambda b: action_rows(b, {"overdue": "on"}),
    ),
    Page("postmortem list", url=lambda b: url("postmortems:list"), floor=postmortem_rows),
    # The timezone picker (600 zones) and the people search that replaced every-user datalists.
    Page("preferences", url=lambda b: url("incidents:preferences")),
    Page("people search", url=lambda b: url("incidents:people", {"q": "ad"})),
    Page(
        "postmortem detail",
        url=lambda b: url("postmortems:detail", args=[b.busy_incident.number]),
        floor=postmortem_detail_rows,
    ),
]


# Action items: reminders and the monthly digest at scale (jobs run inline, as the commands do).
def _reminder_sweep(bench: Bench) -> dict:
    # 20:00 UTC: past the reminder hour of every owner west of UTC+11.
    now = timezone.now().replace(hour=20, minute=0, second=0, microsecond=0)
    summary = jobs.run_reminders(now)
    return {"owners": len(summary.recipients), "items": summary.items}


def _monthly_digest(bench: Bench) -> dict:
    summary = jobs.run_digests(today=timezone.now().date())
    return {"recipients": len(summary.recipients)}


REGISTRY += [
    Page(
        "team action items",
        url=lambda b: url("actions:team"),
        user=lambda b: b.manager,
    ),
    Page(
        "action item detail",
        url=lambda b: (
            ActionItem.objects.filter(postmortem__incident__private=False)
            .order_by("pk")
            .first()
            .get_absolute_url()
        ),
    ),
    Page("digest list", url=lambda b: url("actions:digests")),
    Job("reminder sweep", run=_reminder_sweep),
    Job("monthly digest", run=_monthly_digest),
]


# Postmortems: the editor page (every section, factors, items, review, related suggestions).
REGISTRY += [
    Page(
        "postmortem editor",
        url=lambda b: url("postmortems:edit", args=[b.busy_incident.number]),
        floor=postmortem_detail_rows,
    ),
    Page(
        "postmortem history",
        url=lambda b: url("postmortems:history", args=[b.busy_incident.number]),
    ),
]


# Review meetings: the presentation view and what 30 followers' polls cost (postmortems app).
FOLLOWERS = 30


def _bench_meeting(bench: Bench):
    """A live review of the busiest incident, on its timeline step, driven by the engineer,
    with a team's worth of attendees and a few captures; made once and reused."""
    postmortem = bench.busy_incident.postmortem
    meeting = ReviewMeeting.objects.filter(
        postmortem=postmortem, facilitator=bench.engineer
    ).first()
    if meeting is not None:
        return meeting
    now = timezone.now()
    meeting = ReviewMeeting.objects.create(
        postmortem=postmortem,
        facilitator=bench.engineer,
        scheduled_at=now,
        started_at=now,
        running_since=now,
        step=1,
        step_times=[[0, 0] for _ in ReviewMeeting.AGENDA],
    )
    people = list(bench.team.members.order_by("pk")[:FOLLOWERS])
    MeetingAttendee.objects.bulk_create([MeetingAttendee(meeting=meeting, user=u) for u in people])
    MeetingCapture.objects.bulk_create(
        [
            MeetingCapture(
                meeting=meeting, kind="decision", version=v, step=1, text=f"Decision {v}"
            )
            for v in range(2, 12)
        ]
    )
    ReviewMeeting.objects.filter(pk=meeting.pk).update(version=11)
    return ReviewMeeting.objects.get(pk=meeting.pk)


def _meeting_url(bench: Bench, name: str) -> str:
    meeting = _bench_meeting(bench)
    return url(f"postmortems:{name}", args=[bench.busy_incident.number, meeting.pk])


def meeting_step_rows(bench: Bench) -> list:
    """The timeline step's rows: what the presentation view and a changed poll both render."""
    meeting = ReviewMeeting.objects.visible_to(bench.engineer).get(pk=_bench_meeting(bench).pk)
    return list(meeting.postmortem.incident.timeline.all())


def _followers_polling(bench: Bench) -> dict:
    """One round of polls from 30 followers while nothing changes: each answers 204."""
    meeting = _bench_meeting(bench)
    address = _meeting_url(bench, "meeting-state") + f"?v={meeting.version}"
    visitor = Visitor(bench.engineer, headers={"HX-Request": "true"})
    visitor.get(address)  # warm, like a follower's open page
    durations = []
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        for _ in range(FOLLOWERS):
            started = time.perf_counter()
            response = visitor.get(address)
            durations.append(time.perf_counter() - started)
            if response.status_code != 204:
                raise BenchmarkError(f"unchanged poll answered {response.status_code}")
    visitor.log_out()
    return {
        "polls": FOLLOWERS,
        "queries_per_poll": counter.count / FOLLOWERS,
        "poll_p50_ms": to_ms(statistics.median(durations)),
        "poll_p95_ms": to_ms(percentile(durations, 0.95)),
    }


REGISTRY += [
    Page(
        "meeting presentation",
        url=lambda b: _meeting_url(b, "meeting-present"),
        floor=meeting_step_rows,
    ),
    Page(
        "meeting poll changed",
        url=lambda b: _meeting_url(b, "meeting-state") + "?v=1",
        floor=meeting_step_rows,
        headers={"HX-Request": "true"},
    ),
    Job("meeting poll 30 followers", run=_followers_polling),
]


# The manager dashboard (actions/dashboard): a manager's default view (their first team, last
# 90 days), the organisation over 90 and 365 days, the recurrence figure the page loads after
# itself, a CSV and the slowest drill-down list.
def _dashboard_sql(bench: Bench, *, viewer, scope_key: str, days: int) -> None:
    """The floor: every metric query the dashboard page runs, in its transaction, nothing else
    (no figure shaping, no template)."""
    team = bench.team if scope_key != "org" else None
    scope = metrics.Scope(team=team) if team else metrics.ORG
    today = utc_today()
    period = metrics.Period.last(days, today)
    judged = metrics.Period(period.start, today - timedelta(days=1))
    list(Team.objects.all())
    list(Service.objects.select_related("team"))
    with analytics():
        sums = metrics.completion_sums(judged, scope, viewer)
        owners = permissions.can(viewer, "view_owner_counts", team)
        metrics.open_items_grid(scope, viewer, timezone.localdate(), owners=owners)
        owed = metrics.postmortems_owed(today, scope, viewer)
        owed.count()
        list(owed[:10])
        metrics.postmortem_figures(period, scope, viewer)
        metrics.items_by_priority_and_leverage(period, scope, viewer)
        list(metrics.postmortems_without_prevention(period, scope, viewer)[:10])
        metrics.incident_figures(period, scope, viewer)
        metrics.slippage_by_team(period, scope, viewer, sums=sums)


def _recurrence_sql(bench: Bench, *, days: int) -> None:
    """The floor of the recurrence figure, which the page loads after itself (htmx)."""
    period = metrics.Period.last(days, utc_today())
    with analytics():
        metrics.recurrence_by_month(period, metrics.ORG, bench.manager)


def _repeat_rows(bench: Bench) -> list:
    """What the repeat-incidents list runs: the flags the viewer judges, the count from the
    day counts, then the first page."""
    period = metrics.Period.last(90, utc_today())
    with analytics():
        judged = metrics.judged_for(period, metrics.ORG, bench.manager)
        rows = metrics.repeats(period, metrics.ORG, bench.manager, judged=judged)
        metrics.repeats_count(period, metrics.ORG, bench.manager, judged=judged)
        return list(rows[: settings.PAGE_SIZE])


# The figures a dashboard view asks for once it is shown (Dashboard.LATER), per view: its
# query and those figures (the recurrence figure is measured on its own below; the owners
# table is shown to the team's managers, and organisation-wide to admins only).
LATER = [key for key in Dashboard.LATER if key not in ("owners", "recurrence-month")]
LATER_FIGURES = [
    ("team 90d", {}, ["owners", *LATER]),
    ("org 90d", {"scope": "org", "range": "90"}, LATER),
    ("org 365d", {"scope": "org", "range": "365"}, LATER),
]

REGISTRY += [
    Page(
        "dashboard manager team 90d",
        url=lambda b: url("actions:dashboard"),
        floor=lambda b: _dashboard_sql(b, viewer=b.manager, scope_key="team", days=90),
        user=lambda b: b.manager,
    ),
    Page(
        "dashboard org 90d",
        url=lambda b: url("actions:dashboard", {"scope": "org", "range": "90"}),
        floor=lambda b: _dashboard_sql(b, viewer=b.manager, scope_key="org", days=90),
        user=lambda b: b.manager,  # the organisation dashboard is for managers and admins
    ),
    Page(
        "dashboard org 365d",
        url=lambda b: url("actions:dashboard", {"scope": "org", "range": "365"}),
        floor=lambda b: _dashboard_sql(b, viewer=b.manager, scope_key="org", days=365),
        user=lambda b: b.manager,
    ),
    # The figures the dashboard asks for once it is shown (Dashboard.LATER), each a request
    # of its own, for the three views above.
    *(
        Page(
            f"dashboard {view} figure {key}",
            url=lambda b, params=params, key=key: url("actions:dashboard-figure", params, [key]),
            headers={"HX-Request": "true"},
            user=lambda b: b.manager,
        )
        for view, params, keys in LATER_FIGURES
        for key in keys
    ),
    Page(
        "dashboard recurrence org 90d",
        url=lambda b: url(
            "actions:dashboard-figure", {"scope": "org", "range": "90"}, ["recurrence-month"]
        ),
        floor=lambda b: _recurrence_sql(b, days=90),
        headers={"HX-Request": "true"},
        user=lambda b: b.manager,
    ),
    Page(
        "dashboard recurrence org 365d",
        url=lambda b: url(
            "actions:dashboard-figure", {"scope": "org", "range": "365"}, ["recurrence-month"]
        ),
        floor=lambda b: _recurrence_sql(b, days=365),
        headers={"HX-Request": "true"},
        user=lambda b: b.manager,
    ),
    Page(
        # Counts per owner: the team's managers (organisation-wide: admins only).
        "dashboard csv owners team",
        url=lambda b: url(
            "actions:dashboard-csv", {"scope": f"team:{b.team.slug}"}, args=["owners"]
        ),
        user=lambda b: b.manager,
    ),
    Page(
        "dashboard repeats list org 90d",
        url=lambda b: url("actions:dashboard-rows", {"scope": "org", "range": "90"}, ["repeats"]),
        floor=_repeat_rows,
        user=lambda b: b.manager,
    ),
]
