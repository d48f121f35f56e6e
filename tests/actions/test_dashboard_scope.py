"""A figure, a list or an export reads only the scope it was asked for (select(picker=False)),
and ends on the same scope, period and notice as the page, or is refused as the page is, for
every kind of viewer and every kind of scope link."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from actions.dashboard.params import select
from incidents.models import Profile

from ..factories import ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _viewers(team_a):
    manager, member = UserFactory(username="manager"), UserFactory(username="member")
    team_a.managers.add(manager)
    team_a.members.add(member)
    viewer = UserFactory(username="viewer")
    Profile.objects.update_or_create(user=viewer, defaults={"read_only": True})
    return {
        "admin": UserFactory(username="admin", is_superuser=True, is_staff=True),
        "manager": manager,
        "member": member,
        "viewer": viewer,
        "outsider": UserFactory(username="outsider"),
    }


def _outcome(user, params, **kwargs):
    request = RequestFactory().get("/dashboard/", params)
    request.user = user
    try:
        s = select(request, **kwargs)
    except PermissionDenied:
        return "refused"
    return (s.scope_key, s.scope, s.period, s.range, s.notice, s.defaulted_to_team)


def test_the_scope_asked_for_ends_where_the_page_ends_for_everyone():
    team_a = TeamFactory(name="Payments", slug="payments")
    team_b = TeamFactory(name="Search", slug="search")
    ServiceFactory(slug="checkout", name="Checkout", team=team_a)
    ServiceFactory(slug="indexer", name="Indexer", team=team_b)
    viewers = _viewers(team_a)
    scopes = ["", "org", "team:payments", "team:search", "team:gone", "service:checkout"]
    scopes += ["service:indexer", "service:gone", "nonsense", "team:"]
    swapped = {"range": "custom", "start": "2026-05-01", "end": "2026-04-01"}
    outcomes = set()
    for name, user in viewers.items():
        for scope in scopes:
            for extra in ({}, {"range": "30"}, swapped):
                params = {"scope": scope, **extra} if scope else extra
                page = _outcome(user, params)
                assert _outcome(user, params, picker=False) == page, (name, params)
                outcomes.add(page if page == "refused" else page[0])
    # The cases cover refusals, the organisation, both kinds of scope and the defaults.
    assert {"refused", "org", "team:payments", "service:checkout", "service:indexer"} <= outcomes


def test_a_figures_request_reads_only_its_own_team_or_service():
    teams = TeamFactory.create_batch(12)
    for team in teams:
        ServiceFactory.create_batch(3, team=team)
    manager = UserFactory()
    teams[3].managers.add(manager)
    service = teams[3].services.first()
    for scope, team_count, service_count in (
        (f"team:{teams[3].slug}", 1, 0),
        (f"service:{service.slug}", 1, 1),
        ("org", 0, 0),
    ):
        request = RequestFactory().get("/dashboard/", {"scope": scope})
        request.user = manager
        narrow = select(request, picker=False)
        assert (len(narrow.teams), len(narrow.services)) == (team_count, service_count)
        full = select(request)
        assert (len(full.teams), len(full.services)) == (12, 36)
        assert (narrow.scope, narrow.scope_key) == (full.scope, full.scope_key)
