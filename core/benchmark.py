"""Benchmark: build a large organisation, then time the main pages and jobs against it.

`manage.py bench --scale S` (`make bench`, SCALE=0.05 by default). At scale 1 the dataset has
20,000 incidents, 200,000 timeline events, 60,000 action items, 2,000 users, 40 teams and 200
services; everything scales linearly, with small minimums. It is written with bulk_create,
bypassing services, but with incident numbers and postmortem requirements set exactly as the
services would. Every bench row is marked: usernames, team and service slugs and pattern labels
start with "bench-", so the dataset lives beside real or demo data and is reused across runs.

Adding a page or a job is a few lines at the bottom of this file: see REGISTRY.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Count, Max
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from actions.filters import ActionItemFilter
from actions.models import ActionItem
from incidents.filters import IncidentFilter
from incidents.models import Incident, Profile, Requirement, Service, Team, TimelineEvent
from incidents.policy import PATTERN_WINDOW, decide_postmortem
from incidents.services import FIRST_NUMBER
from postmortems.models import ContributingFactor, Postmortem

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


def drop_dataset() -> None:
    """Delete every bench row; real and demo data are untouched."""
    with transaction.atomic():
        Incident.objects.filter(team__slug__startswith=PREFIX).delete()
        Service.objects.filter(slug__startswith=PREFIX).delete()
        Team.objects.filter(slug__startswith=PREFIX).delete()
        User.objects.filter(username__startswith=PREFIX).delete()


def ensure_dataset(scale: float, *, rebuild: bool = False, log=print) -> dict[str, int]:
    """Reuse the bench dataset if it is already at this scale, otherwise (re)build it."""
    rows = dataset_rows()
    if not rebuild and dataset_matches(scale, rows):
        log(f"Reusing the bench dataset at scale {scale:g}.")
        analyze()
        return rows
    if rows["users"] or rows["teams"]:
        started = time.perf_counter()
        drop_dataset()
        log(f"Dropped the previous bench dataset in {time.perf_counter() - started:.1f} s.")
    started = time.perf_counter()
    build_dataset(scale, log=log)
    log(f"Built the bench dataset at scale {scale:g} in {time.perf_counter() - started:.1f} s.")
    analyze()
    return dataset_rows()


def analyze() -> None:
    """Refresh PostgreSQL's planner statistics, as autovacuum would have in production.

    Straight after a bulk load the planner still believes the tables are nearly empty and picks
    nested loops over thousands of rows; measuring that would mislead. (SQLite gathers no
    statistics unless asked, and Django never asks, so it is measured as deployed.)
    """
    if connection.vendor != "postgresql":
        return
    models = [User, Profile, Team, Service, Incident, TimelineEvent, Postmortem]
    models += [ContributingFactor, ActionItem]
    tables = {m._meta.db_table for m in models}
    for m2m in (Team.members, Team.managers, Incident.services, Incident.members):
        tables.add(m2m.through._meta.db_table)
    tables.add(Postmortem.reviewers.through._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in sorted(tables)))


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
        started = time.perf_counter()
        count = work()
        self.log(f"  {label}: {count:,} rows in {time.perf_counter() - started:.1f} s")

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
        self.users = User.objects.bulk_create(users, batch_size=BATCH)
        # bulk_create skips the signal that makes profiles.
        Profile.objects.bulk_create(
            [Profile(user=u, timezone=rng.choice(ZONES)) for u in self.users], batch_size=BATCH
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
        self.teams = Team.objects.bulk_create(teams)
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
        Team.members.through.objects.bulk_create(member_rows, batch_size=BATCH)
        # One manager per team: the first user of each team's slice, never the engineer.
        manager_rows = [
            Team.managers.through(team_id=team.pk, user_id=self.users[t % len(self.users)].pk)
            for t, team in enumerate(self.teams)
        ]
        Team.managers.through.objects.bulk_create(manager_rows, batch_size=BATCH)
        services = [
            Service(
                name=f"{PREFIX}{SERVICE_WORDS[i % len(SERVICE_WORDS)]}-{i:03d}",
                slug=f"{PREFIX}{SERVICE_WORDS[i % len(SERVICE_WORDS)]}-{i:03d}",
                team=self.teams[i % n_teams],
            )
            for i in range(self.plan["services"])
        ]
        self.services = Service.objects.bulk_create(services)
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
        self.incidents = Incident.objects.bulk_create(incidents, batch_size=BATCH)
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
        Incident.services.through.objects.bulk_create(service_rows, batch_size=BATCH)
        Incident.members.through.objects.bulk_create(member_rows, batch_size=BATCH)
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
            TimelineEvent.objects.bulk_create(events, batch_size=BATCH)
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
        self.postmortems = Postmortem.objects.bulk_create(postmortems, batch_size=BATCH)
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
        Postmortem.reviewers.through.objects.bulk_create(reviewers, batch_size=BATCH)
        ContributingFactor.objects.bulk_create(factors, batch_size=BATCH)
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
                written += len(ActionItem.objects.bulk_create(items, batch_size=BATCH))
                items = []
        written += len(ActionItem.objects.bulk_create(items, batch_size=BATCH))
        return written


# --- Measuring ----------------------------------------------------------------------------


class Bench:
    """The realistic people and objects pages are requested with, looked up once."""

    def __init__(self, scale: float, rows: dict[str, int]):
        self.scale = scale
        self.rows = rows

    @cached_property
    def engineer(self):
        return User.objects.get(username=ENGINEER)

    @cached_property
    def manager(self):
        return User.objects.get(username=MANAGER)

    @cached_property
    def team(self) -> Team:
        return Team.objects.get(slug=f"{PREFIX}team-000")

    @cached_property
    def busy_incident(self) -> Incident:
        """The first team's incident with the longest timeline."""
        return (
            Incident.objects.filter(team=self.team, private=False)
            .annotate(events=Count("timeline"))
            .order_by("-events", "pk")
            .first()
        )


@dataclass(frozen=True)
class Page:
    """A page requested `repeat` times by a logged-in user.

    url: the address to request for this bench (a realistic user and object).
    floor: runs the page's main SQL alone (e.g. the same filtered, paginated queryset), so the
        report shows how much of the page's time is that SQL and how much everything else.
    user: who is logged in; a plain engineer unless the page is for someone else.
    """

    name: str
    url: Callable[[Bench], str]
    floor: Callable[[Bench], object] | None = None
    user: Callable[[Bench], object] = lambda bench: bench.engineer
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """A callable (a periodic job, a digest, an export) timed once.

    run returns extra figures for the report, e.g. {"owners": 12}; emails sent through Django's
    mail API are counted as "emails". It runs in a transaction that is rolled back, so reruns
    measure the same work (callbacks registered with on_commit therefore never fire).
    """

    name: str
    run: Callable[[Bench], dict | None]


@dataclass
class Result:
    name: str
    scale: float
    queries: int
    p50_ms: float
    p95_ms: float
    floor_ms: float | None
    rows: dict[str, int]
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        data = {
            "name": self.name,
            "scale": self.scale,
            "database": connection.vendor,
            "queries": self.queries,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "floor_ms": self.floor_ms,
            "rows": self.rows,
        }
        return data | self.extra


class BenchmarkError(Exception):
    pass


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile: with 20 samples, p95 is the 19th fastest."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def measure_page(page: Page, bench: Bench, *, repeat: int, warmup: int = 2) -> Result:
    client = Client(headers=page.headers)
    client.force_login(page.user(bench))
    url = page.url(bench)
    secure = getattr(settings, "SECURE_SSL_REDIRECT", False)

    def get():
        response = client.get(url, secure=secure)
        if response.status_code != 200:
            raise BenchmarkError(f"{page.name}: GET {url} returned {response.status_code}")

    try:
        for _ in range(warmup):
            get()
        durations, counts = [], []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                get()
                durations.append(time.perf_counter() - started)
            counts.append(len(captured))
    finally:
        client.logout()
    floor_ms = None
    if page.floor:
        page.floor(bench)  # warm, like the page
        floors = []
        for _ in range(repeat):
            started = time.perf_counter()
            page.floor(bench)
            floors.append(time.perf_counter() - started)
        floor_ms = _ms(statistics.median(floors))
    return Result(
        name=page.name,
        scale=bench.scale,
        queries=max(counts),
        p50_ms=_ms(statistics.median(durations)),
        p95_ms=_ms(percentile(durations, 0.95)),
        floor_ms=floor_ms,
        rows=bench.rows,
    )


class QueryCounter:
    """Counts queries without keeping them: CaptureQueriesContext stops at 9,000."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure_job(job: Job, bench: Bench) -> Result:
    counter = QueryCounter()
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        transaction.atomic(),
    ):
        mail.outbox = []
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            extra = job.run(bench) or {}
            elapsed = time.perf_counter() - started
        extra = {"emails": len(mail.outbox), **extra}
        transaction.set_rollback(True)
    return Result(
        name=job.name,
        scale=bench.scale,
        queries=counter.count,
        p50_ms=_ms(elapsed),
        p95_ms=_ms(elapsed),
        floor_ms=None,
        rows=bench.rows,
        extra=extra,
    )


def run(
    entries: list[Page | Job], bench: Bench, *, repeat: int = 20, warmup: int = 2
) -> tuple[list[Result], list[str]]:
    """Measure each entry; a failing page is reported, and the others still run."""
    results, failures = [], []
    # The test client's host name; real deployments list their own hosts.
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(ALLOWED_HOSTS=hosts):
        for entry in entries:
            try:
                if isinstance(entry, Job):
                    results.append(measure_job(entry, bench))
                else:
                    results.append(measure_page(entry, bench, repeat=repeat, warmup=warmup))
            except Exception as err:  # one broken page must not hide the others' figures
                failures.append(f"{entry.name}: {type(err).__name__}: {err}")
    return results, failures


def table(results: list[Result]) -> str:
    header = f"{'name':<34} {'scale':>6} {'queries':>7} {'p50_ms':>9} {'p95_ms':>9} {'floor_ms':>9}"
    lines = [header, "-" * len(header)]
    for r in results:
        floor = "-" if r.floor_ms is None else f"{r.floor_ms:.1f}"
        extra = "  " + " ".join(f"{k}={v}" for k, v in r.extra.items()) if r.extra else ""
        lines.append(
            f"{r.name:<34} {r.scale:>6g} {r.queries:>7} {r.p50_ms:>9.1f} {r.p95_ms:>9.1f} "
            f"{floor:>9}{extra}"
        )
    return "\n".join(lines)


# --- The registry -------------------------------------------------------------------------
# Floors use the same QuerySet methods and FilterSets as the views, so they follow changes.


def url(name: str, params: dict | None = None, args=()) -> str:
    path = reverse(name, args=args)
    return f"{path}?{urlencode(params, doseq=True)}" if params else path


def first_page(queryset) -> list:
    """What `incidents.paging.paginate` runs for page 1: the count, then the rows."""
    page = Paginator(queryset, settings.PAGE_SIZE).get_page(1)
    return list(page.object_list)


def incident_rows(bench: Bench, params: dict) -> list:
    queryset = Incident.objects.visible_to(bench.engineer).for_list()
    return first_page(IncidentFilter(params, queryset=queryset).qs)


def action_rows(bench: Bench, params: dict, *, mine: bool = False) -> list:
    user = bench.engineer
    queryset = ActionItem.objects.visible_to(user)
    if mine:
        queryset = queryset.filter(owner=user)
    return first_page(ActionItemFilter(params, queryset=queryset.for_list()).qs)


def incident_search(bench: Bench) -> dict:
    return {"severity": ["1", "2"], "team": bench.team.slug, "q": SEARCH_WORD}


def incident_detail_rows(bench: Bench) -> list:
    number = bench.busy_incident.number
    incident = Incident.objects.visible_to(bench.engineer).get(number=number)
    return list(incident.timeline.select_related("author"))


def postmortem_rows(bench: Bench) -> list:
    queryset = (
        Postmortem.objects.visible_to(bench.engineer)
        .select_related("incident", "incident__team", "author")
        .order_by("-incident__started_at", "-pk")
    )
    return first_page(queryset)


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
    Page(
        "postmortem detail",
        url=lambda b: url("postmortems:detail", args=[b.busy_incident.number]),
        floor=postmortem_detail_rows,
    ),
]


# Action items: reminders and the monthly digest at scale (jobs run inline, as the commands do).
def _reminder_sweep(bench: Bench) -> dict:
    from actions import jobs

    # 20:00 UTC: past the reminder hour of every owner west of UTC+11.
    now = timezone.now().replace(hour=20, minute=0, second=0, microsecond=0)
    summary = jobs.run_reminders(now)
    return {"owners": len(summary.recipients), "items": summary.items}


def _monthly_digest(bench: Bench) -> dict:
    from actions import jobs

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
    from postmortems.models import MeetingAttendee, MeetingCapture, ReviewMeeting

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
    from postmortems.models import ReviewMeeting

    meeting = ReviewMeeting.objects.visible_to(bench.engineer).get(pk=_bench_meeting(bench).pk)
    return list(meeting.postmortem.incident.timeline.all())


def _followers_polling(bench: Bench) -> dict:
    """One round of polls from 30 followers while nothing changes: each answers 204."""
    meeting = _bench_meeting(bench)
    address = _meeting_url(bench, "meeting-state") + f"?v={meeting.version}"
    client = Client(headers={"HX-Request": "true"})
    client.force_login(bench.engineer)
    client.get(address)  # warm, like a follower's open page
    durations = []
    with CaptureQueriesContext(connection) as captured:
        for _ in range(FOLLOWERS):
            started = time.perf_counter()
            response = client.get(address)
            durations.append(time.perf_counter() - started)
            if response.status_code != 204:
                raise BenchmarkError(f"unchanged poll answered {response.status_code}")
    return {
        "polls": FOLLOWERS,
        "queries_per_poll": len(captured) / FOLLOWERS,
        "poll_p50_ms": _ms(statistics.median(durations)),
        "poll_p95_ms": _ms(percentile(durations, 0.95)),
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
    from actions import metrics
    from actions.dashboard.params import utc_today
    from actions.dashboard.views import analytics

    team = bench.team if scope_key != "org" else None
    scope = metrics.Scope(team=team) if team else metrics.ORG
    today = utc_today()
    period = metrics.Period.last(days, today)
    judged = metrics.Period(period.start, today - timedelta(days=1))
    list(Team.objects.all())
    list(Service.objects.select_related("team"))
    with analytics():
        grid = metrics.completion_grid(judged, scope, viewer)
        metrics.open_items_grid(scope, viewer, timezone.localdate())
        owed = metrics.postmortems_owed(today, scope, viewer)
        owed.count()
        list(owed[:10])
        metrics.cycle_times(period, scope, viewer)
        metrics.cycle_times_by_month(period, scope, viewer)
        metrics.items_by_priority_and_leverage(period, scope, viewer)
        metrics.prevention_coverage(period, scope, viewer)
        list(metrics.postmortems_without_prevention(period, scope, viewer)[:10])
        metrics.incidents_by_severity_by_month(period, scope, viewer)
        metrics.response_times(period, scope, viewer)
        metrics.response_times(period, scope, viewer, by_month=True)
        metrics.slippage_by_team(period, scope, viewer, grid=grid)


def _recurrence_sql(bench: Bench, *, days: int) -> None:
    """The floor of the recurrence figure, which the page loads after itself (htmx)."""
    from actions import metrics
    from actions.dashboard.params import utc_today
    from actions.dashboard.views import analytics

    period = metrics.Period.last(days, utc_today())
    with analytics():
        metrics.recurrence_by_month(period, metrics.ORG, bench.engineer)


def _repeat_rows(bench: Bench) -> list:
    """What the repeat-incidents list runs: the flags once, then the first page's incidents."""
    from actions import metrics
    from actions.dashboard.params import utc_today
    from actions.dashboard.views import analytics

    period = metrics.Period.last(90, utc_today())
    with analytics():
        flags = metrics.repeat_flags(period, metrics.ORG, bench.engineer)
        ids = [f["id"] for f in flags[: settings.PAGE_SIZE]]
        return list(Incident.objects.select_related("team").filter(pk__in=ids))


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
        floor=lambda b: _dashboard_sql(b, viewer=b.engineer, scope_key="org", days=90),
    ),
    Page(
        "dashboard org 365d",
        url=lambda b: url("actions:dashboard", {"scope": "org", "range": "365"}),
        floor=lambda b: _dashboard_sql(b, viewer=b.engineer, scope_key="org", days=365),
    ),
    Page(
        "dashboard recurrence org 90d",
        url=lambda b: url(
            "actions:dashboard-figure", {"scope": "org", "range": "90"}, ["recurrence-month"]
        ),
        floor=lambda b: _recurrence_sql(b, days=90),
        headers={"HX-Request": "true"},
    ),
    Page(
        "dashboard recurrence org 365d",
        url=lambda b: url(
            "actions:dashboard-figure", {"scope": "org", "range": "365"}, ["recurrence-month"]
        ),
        floor=lambda b: _recurrence_sql(b, days=365),
        headers={"HX-Request": "true"},
    ),
    Page(
        "dashboard csv owners org",
        url=lambda b: url("actions:dashboard-csv", {"scope": "org"}, args=["owners"]),
    ),
    Page(
        "dashboard repeats list org 90d",
        url=lambda b: url("actions:dashboard-rows", {"scope": "org", "range": "90"}, ["repeats"]),
        floor=_repeat_rows,
    ),
]
