from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from actions.models import ActionItem
from core.demo import DEMO_TEAM_SLUGS, demo_exists, role_accounts
from incidents.models import Incident, Requirement, Service, Team, TimelineEvent
from outbox.models import Dispatch
from postmortems.models import ContributingFactor, Postmortem

User = get_user_model()
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # PBKDF2 would dominate


# First in the file: it must run before the module-wide demo_org fixture is set up.
def test_once_seeds_an_empty_database(db):
    assert not demo_exists()
    with override_settings(PASSWORD_HASHERS=FAST_HASHER):
        call_command("seed_demo", "--once", stdout=StringIO())
    assert demo_exists()
    assert Incident.objects.filter(team__slug__in=DEMO_TEAM_SLUGS).count() == 60


@pytest.fixture(scope="module")
def demo_org(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction rolled back at the end."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(NOW, tick=False),
        override_settings(PASSWORD_HASHERS=FAST_HASHER),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


def counts() -> dict[str, int]:
    models = [
        User,
        Team,
        Service,
        Incident,
        TimelineEvent,
        Postmortem,
        ContributingFactor,
        ActionItem,
        Team.members.through,
        Team.managers.through,
        Incident.services.through,
        Incident.members.through,
        Postmortem.reviewers.through,
    ]
    return {model._meta.label: model.objects.count() for model in models}


def test_seeding_again_gives_the_same_counts(demo_org, db):
    before = counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == before
    assert "rebuilding" in out.getvalue()
    assert before["incidents.Incident"] == 60
    assert before["auth.User"] == 28  # 22 people, the admin and 5 role accounts


def test_once_leaves_existing_demo_data_alone(demo_org, db):
    numbers = set(Incident.objects.values_list("number", flat=True))
    out = StringIO()
    call_command("seed_demo", "--once", stdout=out)
    assert "nothing to do" in out.getvalue()
    assert set(Incident.objects.values_list("number", flat=True)) == numbers


def test_a_rerun_keeps_a_changed_password(demo_org, db):
    demo = User.objects.get(username="demo")
    demo.set_password("my-own-secret-9")
    demo.save()
    call_command("seed_demo", stdout=StringIO())
    demo.refresh_from_db()
    assert demo.check_password("my-own-secret-9")


def test_postmortems_and_action_items_cover_every_status(demo_org, db):
    assert set(Postmortem.objects.values_list("status", flat=True)) == set(Postmortem.Status.values)
    assert set(ActionItem.objects.values_list("status", flat=True)) == set(ActionItem.Status.values)
    assert set(ActionItem.objects.values_list("priority", flat=True)) == {0, 1, 2, 3}
    assert set(ActionItem.objects.values_list("leverage", flat=True)) == set(
        ActionItem.Leverage.values
    )
    done = ActionItem.objects.filter(status=ActionItem.Status.DONE)
    assert not done.filter(completed_by__isnull=True).exists()
    assert not ActionItem.objects.filter(status__in=["blocked", "wont_do"], reason="").exists()
    assert not ActionItem.objects.exclude(ticket_key__regex=r"^[A-Z]+-\d+$").exists()
    published = Postmortem.objects.filter(status=Postmortem.Status.PUBLISHED)
    assert not published.filter(published_at__isnull=True).exists()


def test_some_items_are_overdue_and_some_due_soon(demo_org, db):
    today = timezone.localdate()
    assert ActionItem.objects.overdue().count() >= 5
    due_soon = ActionItem.objects.open().filter(
        due_on__gte=today, due_on__lte=today + timedelta(days=7)
    )
    assert due_soon.count() >= 3
    assert ActionItem.objects.overdue().filter(owner__username="demo").count() >= 2


def test_the_demo_user_can_log_in_and_manages_a_team(demo_org, client):
    demo = User.objects.get(username="demo")
    assert not demo.is_superuser and not demo.is_staff
    assert list(demo.managed_teams.values_list("slug", flat=True)) == ["checkout"]
    assert demo.teams.exists()
    assert demo.action_items.count() >= 5
    with override_settings(PASSWORD_HASHERS=FAST_HASHER):
        assert client.login(username="demo", password="demo-debrief")
        assert client.login(username="admin", password="admin-debrief")
    assert User.objects.get(username="admin").is_superuser


def test_people_are_spread_over_a_few_timezones(demo_org, db):
    zones = set(User.objects.exclude(username="admin").values_list("profile__timezone", flat=True))
    assert 3 <= len(zones) <= 6
    assert "UTC" not in zones


def test_private_incidents_have_members_and_stay_hidden_from_others(demo_org, db):
    private = Incident.objects.filter(private=True)
    assert private.count() >= 2
    for incident in private:
        assert incident.security
        assert incident.members.count() >= 2
        assert incident.commander in incident.members.all()
    outsider = User.objects.get(username="grace")
    assert not Incident.objects.visible_to(outsider).filter(private=True).exists()


def test_the_third_sev3_of_a_pattern_in_90_days_requires_a_postmortem(demo_org, db):
    for pattern in ["internal-cert-expiry", "events-consumer-lag", "push-token-refresh"]:
        runs = list(Incident.objects.filter(pattern=pattern).order_by("started_at"))
        assert len(runs) >= 3
        assert runs[0].postmortem_requirement == Requirement.BRIEF
        assert runs[2].postmortem_requirement == Requirement.REQUIRED
        assert "seen 3 times" in runs[2].postmortem_reason


def test_timelines_and_factors_read_like_real_reviews(demo_org, db):
    for incident in Incident.objects.all():
        events = list(incident.timeline.all())
        assert 5 <= len(events) <= 15, incident
        assert events[0].phase == TimelineEvent.Phase.TRIGGER
        if incident.is_resolved:
            assert events[-1].phase == TimelineEvent.Phase.RESOLUTION
        assert all(e.occurred_at >= incident.started_at for e in events)
    sources = set(TimelineEvent.objects.values_list("source", flat=True))
    assert {"alert", "deploy", "log", "chat", "git"} <= sources
    assert TimelineEvent.objects.filter(text__startswith="@").exists()
    for postmortem in Postmortem.objects.all():
        assert 1 <= postmortem.factors.count() <= 4
        assert all(getattr(postmortem, name) for name, _ in Postmortem.SECTIONS)
    chains = [f.whys for f in ContributingFactor.objects.exclude(whys=[])]
    assert any(node["children"] for chain in chains for node in chain)
    assert len(set(ContributingFactor.objects.values_list("category", flat=True))) >= 5


def test_most_resolved_incidents_have_a_postmortem_and_some_are_owed(demo_org, db):
    resolved = Incident.objects.resolved()
    assert Postmortem.objects.count() > resolved.count() / 2
    assert Incident.objects.owing_postmortem().exists()
    assert Incident.objects.filter(status=Incident.Status.INVESTIGATING).exists()


def test_the_demo_user_sees_their_items_page(demo_org, client):
    client.force_login(User.objects.get(username="demo"))
    response = client.get(reverse("actions:mine"))
    assert response.status_code == 200


def test_the_first_boot_emails_no_invites_for_the_seeded_meeting(demo_org, db):
    invites = Dispatch.objects.filter(kind=Dispatch.Kind.MEETING_INVITE)
    assert invites.exists()
    assert not invites.filter(state=Dispatch.State.PENDING).exists()
    assert not mail.outbox


def test_every_item_owner_can_see_the_items_incident(demo_org, db):
    items = ActionItem.objects.select_related("owner", "postmortem__incident")
    blind = [i.pk for i in items if not i.postmortem.incident.is_visible_to(i.owner)]
    assert blind == []


def test_one_account_per_role_each_with_its_role(demo_org, db, client):
    from incidents import permissions

    accounts = {username: role for username, _password, role in role_accounts()}
    assert {"admin", "demo", "sofia", "casey", "robin", "quinn", "vera", "oscar"} <= set(accounts)
    casey = User.objects.get(username="casey")
    incident = Incident.objects.get(commander=casey)
    assert incident.team.slug == "checkout" and not incident.private
    postmortem = incident.postmortem
    assert postmortem.author.username == "robin"
    assert postmortem.reviewers.filter(username="quinn").exists()
    for username in ("casey", "robin", "demo", "sofia", "admin"):
        assert permissions.can(User.objects.get(username=username), "edit", postmortem), username
    for username in ("quinn", "vera", "oscar"):
        assert not permissions.can(User.objects.get(username=username), "edit", postmortem)
    assert User.objects.get(username="vera").profile.read_only
    with override_settings(PASSWORD_HASHERS=FAST_HASHER):
        for username, password, _role in role_accounts():
            assert client.login(username=username, password=password), username
