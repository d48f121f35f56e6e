"""Every route × role × method, with the answer each role gets (docs/permissions.md).

The routes come from the URLconf (a walk of the resolver), so a new route without an entry in
ROUTES fails `test_every_route_has_an_entry` with its name. Each entry says which methods the
route answers and, per method, which roles are let through; everyone else gets the refusal the
entry names (403 where they can see the thing, 404 where it is invisible to them). Requests
carry no form data: a role let through gets a form error (200/422) or a redirect, a refused one
the refusal, which is what the policy decides. Writes by one role are rolled back before the
next role tries. The world is built once for the module.

Answers: "ok" (served, or any redirect other than to a login page), "login" (sent to log in),
403, 404, 405 (method not allowed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from actions.models import CalendarFeed, Digest, WebhookEndpoint
from incidents.models import Profile
from postmortems import services as postmortem_services

from .factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    ReviewMeetingFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
)

ROLES = [
    "anonymous",
    "outsider",  # signed in, in no team and no role
    "viewer",  # read-only viewer
    "member",  # member of the owning team
    "commander",
    "author",
    "reviewer",
    "manager",  # manager of the owning team
    "other_manager",  # manager of another team
    "admin",
]
SIGNED_IN = set(ROLES) - {"anonymous"}
EDITORS = {"member", "commander", "author", "manager", "admin"}
# A private incident's readers: its members (commander, author, reviewer), the owning team's
# managers and admins. Everyone else gets 404 on every route of it.
PRIVATE_READERS = {"commander", "author", "reviewer", "manager", "admin"}
MANAGERS = {"manager", "other_manager", "admin"}
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    users: dict
    public: object
    private: object
    objs: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHER),
        transaction.atomic(),
    ):
        w = _build()
        # One signed-in client per role for the module (sessions are rows of this world).
        w.clients = {"anonymous": Client()}
        for role in SIGNED_IN:
            w.clients[role] = Client()
            w.clients[role].force_login(w.users[role])
        yield w
        transaction.set_rollback(True)


def _build() -> World:
    users = {role: UserFactory(username=f"mx-{role}") for role in SIGNED_IN}
    users["admin"].is_superuser = users["admin"].is_staff = True
    users["admin"].save()
    Profile.objects.update_or_create(user=users["viewer"], defaults={"read_only": True})
    team = TeamFactory(name="Checkout", slug="mx-checkout")
    team.members.add(users["member"])
    team.managers.add(users["manager"])
    TeamFactory(name="Search", slug="mx-search").managers.add(users["other_manager"])
    roles = [users[r] for r in ("commander", "author", "reviewer")]
    public = IncidentFactory(team=team, commander=users["commander"], title="Public")
    private = IncidentFactory(
        team=team, commander=users["commander"], title="Private", private=True, members=roles
    )
    w = World(users=users, public=public, private=private)
    for key, incident in (("public", public), ("private", private)):
        pm = PostmortemFactory(incident=incident, author=users["author"])
        postmortem_services.save_section(
            postmortem=pm, section="summary", text="v1", base=0, by=users["author"]
        )
        pm.reviewers.add(users["reviewer"])
        w.objs[key] = {
            "pm": pm,
            "event": TimelineEventFactory(incident=incident),
            "factor": ContributingFactorFactory(postmortem=pm),
            "item": ActionItemFactory(postmortem=pm, owner=users["author"]),
            "revision": pm.revisions.order_by("-number").first(),
            "meeting": ReviewMeetingFactory(postmortem=pm, facilitator=users["commander"]),
            "related": IncidentFactory(team=team),
        }
        incident.related.add(w.objs[key]["related"])
    w.objs["digest"] = Digest.objects.create(scope="org", period="2026-10", figures={})
    w.objs["endpoint"] = WebhookEndpoint.objects.create(
        team=team, url="https://hooks.example.com/mx"
    )
    w.objs["feed"] = CalendarFeed.objects.create(user=users["member"])
    return w


# --- The table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """Who a route lets through, per method; `refused` is what the others get."""

    args: object = None  # (world, variant) -> reverse() args
    allow: dict = field(default_factory=dict)  # method -> roles let through
    refused: int = 403
    anonymous: str = "login"
    variants: tuple = ("public",)
    signed_in: str = "ok"  # what a role let through gets


def _n(w, v):
    return [getattr(w, v).number]


def _o(key):
    return lambda w, v: [getattr(w, v).number, w.objs[v][key].pk]


def _item(w, v):
    return [w.objs[v]["item"].pk]


def _m(key):
    return lambda w, v: [getattr(w, v).number, w.objs[v]["meeting"].pk, w.objs[v][key].pk]


BOTH = ("public", "private")
ALL = SIGNED_IN
WRITERS = SIGNED_IN - {"viewer"}
# Dashboards: managers land on their team; members on theirs; admins and read-only viewers on
# the organisation; the others have no dashboard.
DASHBOARD = {"member", "manager", "other_manager", "viewer", "admin"}
DRIVERS = {"commander", "author", "admin"}  # the meeting's facilitator, the authors, admins
ITEM_CHANGERS = EDITORS  # the owner (here the author) and the creator are editors already
# Authors, the commander, the team's managers and admins (postmortems/review_rules.py).
PUBLISHERS = {"commander", "author", "manager", "admin"}

ROUTES: dict[str, Entry] = {
    "home": Entry(allow={"GET": ALL}),
    "login": Entry(allow={"GET": ALL, "POST": ALL}, anonymous="ok"),
    # Logging out sends everyone to the login page: that redirect is its answer.
    "logout": Entry(allow={"POST": ALL}, anonymous="login", signed_in="login"),
    # 503 is an answer here too: the health check saying the test broker is not running.
    "healthz": Entry(allow={"GET": ALL}, anonymous="ok"),
    "favicon": Entry(allow={"GET": ALL}, anonymous="ok"),
    # Single sign-on is off in the tests: its two routes answer 404 to everyone.
    "oidc_authentication_init": Entry(allow={"GET": ALL}, anonymous="404", signed_in="404"),
    "oidc_authentication_callback": Entry(allow={"GET": ALL}, anonymous="404", signed_in="404"),
    "audit-log": Entry(allow={"GET": {"admin"}}),
    "admin:*": Entry(allow={"GET": {"admin"}, "POST": {"admin"}}, refused="login"),
    # Incidents
    "incidents:list": Entry(allow={"GET": ALL}),
    "incidents:create": Entry(allow={"GET": WRITERS, "POST": WRITERS}),
    "incidents:preferences": Entry(allow={"GET": ALL, "POST": ALL}),
    "incidents:people": Entry(allow={"GET": ALL}),
    "incidents:detail": Entry(_n, {"GET": ALL}, variants=BOTH),
    "incidents:activity": Entry(_n, {"GET": ALL}, variants=BOTH),
    "incidents:edit": Entry(_n, {"GET": EDITORS, "POST": EDITORS}, variants=BOTH),
    "incidents:timeline-add": Entry(_n, {"POST": EDITORS}, variants=BOTH),
    "incidents:timeline-edit": Entry(_o("event"), {"GET": EDITORS, "POST": EDITORS}),
    "incidents:timeline-delete": Entry(_o("event"), {"POST": EDITORS}, variants=BOTH),
    # Postmortems
    "postmortems:list": Entry(allow={"GET": ALL}),
    "postmortems:start": Entry(_n, {"GET": EDITORS, "POST": EDITORS}, variants=BOTH),
    "postmortems:authors": Entry(_n, {"POST": EDITORS}, variants=BOTH),
    "postmortems:timeline-paste": Entry(_n, {"GET": EDITORS, "POST": EDITORS}),
    "postmortems:import/<int:number>/": Entry(_n, {"GET": ALL, "POST": ALL}),
    "postmortems:<int:number>/export.md": Entry(_n, {"GET": ALL, "POST": ALL}),
    "postmortems:detail": Entry(_n, {"GET": ALL}, variants=BOTH),
    # Assigned reviewers open the editor too: the approve button and comments are there.
    "postmortems:edit": Entry(_n, {"GET": EDITORS | {"reviewer"}}, variants=BOTH),
    "postmortems:related-suggestions": Entry(_n, {"GET": EDITORS | {"reviewer"}}, variants=BOTH),
    "postmortems:section": Entry(
        lambda w, v: [getattr(w, v).number, "summary"], {"POST": EDITORS}, variants=BOTH
    ),
    "postmortems:history": Entry(_n, {"GET": ALL}),
    # Drafting together: whoever reads the postmortem is shown present and sees fresh sections.
    "postmortems:presence": Entry(_n, {"POST": ALL}, variants=BOTH),
    "postmortems:section-fresh": Entry(
        lambda w, v: [getattr(w, v).number, "summary"], {"GET": ALL}, variants=BOTH
    ),
    "postmortems:restore": Entry(_o("revision"), {"POST": EDITORS}, variants=BOTH),
    "postmortems:factor-add": Entry(_n, {"POST": EDITORS}),
    "postmortems:factor-edit": Entry(_o("factor"), {"GET": EDITORS, "POST": EDITORS}),
    "postmortems:factor-delete": Entry(_o("factor"), {"POST": EDITORS}, variants=BOTH),
    "postmortems:review": Entry(_n, {"POST": EDITORS}),
    # Only assigned reviewers who are not authors approve or ask for changes.
    "postmortems:approve": Entry(_n, {"POST": {"reviewer"}}, variants=BOTH),
    "postmortems:request-changes": Entry(_n, {"POST": {"reviewer"}}, variants=BOTH),
    "postmortems:publish": Entry(_n, {"POST": PUBLISHERS}, variants=BOTH),
    "postmortems:reopen": Entry(_n, {"POST": PUBLISHERS}, variants=BOTH),
    "postmortems:comment": Entry(_n, {"POST": WRITERS}),
    "postmortems:related-add": Entry(_n, {"POST": EDITORS}),
    "postmortems:related-remove": Entry(
        lambda w, v: [getattr(w, v).number, w.objs[v]["related"].number], {"POST": EDITORS}
    ),
    "postmortems:meeting-schedule": Entry(_n, {"GET": EDITORS, "POST": EDITORS}),
    "postmortems:meeting-warnings": Entry(_n, {"GET": EDITORS}),
    "postmortems:meeting": Entry(_o("meeting"), {"GET": ALL}, variants=BOTH),
    "postmortems:meeting-invite": Entry(_o("meeting"), {"GET": ALL}),
    "postmortems:meeting-present": Entry(_o("meeting"), {"GET": ALL}),
    "postmortems:meeting-state": Entry(_o("meeting"), {"GET": ALL}),
    "postmortems:meeting-control": Entry(_o("meeting"), {"POST": DRIVERS}),
    "postmortems:meeting-event": Entry(_o("meeting"), {"GET": EDITORS, "POST": EDITORS}),
    "postmortems:meeting-correct-event": Entry(_m("event"), {"GET": EDITORS, "POST": EDITORS}),
    "postmortems:meeting-factor": Entry(_o("meeting"), {"POST": EDITORS}),
    "postmortems:meeting-note": Entry(_o("meeting"), {"POST": EDITORS}),
    "postmortems:meeting-publish-date": Entry(_o("meeting"), {"POST": DRIVERS}),
    "postmortems:meeting-summary": Entry(_o("meeting"), {"POST": DRIVERS}),
    # Action items
    "actions:list": Entry(allow={"GET": ALL}),
    "actions:mine": Entry(allow={"GET": ALL}),
    "actions:team": Entry(allow={"GET": ALL}),
    "actions:bulk": Entry(allow={"POST": MANAGERS}),
    "actions:create": Entry(_n, {"GET": EDITORS, "POST": EDITORS}, variants=BOTH),
    "actions:detail": Entry(_item, {"GET": ALL}, variants=BOTH),
    "actions:edit": Entry(_item, {"GET": ITEM_CHANGERS, "POST": ITEM_CHANGERS}, variants=BOTH),
    "actions:status": Entry(_item, {"POST": ITEM_CHANGERS}, variants=BOTH),
    "actions:due": Entry(_item, {"POST": ITEM_CHANGERS}),
    "actions:done": Entry(_item, {"GET": ITEM_CHANGERS, "POST": ITEM_CHANGERS}),
    "actions:digests": Entry(allow={"GET": ALL}),
    "actions:digest-preview": Entry(allow={"GET": ALL}),
    # The quality hints of a typed item: advice about text, nothing read or written.
    "actions:hints": Entry(allow={"POST": ALL}),
    "actions:digest": Entry(lambda w, v: [w.objs["digest"].pk], {"GET": ALL}),
    "actions:dispatches": Entry(allow={"GET": ALL}),
    "actions:calendar": Entry(allow={"GET": ALL, "POST": ALL}),
    # The feed's token is the credential: anyone holding it reads, signed in or not.
    "actions:calendar-feed": Entry(
        lambda w, v: [w.objs["feed"].token], {"GET": ALL}, anonymous="ok"
    ),
    "actions:postmortem-item-add": Entry(_n, {"POST": EDITORS}, variants=BOTH),
    "actions:postmortem-item-edit": Entry(
        _o("item"), {"GET": ITEM_CHANGERS, "POST": ITEM_CHANGERS}, variants=BOTH
    ),
    "actions:meeting-item": Entry(_o("meeting"), {"POST": EDITORS}),
    "actions:postmortem-export": Entry(_n, {"GET": ALL}, variants=BOTH),
    "actions:postmortem-import": Entry(_n, {"GET": EDITORS, "POST": EDITORS}, variants=BOTH),
    "actions:webhooks": Entry(allow={"GET": MANAGERS, "POST": MANAGERS}),
    # Another team's endpoint is invisible to its managers.
    "actions:webhook": Entry(
        lambda w, v: [w.objs["endpoint"].pk], {"GET": {"manager", "admin"}}, refused=404
    ),
    "actions:webhook-change": Entry(
        lambda w, v: [w.objs["endpoint"].pk], {"POST": {"manager", "admin"}}, refused=404
    ),
    # Dashboards (the default scope of each role; scopes per team: tests/actions/...)
    "actions:dashboard": Entry(allow={"GET": DASHBOARD}),
    "actions:dashboard-csv": Entry(lambda w, v: ["overdue-team"], {"GET": DASHBOARD}),
    "actions:dashboard-figure": Entry(lambda w, v: ["overdue-team"], {"GET": DASHBOARD}),
    "actions:dashboard-rows": Entry(lambda w, v: ["incidents"], {"GET": DASHBOARD}),
}


def _routes(resolver=None, namespace="", prefix="") -> list[tuple[str, str]]:
    """(table key, pattern) of every route: `namespace:name`, or the pattern for unnamed ones;
    the admin site is one entry."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if ns == "admin":
                found.append(("admin:*", prefix + str(entry.pattern)))
                continue
            found += _routes(entry, ns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            key = entry.name or str(entry.pattern)
            found.append((f"{namespace}:{key}" if namespace else key, prefix + str(entry.pattern)))
    return found


def test_every_route_has_an_entry():
    missing = sorted({key for key, _ in _routes()} - set(ROUTES))
    assert not missing, f"routes without an entry in tests/test_permission_matrix.py: {missing}"
    stale = sorted(set(ROUTES) - {key for key, _ in _routes()})
    assert not stale, f"entries for routes that no longer exist: {stale}"


# --- Asking -----------------------------------------------------------------------------------


def _url(key: str, entry: Entry, w: World, variant: str) -> str:
    if key == "admin:*":
        return reverse("admin:index")
    ns, _, name = key.partition(":")
    if not name:  # a top-level route
        return reverse(key)
    args = entry.args(w, variant) if entry.args else []
    if "/" in name:  # an unnamed route: fill the pattern's one converter
        return "/" + ns + "/" + name.replace("<int:number>", str(args[0]))
    return reverse(key, args=args)


def _answer(response) -> str:
    if response.status_code == 503 and response.request["PATH_INFO"] == "/healthz":
        return "ok"  # the check answering that a service is down is still an answer
    if response.status_code in (403, 404, 405):
        return str(response.status_code)
    if response.status_code in (301, 302) and "/login/" in response.get("Location", ""):
        return "login"
    assert response.status_code < 500, response.status_code
    return "ok"


def _expected(entry: Entry, role: str, method: str, variant: str) -> str:
    if role == "anonymous":
        if entry.anonymous != "login" and method not in entry.allow:
            return "405"
        return entry.anonymous
    if method not in entry.allow:
        return "405"
    if variant == "private" and role not in PRIVATE_READERS:
        return "404"
    if role in entry.allow[method]:
        return entry.signed_in
    return str(entry.refused)


CASES = [(key, variant) for key, entry in ROUTES.items() for variant in entry.variants]


@pytest.mark.parametrize(("key", "variant"), CASES, ids=[f"{k}-{v}" for k, v in CASES])
def test_each_role_gets_the_answer_the_table_gives(world, db, key, variant):
    entry = ROUTES[key]
    url = _url(key, entry, world, variant)
    wrong = []
    for role in ROLES:
        client = world.clients[role]
        if key == "logout" and role != "anonymous":  # logging out ends the shared session
            client = Client()
            client.force_login(world.users[role])
        for method in ("GET", "POST"):
            if method not in entry.allow and role not in ("anonymous", "outsider"):
                continue  # a method the route does not answer: asked of two roles is enough
            with transaction.atomic():
                response = getattr(client, method.lower())(url)
                transaction.set_rollback(True)  # the next role finds the world unchanged
            got, want = _answer(response), _expected(entry, role, method, variant)
            if got != want:
                wrong.append(f"{method} {url} as {role}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)


def test_the_world_is_what_the_table_assumes(world, db):
    """Guards the table against a world that drifted: roles are what their names say."""
    assert world.private.private and not world.public.private
    assert world.objs["public"]["pm"].author_id == world.users["author"].pk
    assert world.public.commander_id == world.users["commander"].pk
    assert timezone.now() - world.public.started_at < timedelta(days=3)
