"""The bench organisation: how big it is at a scale, building it, reusing it, dropping it.

At scale 1 the dataset has 20,000 incidents, 200,000 timeline events, 60,000 action items,
2,000 users, 40 teams and 200 services; everything scales linearly, with small minimums. It is
bulk loaded (COPY on PostgreSQL, see loading.py), bypassing services, but with incident numbers
and postmortem requirements set exactly as the services would. Every bench row is marked:
usernames, team and service slugs and pattern labels start with "bench-", so the dataset lives
beside real or demo data and is reused across runs.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cached_property

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.signals import m2m_changed, post_delete, pre_delete
from django.utils import timezone

from actions import digests, figure_rollups, rollups
from actions.figure_rollups import rebuild_figure_rollups
from actions.metrics import Period
from actions.models import (
    ActionItem,
    ActionItemEvent,
    Digest,
    RepeatsDay,
)
from actions.repeats import rebuild_repeat_flags
from actions.rollups import rebuild_dashboard_rollups
from incidents.models import Incident, Profile, Requirement, Service, Team, TimelineEvent
from incidents.policy import PATTERN_WINDOW, decide_postmortem
from incidents.services import FIRST_NUMBER
from incidents.widgets import forget_options
from postmortems.models import ContributingFactor, Postmortem

from .loading import insert

User = get_user_model()

PREFIX = "bench-"
MANAGER = "bench-manager"  # manages the first team
ENGINEER = "bench-engineer"  # a plain member of the first team: the default page viewer
SEED = 7
BATCH = 2000
HISTORY = timedelta(days=730)
SEARCH_WORD = "latency"  # appears in about one title in six

# Sizes at scale 1, and the floor below which a tiny scale stops making sense.
FULL_SIZE = {
    "users": 2000,
    "teams": 40,
    "services": 200,
    "incidents": 20_000,
    "timeline_events": 200_000,
    "action_items": 60_000,
}
MINIMUM_SIZE = {
    "users": 10,
    "teams": 3,
    "services": 6,
    "incidents": 20,
    "timeline_events": 200,
    "action_items": 60,
}


def plan_for(scale: float) -> dict[str, int]:
    """Row counts for a scale: linear, never below the minimums."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    return {name: max(MINIMUM_SIZE[name], round(full * scale)) for name, full in FULL_SIZE.items()}


def dataset_rows() -> dict[str, int]:
    """How many bench rows of each kind the database holds now."""
    incidents = Incident.objects.filter(team__slug__startswith=PREFIX)
    return {
        "users": User.objects.filter(username__startswith=PREFIX).count(),
        "teams": Team.objects.filter(slug__startswith=PREFIX).count(),
        "services": Service.objects.filter(slug__startswith=PREFIX).count(),
        "incidents": incidents.count(),
        "timeline_events": TimelineEvent.objects.filter(incident__in=incidents).count(),
        "postmortems": Postmortem.objects.filter(incident__in=incidents).count(),
        "action_items": ActionItem.objects.filter(postmortem__incident__in=incidents).count(),
    }


def dataset_matches(scale: float, rows: dict[str, int] | None = None) -> bool:
    rows = rows if rows is not None else dataset_rows()
    return all(rows[name] == count for name, count in plan_for(scale).items())


@contextmanager
def delete_signals_muted() -> Iterator[None]:
    """Delete without the audit trail's receivers.

    With a delete receiver connected, Django's collector loads every doomed row and the trail
    writes an entry for each (minutes at scale 1, an hour at scale 5); without them it deletes
    table by table with one statement each. Bench rows are not history worth auditing.
    """
    saved = {}
    for signal in (pre_delete, post_delete, m2m_changed):
        saved[signal] = signal.receivers
        signal.receivers = []
        signal.sender_receivers_cache.clear()
    try:
        yield
    finally:
        for signal, receivers in saved.items():
            signal.receivers = receivers
            signal.sender_receivers_cache.clear()


def drop_dataset() -> None:
    """Delete every bench row; real and demo data are untouched."""
    with transaction.atomic(), delete_signals_muted():
        Incident.objects.filter(team__slug__startswith=PREFIX).delete()
        Service.objects.filter(slug__startswith=PREFIX).delete()
        Team.objects.filter(slug__startswith=PREFIX).delete()
        User.objects.filter(username__startswith=PREFIX).delete()


def ensure_dataset(scale: float, *, rebuild: bool = False, log=print) -> dict[str, int]:
    """Reuse the bench dataset if it is already at this scale, otherwise (re)build it."""
    rows = dataset_rows()
    if not rebuild and dataset_matches(scale, rows):
        log(f"Reusing the bench dataset at scale {scale:g}.")
        refresh_stored(log)
        analyze(vacuum=True)
        return rows
    if rows["users"] or rows["teams"]:
        started = time.perf_counter()
        drop_dataset()
        log(f"Dropped the previous bench dataset in {time.perf_counter() - started:.1f} s.")
    started = time.perf_counter()
    build_dataset(scale, log=log)
    log(f"Built the bench dataset at scale {scale:g} in {time.perf_counter() - started:.1f} s.")
    # Statistics first: without them judging the repeat flags picks nested loops over the
    # whole history (scale 1: 118 s, against 10 s with them).
    analyze()
    refresh_stored(log)
    analyze(vacuum=True)
    return dataset_rows()


# Rebuilders of stored, derived data (rollups, search columns) that bulk loading bypasses. Each
# takes no argument and returns a short description of what it did; run in order after every
# build and on reuse (a migration may have added a column since the data was loaded).
def forget_filter_options() -> str:
    """Teams and services loaded without save signals: the filter selects read them again."""
    for model in (Team, Service):
        forget_options(model)
    return "filter options forgotten"


def store_digests() -> str:
    """The digests of the month before last, for the organisation and every team, as the
    monthly job would have stored them (figures only: no email, no ledger row), so the digest
    list shows a full page. Last month is left to the monthly digest job the bench measures.
    Computed once: 9 s at scale 1, about 90 s at scale 5."""
    period = Period.previous_month(Period.previous_month(timezone.now().date()).start)
    have = set(Digest.objects.filter(period=period.label).values_list("scope", flat=True))
    missing = [scope for scope in digests.scopes() if scope.key not in have]
    Digest.objects.bulk_create(
        [
            Digest(
                period=period.label,
                team=scope.team,
                scope=scope.key,
                figures=digests.compute_figures(period, scope),
            )
            for scope in missing
        ],
        ignore_conflicts=True,
    )
    return f"{len(missing)} digests of {period.label} stored"


AFTER_LOAD: list = [
    rebuild_repeat_flags,
    rebuild_dashboard_rollups,
    rebuild_figure_rollups,
    forget_filter_options,
    store_digests,
]


def refresh_stored(log=print) -> None:
    for rebuild in AFTER_LOAD:
        started = time.perf_counter()
        done = rebuild()
        log(f"  {done or rebuild.__name__} in {time.perf_counter() - started:.1f} s")


def analyzed_tables() -> set[str]:
    """What `analyze` refreshes: the tables the bench loads and every table refresh_stored()
    rewrites on each run (the rollups, the stored digests)."""
    models = [User, Profile, Team, Service, Incident, TimelineEvent, Postmortem]
    models += [ContributingFactor, ActionItem, ActionItemEvent]
    # The stored data: rewritten on every run, so left out they grew dead rows each time
    # (five for each live one after a few runs) and their readers slowed with each.
    models += [*rollups.ROLLUPS, RepeatsDay, Digest]
    models += [m for kind in figure_rollups.KINDS for m in (kind.day_model, kind.month_model)]
    tables = {m._meta.db_table for m in models}
    for m2m in (Team.members, Team.managers, Incident.services, Incident.members):
        tables.add(m2m.through._meta.db_table)
    tables.add(Postmortem.reviewers.through._meta.db_table)
    return tables


def analyze(vacuum: bool = False) -> None:
    """Refresh PostgreSQL's planner statistics, as autovacuum would have in production.

    With `vacuum`, VACUUM (ANALYZE): the dead rows rebuilding the stored data leaves behind
    (every rollup row, on every run) are reclaimed and the visibility map is set, so
    index-only scans read the index alone, as they do where autovacuum runs (the bench
    server has it off: without this, each run left the rollup tables larger and every
    index-only scan fetched each row from the table; covering indexes such as
    incident_private_cover and incident_owed_resolved were never read alone).

    Straight after a bulk load the planner still believes the tables are nearly empty and picks
    nested loops over thousands of rows; measuring that would mislead. (SQLite gathers no
    statistics unless asked, and Django never asks, so it is measured as deployed.)
    """
    if connection.vendor != "postgresql":
        return
    tables = analyzed_tables()
    with connection.cursor() as cursor:
        names = ", ".join(connection.ops.quote_name(t) for t in sorted(tables))
        # VACUUM cannot run in a transaction (a test's): there, statistics alone.
        vacuum = vacuum and not connection.in_atomic_block
        cursor.execute(f"VACUUM (ANALYZE) {names}" if vacuum else f"ANALYZE {names}")


# --- Building -----------------------------------------------------------------------------

FIRST_NAMES = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Farid",
    "Gita",
    "Hugo",
    "Ines",
    "Jonas",
    "Kaito",
    "Lena",
    "Marco",
    "Nadia",
    "Omar",
    "Paula",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Xavi",
    "Yara",
    "Zoe",
    "Amir",
    "Bea",
    "Caleb",
    "Dana",
    "Emeka",
    "Freya",
    "Goran",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Luz",
    "Mika",
    "Nils",
]
LAST_NAMES = [
    "Abbott",
    "Baker",
    "Castro",
    "Dubois",
    "Eriksen",
    "Fontaine",
    "Gupta",
    "Hoang",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Osei",
    "Park",
    "Quispe",
    "Russo",
    "Sato",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Adeyemi",
    "Berg",
    "Costa",
    "Dimitrov",
    "Evans",
    "Ferrari",
    "Garcia",
    "Haddad",
    "Iqbal",
    "Jovanovic",
    "Kim",
    "Larsen",
    "Mendes",
    "Novak",
    "Ortiz",
    "Petrov",
    "Quinn",
    "Rahman",
    "Silva",
    "Torres",
    "Usman",
    "Volkov",
    "Wright",
    "Young",
]
TEAM_WORDS = [
    "Payments",
    "Checkout",
    "Platform",
    "Identity",
    "Data",
    "Mobile",
    "Search",
    "Billing",
    "Growth",
    "Messaging",
    "Storage",
    "Network",
    "Ledger",
    "Catalog",
    "Pricing",
    "Fraud",
    "Support",
    "Reporting",
    "Edge",
    "Observability",
]
SERVICE_WORDS = [
    "api",
    "worker",
    "gateway",
    "store",
    "queue",
    "web",
    "cache",
    "scheduler",
    "sync",
    "exporter",
]
ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Tokyo"]
SYMPTOMS = [
    "elevated 5xx errors",
    "p99 latency above SLO",
    "database connection timeouts",
    "queue backlog growing",
    "deploy rollback failed",
    "internal certificate expired",
    "memory pressure and pod restarts",
    "stale cache entries served",
    "DNS resolution failures",
    "disk usage above 90%",
    "login latency spike",
    "events dropped by consumer",
]
EVENT_TEXTS = {
    "trigger": [
        ("deploy", "Release {sha} of {service} rolled out"),
        ("git", "PR #{pr} merged to {service}"),
        ("log", "{service} error rate rising"),
    ],
    "detection": [
        ("alert", "Alert {service}ErrorRate fired"),
        ("chat", "@{user} acknowledged the page"),
        ("chat", "@{user} declared the incident and took command"),
    ],
    "diagnosis": [
        ("log", "{service} logs show connection pool exhausted"),
        ("chat", "@{user} linked the errors to release {sha}"),
        ("chat", "@{user} checked dashboards: only {service} affected"),
        ("log", "Slow query log: sequential scan on the hot table"),
    ],
    "mitigation": [
        ("deploy", "Release {sha} rolled back"),
        ("chat", "@{user} scaled {service} from 6 to 12 replicas"),
        ("deploy", "Feature flag disabled for all users"),
    ],
    "resolution": [("alert", "Alert {service}ErrorRate resolved; metrics at baseline")],
}
ITEM_TITLES = [
    "Reject out-of-range connection limits in the {service} config schema",
    "Add a canary stage to {service} config releases",
    "Alert on {service} error rate over a 2-minute window",
    "Annotate {service} dashboards with deploys and config releases",
    "Write a rollback runbook for {service}",
    "Set a lock timeout on {service} migrations",
]
BLOCKED_REASON = "Waiting on the vendor to support the new API version."
WONT_DO_REASON = "Superseded by the platform migration that removes this component."
DUE_DAYS = {0: 2, 1: 14, 2: 30, 3: 90}
# Status weights: items past their due date are mostly finished, the rest are overdue.
PAST_DUE_MIX = {"done": 70, "wont_do": 8, "open": 8, "in_progress": 7, "blocked": 7}
NOT_YET_DUE_MIX = {"done": 14, "wont_do": 3, "open": 40, "in_progress": 33, "blocked": 10}


@contextmanager
def keeping_created_at(*models) -> Iterator[None]:
    """Let bulk_create write our created_at: auto_now_add would stamp every row with now."""
    fields = [m._meta.get_field("created_at") for m in models]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def build_dataset(scale: float, *, now: datetime | None = None, log=print) -> dict[str, int]:
    """Write a bench organisation at this scale (the caller drops any previous one)."""
    return _Builder(plan_for(scale), now or timezone.now(), log).build()


class _Builder:
    def __init__(self, plan: dict[str, int], now: datetime, log):
        self.plan = plan
        self.now = now
        self.today = timezone.localdate(now)
        self.rng = random.Random(SEED)
        self.log = log

    def build(self) -> dict[str, int]:
        with transaction.atomic(), keeping_created_at(Incident, Postmortem, ActionItem):
            self._step("users", self._users)
            self._step("teams and services", self._teams_and_services)
            self._step("incidents", self._incidents)
            self._step("timeline events", self._timelines)
            self._step("postmortems and factors", self._postmortems)
            self._step("action items", self._action_items)
        return dataset_rows()

    def _step(self, label: str, work: Callable[[], int]) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        count = work()
        self.log(
            f"  {label}: {count:,} rows in {time.perf_counter() - started:.1f} s "
            f"({time.process_time() - cpu:.1f} s of it in Python)"
        )

    # People and teams -----------------------------------------------------------------

    def _users(self) -> int:
        rng, count = self.rng, self.plan["users"]
        password = make_password(None)  # bench users never log in with a password
        names = [(f, last) for last in LAST_NAMES for f in FIRST_NAMES]
        users = []
        for i in range(count):
            first, last = names[i % len(names)]
            username = {0: MANAGER, self.plan["teams"]: ENGINEER}.get(i, f"{PREFIX}{i:05d}")
            users.append(
                User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@bench.example.com",
                    password=password,
                )
            )
        self.users = insert(User, users, batch_size=BATCH)
        # Bulk loading skips the signal that makes profiles.
        insert(
            Profile,
            [Profile(user=u, timezone=rng.choice(ZONES)) for u in self.users],
            batch_size=BATCH,
        )
        return len(self.users)

    def _teams_and_services(self) -> int:
        rng, n_teams = self.rng, self.plan["teams"]
        teams = [
            Team(
                name=f"Bench {TEAM_WORDS[i % len(TEAM_WORDS)]} {i:03d}",
                slug=f"{PREFIX}team-{i:03d}",
            )
            for i in range(n_teams)
        ]
        self.teams = insert(Team, teams)
        # User i belongs to team i % n (so the manager, user 0, and the engineer, user n, are
        # both in the first team); some people belong to a second team too.
        self.members = defaultdict(list)
        for i, user in enumerate(self.users):
            self.members[i % n_teams].append(user)
            if rng.random() < 0.15:
                self.members[rng.randrange(n_teams)].append(user)
        self.members = {t: list(dict.fromkeys(users)) for t, users in self.members.items()}
        member_rows = [
            Team.members.through(team_id=self.teams[t].pk, user_id=u.pk)
            for t, users in self.members.items()
            for u in users
        ]
        insert(Team.members.through, member_rows, batch_size=BATCH)
        # One manager per team: the first user of each team's slice, never the engineer.
        manager_rows = [
            Team.managers.through(team_id=team.pk, user_id=self.users[t % len(self.users)].pk)
            for t, team in enumerate(self.teams)
        ]
        insert(Team.managers.through, manager_rows, batch_size=BATCH)
        services = [
            Service(
                name=f"{PREFIX}{SERVICE_WORDS[i % len(SERVICE_WORDS)]}-{i:03d}",
                slug=f"{PREFIX}{SERVICE_WORDS[i % len(SERVICE_WORDS)]}-{i:03d}",
                team=self.teams[i % n_teams],
            )
            for i in range(self.plan["services"])
        ]
        self.services = insert(Service, services)
        self.team_services = defaultdict(list)
        for service in self.services:
            self.team_services[service.team_id].append(service)
        return len(teams) + len(member_rows) + len(manager_rows) + len(services)

    # Incidents ------------------------------------------------------------------------

    def _incidents(self) -> int:
        rng, n = self.rng, self.plan["incidents"]
        top = Incident.objects.aggregate(top=Max("number"))["top"] or FIRST_NUMBER - 1
        # One Sev3 pattern of the first team recurs every 20 days, so its third occurrence
        # needs a full postmortem, as the policy says; other patterns recur by chance.
        recurring = {self.now - timedelta(days=200 - 20 * k) for k in range(4)}
        starts = sorted(
            [
                self.now - timedelta(seconds=rng.uniform(600, HISTORY.total_seconds()))
                for _ in range(n - len(recurring))
            ]
            + list(recurring)
        )
        # The busy incident: the first team's, resolved weeks ago, public, with a long timeline.
        self.busy_index = max(
            i
            for i, s in enumerate(starts)
            if s < self.now - timedelta(days=21) and s not in recurring
        )
        pattern_pool = max(1, n // 50)
        recent_sev3: dict[str, deque] = defaultdict(deque)
        incidents, service_rows, member_rows = [], [], []
        self.postmortem_status: list[str | None] = []
        for i, started in enumerate(starts):
            first_team = i == self.busy_index or started in recurring
            team_index = 0 if first_team else rng.randrange(len(self.teams))
            incident = self._incident(i, started, team_index, top + 1 + i)
            if started in recurring:
                incident.severity, incident.pattern = 3, f"{PREFIX}pattern-recurring"
            elif incident.severity == 3 and rng.random() < 0.35:
                incident.pattern = f"{PREFIX}pattern-{rng.randrange(pattern_pool)}"
            earlier = 0
            if incident.pattern:
                window = recent_sev3[incident.pattern]
                while window and window[0] < started - PATTERN_WINDOW:
                    window.popleft()
                earlier = len(window)
                window.append(started)
            decision = decide_postmortem(incident, now=self.now, earlier_sev3_same_pattern=earlier)
            incident.postmortem_requirement = decision.level
            incident.postmortem_reason = decision.reason[:300]
            # Decided now so an incident with a published postmortem is inserted as closed.
            self.postmortem_status.append(self._postmortem_status(incident, i))
            if self.postmortem_status[-1] == Postmortem.Status.PUBLISHED:
                incident.status = Incident.Status.CLOSED
            incidents.append(incident)
        self.incidents = insert(Incident, incidents, batch_size=BATCH)
        for incident in self.incidents:
            team_services = self.team_services[incident.team_id]
            for service in rng.sample(team_services, min(len(team_services), rng.randint(1, 2))):
                service_rows.append(
                    Incident.services.through(incident_id=incident.pk, service_id=service.pk)
                )
            if incident.private:
                people = {incident.commander, incident.created_by}
                team_people = self.members[self._team_index(incident)]
                people.update(rng.sample(team_people, min(2, len(team_people))))
                member_rows += [
                    Incident.members.through(incident_id=incident.pk, user_id=u.pk) for u in people
                ]
        insert(Incident.services.through, service_rows, batch_size=BATCH)
        insert(Incident.members.through, member_rows, batch_size=BATCH)
        return len(self.incidents)

    def _team_index(self, incident: Incident) -> int:
        return self.team_position[incident.team_id]

    @cached_property
    def team_position(self) -> dict[int, int]:
        return {team.pk: i for i, team in enumerate(self.teams)}

    def _incident(self, i: int, started: datetime, team_index: int, number: int) -> Incident:
        rng = self.rng
        team = self.teams[team_index]
        people = self.members[team_index]
        service = rng.choice(self.team_services[team.pk])
        severity = rng.choices([1, 2, 3], weights=[8, 27, 65])[0]
        detect = rng.randint(1, 25)
        mitigate = detect + rng.randint(5, 180)
        resolve = mitigate + rng.randint(5, 240)
        minutes_ago = (self.now - started).total_seconds() / 60
        status = Incident.Status.RESOLVED
        mitigated_at = started + timedelta(minutes=mitigate)
        resolved_at = started + timedelta(minutes=resolve)
        if minutes_ago < resolve:
            resolved_at = None
            status = Incident.Status.MITIGATED if minutes_ago > mitigate else "investigating"
            if status == "investigating":
                mitigated_at = None
        detected_at = started + timedelta(minutes=min(detect, minutes_ago))
        security = rng.random() < 0.02 and i != self.busy_index
        symptom = rng.choice(SYMPTOMS)
        users = rng.randrange(100, 50_000)
        return Incident(
            number=number,
            title=f"{service.name}: {symptom}",
            summary=(
                f"{service.name} showed {symptom} for {resolve} minutes; about {users:,} users "
                f"were affected before a rollback restored service."
            ),
            severity=severity,
            status=status,
            customer_facing=severity < 3 and rng.random() < 0.6,
            near_miss=rng.random() < 0.03,
            data_loss=rng.random() < 0.01,
            security=security,
            manual_intervention=rng.random() < 0.1,
            escalated=rng.random() < 0.08,
            started_at=started,
            detected_at=detected_at,
            mitigated_at=mitigated_at,
            resolved_at=resolved_at,
            requests_failed=rng.randrange(0, 500_000),
            users_affected=users,
            regions=rng.choice(["eu-west-1", "us-east-1", "eu-west-1, us-east-1"]),
            team=team,
            commander=rng.choice(people),
            created_by=rng.choice(people),
            private=security or (rng.random() < 0.01 and i != self.busy_index),
            created_at=started + timedelta(minutes=detect + 2),
        )

    def _postmortem_status(self, incident: Incident, i: int) -> str | None:
        """Most resolved incidents get a postmortem; older ones are mostly published."""
        if i == self.busy_index:
            return Postmortem.Status.PUBLISHED
        if not incident.resolved_at:
            return None
        chance = {Requirement.REQUIRED: 0.92, Requirement.RECOMMENDED: 0.75}
        if self.rng.random() > chance.get(incident.postmortem_requirement, 0.65):
            return None
        age = (self.now - incident.resolved_at).days
        if age < 2:
            return Postmortem.Status.DRAFT
        if age < 7:
            return self.rng.choice([Postmortem.Status.DRAFT, Postmortem.Status.IN_REVIEW])
        return self.rng.choices(
            [Postmortem.Status.PUBLISHED, Postmortem.Status.IN_REVIEW, Postmortem.Status.DRAFT],
            weights=[88, 5, 7],
        )[0]

    # Timelines ------------------------------------------------------------------------

    def _timelines(self) -> int:
        rng, n = self.rng, len(self.incidents)
        total = self.plan["timeline_events"]
        busy = min(150, total // 10)
        counts = [0] * n
        counts[self.busy_index] = busy
        base = min(3, (total - busy) // n)
        for i in range(n):
            counts[i] += base
        for _ in range(total - sum(counts)):
            counts[rng.randrange(n)] += 1
        written = 0
        # In slices, so 200,000 unsaved events never sit in memory at once.
        for first in range(0, n, 1000):
            events = []
            for i in range(first, min(first + 1000, n)):
                events += self._timeline(self.incidents[i], counts[i])
            insert(TimelineEvent, events, batch_size=BATCH)
            written += len(events)
        return written

    def _timeline(self, incident: Incident, count: int) -> list[TimelineEvent]:
        rng = self.rng
        start = incident.started_at
        end = incident.resolved_at or self.now
        span = (end - start).total_seconds()
        phases = ["trigger", "detection", "diagnosis", "mitigation", "resolution"]
        if not incident.resolved_at:
            phases = phases[:3]
        people = self.members[self._team_index(incident)]
        events = []
        for k in range(count):
            # Spread evenly through the incident, phases in order, with a little jitter.
            share = (k + rng.random() * 0.9) / count
            phase = phases[min(int(share * len(phases)), len(phases) - 1)]
            source, text = rng.choice(EVENT_TEXTS[phase])
            author = rng.choice(people)
            events.append(
                TimelineEvent(
                    incident=incident,
                    occurred_at=start + timedelta(seconds=span * share),
                    text=text.format(
                        service=incident.title.split(":")[0],
                        user=author.username,
                        sha=f"{rng.getrandbits(28):07x}",
                        pr=rng.randint(100, 9999),
                    ),
                    source=source,
                    phase=phase,
                    author=author,
                )
            )
        return events

    # Postmortems ----------------------------------------------------------------------

    def _postmortems(self) -> int:
        rng = self.rng
        postmortems = [
            self._postmortem(incident, status)
            for incident, status in zip(self.incidents, self.postmortem_status, strict=True)
            if status
        ]
        self.postmortems = insert(Postmortem, postmortems, batch_size=BATCH)
        reviewers = []
        factors = []
        categories = ContributingFactor.Category.values
        for postmortem in self.postmortems:
            people = self.members[self._team_index(postmortem.incident)]
            for user in rng.sample(people, min(2, len(people))):
                reviewers.append(
                    Postmortem.reviewers.through(postmortem_id=postmortem.pk, user_id=user.pk)
                )
            for position in range(rng.randint(1, 4)):
                whys = []
                if rng.random() < 0.4:
                    whys = [
                        {
                            "text": "Why did the change reach every instance at once?",
                            "children": [
                                {"text": "The pipeline has no canary stage.", "children": []}
                            ],
                        }
                    ]
                factors.append(
                    ContributingFactor(
                        postmortem=postmortem,
                        category=rng.choice(categories),
                        description="A config value was accepted without a range check.",
                        whys=whys,
                        position=position,
                    )
                )
        insert(Postmortem.reviewers.through, reviewers, batch_size=BATCH)
        insert(ContributingFactor, factors, batch_size=BATCH)
        return len(self.postmortems) + len(reviewers) + len(factors)

    def _postmortem(self, incident: Incident, status: str) -> Postmortem:
        rng = self.rng
        written = min(incident.resolved_at + timedelta(hours=rng.randint(2, 30)), self.now)
        review = published = None
        if status != Postmortem.Status.DRAFT:
            review = min(written + timedelta(days=rng.randint(1, 3)), self.now)
        if status == Postmortem.Status.PUBLISHED:
            published = min(review + timedelta(days=rng.randint(1, 4)), self.now)
        minutes = int((incident.resolved_at - incident.started_at).total_seconds() // 60)
        service = incident.title.split(":")[0]
        return Postmortem(
            incident=incident,
            status=status,
            author=incident.commander,
            created_at=written,
            review_started_at=review,
            published_at=published,
            version=rng.randint(2, 30),
            # Realistic lengths matter: list pages load these columns too.
            summary=(
                f"{incident.summary} Detection took {incident.time_to_detect} and the incident "
                f"lasted {minutes} minutes in total. The change was rolled back and the service "
                "recovered without data loss."
            ),
            impact=(
                f"- {incident.requests_failed:,} failed requests\n"
                f"- {incident.users_affected:,} users affected in {incident.regions}\n"
                f"- {rng.randint(2, 60)}% of the monthly error budget of {service} burned\n"
            ),
            root_cause=(
                f"A configuration change to {service} set a connection limit that the schema "
                "accepted without a range check. Under normal traffic the limit was reached "
                "within minutes, and requests queued until they timed out. " * 2
            ),
            detection=(
                "The error-rate alert uses a 10-minute window, so it fired late; config releases "
                "are not annotated on dashboards, so correlating took a while."
            ),
            went_well="- The rollback was quick once the change was found.\n- Comms were clear.",
            went_poorly="- Finding the change took too long.\n- The status page lagged.",
            lessons=(
                "Config is code: validate it and roll it out in stages. Alerts must fire within "
                "minutes for a total outage."
            ),
        )

    # Action items ---------------------------------------------------------------------

    def _action_items(self) -> int:
        rng, total = self.rng, self.plan["action_items"]
        statuses = ActionItem.Status
        per_postmortem = [0] * len(self.postmortems)
        for _ in range(total):
            per_postmortem[rng.randrange(len(self.postmortems))] += 1
        items, written = [], 0
        for postmortem, count in zip(self.postmortems, per_postmortem, strict=True):
            people = self.members[self._team_index(postmortem.incident)]
            for _ in range(count):
                priority = rng.choices([0, 1, 2, 3], weights=[5, 35, 40, 20])[0]
                created = min(postmortem.created_at + timedelta(days=rng.randint(0, 3)), self.now)
                due = created.date() + timedelta(days=DUE_DAYS[priority] + rng.randint(-1, 10))
                mix = PAST_DUE_MIX if due < self.today else NOT_YET_DUE_MIX
                status = rng.choices(list(mix), weights=list(mix.values()))[0]
                owner = rng.choice(people)
                key = f"BENCH-{written + len(items) + 1}"
                service = postmortem.incident.title.split(":")[0]
                item = ActionItem(
                    postmortem=postmortem,
                    title=rng.choice(ITEM_TITLES).format(service=service),
                    owner=owner,
                    due_on=due,
                    priority=priority,
                    leverage=rng.choice(ActionItem.Leverage.values),
                    status=status,
                    ticket_key=key,
                    ticket_url=f"https://tracker.example.com/browse/{key}",
                    created_by=postmortem.author,
                    created_at=created,
                )
                if status == statuses.DONE:
                    latest = min(
                        timezone.make_aware(datetime.combine(due, datetime.min.time()))
                        + timedelta(days=rng.choice([0, 0, 0, 7])),
                        self.now,
                    )
                    item.completed_at = max(created, latest - timedelta(days=rng.randint(0, 5)))
                    item.completed_by = owner
                elif status == statuses.BLOCKED:
                    item.reason = BLOCKED_REASON
                elif status == statuses.WONT_DO:
                    item.reason = WONT_DO_REASON
                items.append(item)
            if len(items) >= BATCH * 5:
                written += len(insert(ActionItem, items, batch_size=BATCH))
                items = []
        written += len(insert(ActionItem, items, batch_size=BATCH))
        return written
