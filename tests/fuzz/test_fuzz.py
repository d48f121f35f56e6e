"""Property-based fuzzing of every form and query parameter the URLconf leads to.

The routes come from the URLconf (routes.py); their pages are fetched and parsed for forms and
links; hypothesis then sends hostile values as an admin, a team member and a signed-in
outsider. Properties: no answer is a 500 (the test client raises what the view raised), none
is slower than FUZZ_SLOW_SECONDS, and a refused form (422, 409) shows the text typed into it.

`make test` runs a short budget (two fixed worst cases per form, FUZZ_EXAMPLES=1 drawn); `make fuzz`
runs a longer one. Every failure of a run is listed at the end, not only the first.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass
from html import escape

import pytest
from django.test import Client
from django.urls import resolve
from django.urls.exceptions import Resolver404
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from actions.models import CalendarFeed, Digest, WebhookDelivery, WebhookEndpoint
from postmortems import services as postmortem_services

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    ReviewMeetingFactory,
    ServiceFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
)
from .routes import SKIPPED_ROUTES, FormSpec, fill, link_params, page_forms, routes
from .values import HOSTILE_TEXT, edge_dates, for_field, hostile_values

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1"))
SLOW = float(os.environ.get("FUZZ_SLOW_SECONDS", "2"))
LONG_RUN = EXAMPLES > 5
ROLES = ["admin", "member", "outsider"]

BUDGET = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG_RUN,  # the short run in `make test` is the same every time
    database=None,
    phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if LONG_RUN else []),
    suppress_health_check=list(HealthCheck),
)


@dataclass
class World:
    clients: dict[str, Client]
    values: dict[str, object]


def build_world() -> World:
    team = TeamFactory(slug="fuzz-team")
    service = ServiceFactory(team=team, slug="fuzz-service")
    admin = UserFactory(username="fuzz-admin", is_superuser=True, is_staff=True)
    member = UserFactory(username="fuzz-member")
    outsider = UserFactory(username="fuzz-outsider")
    team.members.add(member)
    team.managers.add(member)
    incident = IncidentFactory(team=team, commander=member)
    incident.services.add(service)
    other = IncidentFactory(team=team, pattern="cert-expiry")
    private = IncidentFactory(team=team, private=True)
    private.members.add(member)
    event = TimelineEventFactory(incident=incident)
    postmortem = PostmortemFactory(incident=incident, author=member)
    postmortem.reviewers.add(admin)
    revision = postmortem_services.save_section(
        postmortem=postmortem, section="summary", text="A first summary.", base=0, by=member
    )
    factor = ContributingFactorFactory(postmortem=postmortem)
    item = ActionItemFactory(postmortem=postmortem, owner=member)
    meeting = ReviewMeetingFactory(postmortem=postmortem, facilitator=member, attendees=[member])
    digest = Digest.objects.create(period="2026-02", scope="org", figures={})
    webhook = WebhookEndpoint.objects.create(url="https://hooks.example.com/in", team=team)
    WebhookDelivery.objects.create(
        endpoint=webhook, event="action_item.updated", item=item, payload={}, state="failed"
    )
    feed = CalendarFeed.objects.create(user=member)
    incident.related.add(other)
    values = {
        "number": incident.number,
        "other": other.number,
        "token": feed.token,
        "section": "summary",
        "event_pk": event.pk,
        "incidents:timeline-edit.pk": event.pk,
        "incidents:timeline-delete.pk": event.pk,
        "postmortems:restore.pk": revision.pk,
        "postmortems:factor-edit.pk": factor.pk,
        "postmortems:factor-delete.pk": factor.pk,
        "actions:digest.pk": digest.pk,
        "actions:webhook.pk": webhook.pk,
        "actions:webhook-change.pk": webhook.pk,
        "actions:postmortem-item-edit.pk": item.pk,
        "actions:meeting-item.pk": meeting.pk,
        "pk": item.pk,
    }
    for name in [r.name for r in routes() if r.name.startswith("postmortems:meeting")]:
        values[f"{name}.pk"] = meeting.pk
    clients = {}
    for role, person in [("admin", admin), ("member", member), ("outsider", outsider)]:
        clients[role] = Client()
        clients[role].force_login(person)
    return World(clients, values)


@dataclass
class Target:
    """A route's URL, the forms its page shows, and the query parameters it reads."""

    name: str
    url: str
    query_names: set[str]
    post_names: set[str]


def discover(world: World) -> tuple[list[Target], list[FormSpec]]:
    admin = world.clients["admin"]
    targets, forms, seen_forms = {}, [], set()
    queue = []
    for route in routes():
        url = fill(route, world.values)
        if url:
            queue.append((route.name, url, route))
    by_name = {route.name: route for route in routes()}
    while queue:
        name, url, route = queue.pop(0)
        if name in targets:
            continue
        target = targets[name] = Target(name, url, route.reads("GET"), route.reads("POST"))
        response = admin.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        page, links = page_forms(response.content.decode(), url)
        for form in page:
            if form.method == "get" and form.route_name == name:
                target.query_names |= set(form.fields)
            if form.key not in seen_forms and form.route_name not in SKIPPED_ROUTES | {""}:
                seen_forms.add(form.key)
                forms.append(form)
        for link in links:
            path, names = link_params(link)
            try:
                match = resolve(path)
            except Resolver404:
                continue
            linked = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
            if linked in targets:
                targets[linked].query_names |= names
            elif linked in by_name and linked not in {n for n, _, _ in queue}:
                queue.append((linked, path, by_name[linked]))
    return list(targets.values()), forms


class Failures(list):
    def __init__(self):
        super().__init__()
        self.seconds: dict[str, float] = {}

    def check(self, what: str, send):
        started = time.monotonic()
        try:
            send()
        except Exception as err:  # noqa: BLE001 - every failure is listed at the end
            lines = traceback.format_exception(err)
            self.append(f"{what}: {type(err).__name__}: {err}\n{''.join(lines[-4:])}")
        self.seconds[what] = time.monotonic() - started


def _send(client, method: str, url: str, data: dict, htmx: bool):
    response, elapsed = _timed(client, method, url, data, htmx)
    assert response.status_code < 500, f"{response.status_code} from {method} {url} {data!r}"
    if elapsed >= SLOW:
        # Once more before calling it slow: the machine running the suite may be busy.
        response, elapsed = _timed(client, method, url, data, htmx)
    assert elapsed < SLOW, f"{elapsed:.2f} s (twice) for {method} {url}"
    return response


def _timed(client, method: str, url: str, data: dict, htmx: bool):
    headers = {"HX-Request": "true"} if htmx else {}
    send = client.get if method == "get" else client.post
    started = time.monotonic()
    response = send(url, data, headers=headers)
    return response, time.monotonic() - started


def _kept(response, data: dict, form: FormSpec) -> None:
    """A refused form shows what was typed into its text boxes."""
    if response.status_code not in (409, 422):
        return
    body = response.content.decode()
    if "<form" not in body:
        return  # an htmx answer that leaves the form on the page as it was (a preview, a note)
    for name, value in data.items():
        field = form.fields.get(name)
        if field is None or field.people or field.kind not in {"text", "textarea", "search"}:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > 2_000:
            continue
        if not value.isprintable() or value != value.strip():
            continue
        assert escape(value) in body or escape(value, quote=False) in body, (
            f"refused {form.method} {form.action} lost the typed {name}={value!r}"
        )


def _form_values(form: FormSpec):
    fields = {
        name: st.one_of(
            st.none(),  # sometimes the field is left out altogether
            for_field(field.kind, field.options, field.value)
            if not field.multiple
            else st.lists(for_field(field.kind, field.options, field.value), max_size=3),
        )
        for name, field in form.fields.items()
    }
    return st.fixed_dictionaries(fields).map(
        lambda d: {k: v for k, v in d.items() if v is not None}
    )


def _params(names: set[str]):
    names = sorted(names | {"page"})
    return st.dictionaries(st.sampled_from(names), HOSTILE_TEXT, max_size=4)


ROLE = st.sampled_from(ROLES)


def _form_run(world: World, form: FormSpec):
    @BUDGET
    @given(role=ROLE, data=_form_values(form), htmx=st.booleans())
    def run(role, data, htmx):
        response = _send(world.clients[role], form.method, form.action, data, htmx)
        _kept(response, data, form)

    # Whatever the budget, each form gets the worst cases first: every field hostile at once,
    # then the values its page offered with only the dates at the ends of the calendar (so
    # the form passes and the dates reach the services, as in the findings).
    run = example(role="member", data=hostile_values(form), htmx=False)(run)
    return example(role="admin", data=edge_dates(form), htmx=True)(run)


def _query_run(world: World, target: Target, method: str):
    names = target.query_names if method == "get" else target.post_names

    @BUDGET
    @given(role=ROLE, params=_params(names), htmx=st.booleans())
    def run(role, params, htmx):
        _send(world.clients[role], method, target.url, params, htmx)

    hostile = {name: "0001-01-01\x00" for name in names}
    return example(role="outsider", params=hostile, htmx=False)(run)


# A run of the whole URLconf is one test: give it time by its budget (the default is 120 s).
@pytest.mark.timeout(300 + 150 * EXAMPLES)
@pytest.mark.django_db(transaction=True)
def test_fuzz_every_form_and_query_parameter(capsys):
    started = time.monotonic()
    world = build_world()
    targets, forms = discover(world)
    discovered = time.monotonic() - started
    # Discovery is honest: every route of the URLconf was filled and fetched.
    assert {r.name for r in routes()} == {t.name for t in targets}
    assert len(forms) > 20, len(forms)
    failures = Failures()

    for form in forms:
        failures.check(f"form {form.method} {form.action}", _form_run(world, form))
    for target in targets:
        if target.query_names or target.name.endswith(("list", "rows", "dashboard")):
            failures.check(f"query {target.url}", _query_run(world, target, "get"))
        if target.post_names:
            failures.check(f"post {target.url}", _query_run(world, target, "post"))

    with capsys.disabled():
        print(
            f"\n[fuzz] discovery {discovered:.1f} s; {len(forms)} forms, {len(targets)} routes, "
            f"2 fixed + {EXAMPLES} drawn examples each "
            f"as {', '.join(ROLES)}: {len(failures)} failing; slowest: "
            + ", ".join(
                f"{what} {sec:.1f} s"
                for what, sec in sorted(failures.seconds.items(), key=lambda p: -p[1])[:5]
            )
        )
    assert not failures, "\n\n".join(failures)
