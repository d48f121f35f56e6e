import json
from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions import jobs, metrics
from actions.metrics import ORG, PUBLIC_ONLY, Period, Scope
from actions.models import ActionItem, Digest
from actions.repeats import refresh_pending
from actions.tasks import send_digests
from outbox.models import Dispatch
from outbox.tasks import send_email
from postmortems.models import ContributingFactor

from ..factories import (
    ActionItemFactory,
    ContributingFactorFactory,
    IncidentFactory,
    PostmortemFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
OCTOBER = Period.month("2026-10")


def _at(day: int, month: int = 10, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _item(*, due: date, done_at: datetime | None = None, status=None, **kwargs):
    status = status or ("done" if done_at else "open")
    item = ActionItemFactory(due_on=due, status=status, completed_at=done_at, **kwargs)
    ActionItem.objects.filter(pk=item.pk).update(created_at=kwargs.pop("created", _at(1)))
    return item


def test_periods_cover_months_of_every_length():
    assert Period.month("2026-02") == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert Period.month("2028-02").end == date(2028, 2, 29)
    assert Period.previous_month(date(2026, 3, 31)).label == "2026-02"
    assert Period.previous_month(date(2027, 1, 1)).label == "2026-12"


def test_completion_by_due_date_and_its_health_band():
    pm = PostmortemFactory()
    _item(postmortem=pm, due=date(2026, 10, 10), done_at=_at(9))  # on time
    _item(postmortem=pm, due=date(2026, 10, 10), done_at=_at(10, hour=23))  # same day: on time
    _item(postmortem=pm, due=date(2026, 10, 10), done_at=_at(12))  # late
    _item(postmortem=pm, due=date(2026, 10, 20))  # missed
    _item(postmortem=pm, due=date(2026, 10, 20), status="wont_do", reason="Superseded")
    _item(postmortem=pm, due=date(2026, 11, 2))  # not due in October
    figures = metrics.completion_by_due_date(OCTOBER, ORG, PUBLIC_ONLY)
    assert (figures["due"], figures["on_time"]) == (4, 2)
    assert figures["rate"] == 0.5 and figures["band"] == "at_risk"
    assert metrics.health_band(0.8) == "healthy"
    assert metrics.health_band(0.49) == "theatre"
    assert metrics.health_band(None) is None


def test_item_counts_for_the_period():
    pm = PostmortemFactory()
    _item(postmortem=pm, due=date(2026, 10, 5), done_at=_at(4))
    _item(postmortem=pm, due=date(2026, 10, 5), done_at=_at(8))
    _item(postmortem=pm, due=date(2026, 10, 25))
    _item(postmortem=pm, due=date(2026, 10, 25), done_at=_at(3, month=11))  # late, after October
    _item(postmortem=pm, due=date(2026, 11, 25))
    counts = metrics.item_counts(OCTOBER, ORG, PUBLIC_ONLY)
    assert counts["created"] == 5
    assert counts["completed"] == 2 and counts["completed_on_time"] == 1
    # Due by 31 October and not done by then: the open one and the one finished in November.
    assert counts["overdue"] == 2


def test_private_incidents_are_left_out_in_public_only_mode_and_shown_to_members():
    member = UserFactory()
    secret = IncidentFactory(private=True, members=[member], started_at=_at(5))
    IncidentFactory(started_at=_at(6), severity=1)
    assert metrics.incidents_by_severity(OCTOBER, ORG, PUBLIC_ONLY)["total"] == 1
    assert metrics.incidents_by_severity(OCTOBER, ORG, member)["total"] == 2
    _item(postmortem=PostmortemFactory(incident=secret), due=date(2026, 10, 5))
    assert metrics.item_counts(OCTOBER, ORG, PUBLIC_ONLY)["created"] == 0


def test_scope_by_team_and_by_service():
    team = TeamFactory()
    service = ServiceFactory()
    ours = IncidentFactory(team=team, started_at=_at(3))
    ours.services.add(service)
    IncidentFactory(started_at=_at(3))
    assert metrics.incidents_by_severity(OCTOBER, Scope(team=team), PUBLIC_ONLY)["total"] == 1
    assert metrics.incidents_by_severity(OCTOBER, Scope(service=service), None)["total"] == 1


def test_postmortems_owed_are_required_resolved_over_a_week_and_unpublished():
    owed = IncidentFactory(severity=1, started_at=_at(1), resolved_at=_at(1, hour=14))
    IncidentFactory(severity=1, started_at=_at(28), resolved_at=_at(28, hour=14))  # too recent
    done = IncidentFactory(severity=1, started_at=_at(2), resolved_at=_at(2, hour=14))
    PostmortemFactory(incident=done, status="published", published_at=_at(6))
    IncidentFactory(severity=3, started_at=_at(2), resolved_at=_at(2, hour=13))  # brief only
    assert list(metrics.postmortems_owed(OCTOBER.end, ORG, PUBLIC_ONLY)) == [owed]
    assert metrics.postmortems_published(OCTOBER, ORG, PUBLIC_ONLY) == 1


def test_repeat_incidents_by_pattern_or_service_and_factor_category():
    IncidentFactory(pattern="cert-expiry", started_at=_at(1, month=3))
    by_pattern = IncidentFactory(pattern="cert-expiry", started_at=_at(10))
    IncidentFactory(pattern="disk-full", started_at=_at(11))  # first of its kind
    service = ServiceFactory()
    earlier = IncidentFactory(started_at=_at(1, month=6))
    earlier.services.add(service)
    ContributingFactorFactory(postmortem=PostmortemFactory(incident=earlier), category="alerting")
    same_cause = IncidentFactory(started_at=_at(15))
    same_cause.services.add(service)
    ContributingFactorFactory(
        postmortem=PostmortemFactory(incident=same_cause), category="alerting"
    )
    other_cause = IncidentFactory(started_at=_at(16))
    other_cause.services.add(service)
    ContributingFactorFactory(
        postmortem=PostmortemFactory(incident=other_cause),
        category=ContributingFactor.Category.TESTING,
    )
    refresh_pending()  # as the commit would
    repeats = list(metrics.repeat_incidents(OCTOBER, ORG, PUBLIC_ONLY))
    assert repeats == [by_pattern, same_cause]
    assert repeats[0].same_pattern and not repeats[1].same_pattern


def _team_with_people():
    team = TeamFactory(name="Payments", slug="payments")
    member, manager = UserFactory(username="mo"), UserFactory(username="mia")
    team.members.add(member)
    team.managers.add(manager)
    return team, member, manager


def test_the_digest_is_stored_emailed_once_and_viewable(client):
    team, member, manager = _team_with_people()
    pm = PostmortemFactory(incident=IncidentFactory(team=team, started_at=_at(3), severity=1))
    _item(postmortem=pm, due=date(2026, 10, 10), done_at=_at(9))
    _item(postmortem=pm, due=date(2026, 10, 12), status="blocked", reason="Vendor firmware")
    ActionItem.objects.filter(status="blocked").update(updated_at=_at(12))
    summary = jobs.run_digests(OCTOBER)
    # The team digest to its member and manager; the organisation one to the manager.
    assert summary.emails_sent == 3
    assert sorted(Digest.objects.values_list("scope", flat=True)) == ["org", "team:payments"]
    team_mails = [m for m in mail.outbox if "Payments" in m.subject]
    assert sorted(m.to[0] for m in team_mails) == sorted([member.email, manager.email])
    body = team_mails[0].body
    assert "50% (1 of 2 items due this month done on time)" in body
    assert "at risk" in body and "Vendor firmware" in body
    assert "SEV1 1" in body
    html = team_mails[0].alternatives[0][0]
    assert "<script" not in html and 'style="' in html
    digest = Digest.objects.get(scope="team:payments")
    assert digest.get_absolute_url() in body.replace("http://127.0.0.1:8000", "")
    again = jobs.run_digests(OCTOBER)
    assert again.emails_sent == 0 and again.skipped_already_sent == 3
    assert len(mail.outbox) == 3
    client.force_login(member)
    page = client.get(digest.get_absolute_url()).content.decode()
    assert "Payments review" in page and "Vendor firmware" in page and "50%" in page
    listing = client.get(reverse("actions:digests")).content.decode()
    assert digest.get_absolute_url() in listing


def test_a_digest_never_counts_a_private_incident():
    team, member, manager = _team_with_people()
    secret = IncidentFactory(team=team, private=True, title="Key leak", started_at=_at(3))
    _item(
        postmortem=PostmortemFactory(incident=secret), due=date(2026, 10, 10), title="Rotate keys"
    )
    jobs.run_digests(OCTOBER, team="payments")
    body = mail.outbox[0].body + mail.outbox[0].alternatives[0][0]
    assert "Rotate keys" not in body and "Key leak" not in body
    assert "INCIDENTS: 0" in mail.outbox[0].body


def test_a_stored_digest_hides_an_incident_made_private_after_it_was_built(client):
    team, member, manager = _team_with_people()
    owed = IncidentFactory(
        team=team, severity=1, title="Ledger drift", started_at=_at(1), resolved_at=_at(1, hour=14)
    )
    pm = PostmortemFactory(incident=owed)
    _item(postmortem=pm, due=date(2026, 10, 12), status="blocked", reason="Vendor firmware")
    ActionItem.objects.filter(status="blocked").update(updated_at=_at(12))
    jobs.run_digests(OCTOBER, team="payments")
    digest = Digest.objects.get(scope="team:payments")
    client.force_login(member)
    page = client.get(digest.get_absolute_url()).content.decode()
    assert "Ledger drift" in page and "Vendor firmware" in page

    owed.private = True
    owed.save(update_fields=["private"])
    owed.members.add(manager)
    page = client.get(digest.get_absolute_url()).content.decode()
    assert "Ledger drift" not in page and owed.reference not in page
    assert "Vendor firmware" not in page
    assert "made private since this digest was built" in page
    # A member of the now-private incident still sees what was built.
    client.force_login(manager)
    page = client.get(digest.get_absolute_url()).content.decode()
    assert "Ledger drift" in page and "made private" not in page


def test_a_missed_first_of_the_month_is_caught_up_by_the_daily_tick():
    _team_with_people()
    with time_machine.travel(datetime(2026, 11, 4, 6, 20, tzinfo=UTC), tick=False):
        send_digests()  # enqueues after commit; run the sends inline here
        for pk in Dispatch.objects.values_list("pk", flat=True):
            send_email(pk)
    assert set(Digest.objects.values_list("period", flat=True)) == {"2026-10"}
    assert len(mail.outbox) == 3
    with time_machine.travel(datetime(2026, 11, 5, 6, 20, tzinfo=UTC), tick=False):
        send_digests()
    assert Dispatch.objects.filter(state="pending").count() == 0 and len(mail.outbox) == 3


def test_send_digest_command_json_dry_run_and_validation():
    _team_with_people()
    out = StringIO()
    call_command("send_digest", "--month", "2026-10", "--team", "payments", "--dry-run", stdout=out)
    assert "Subject: Debrief review for Payments, October 2026" in out.getvalue()
    assert not Digest.objects.exists() and not mail.outbox
    out = StringIO()
    call_command("send_digest", "--month", "2026-10", "--json", stdout=out)
    first = json.loads(out.getvalue())
    assert first["emails_sent"] == 3 and first["skipped_already_sent"] == 0
    out = StringIO()
    call_command("send_digest", "--month", "2026-10", "--json", stdout=out)
    assert json.loads(out.getvalue())["emails_sent"] == 0
    with pytest.raises(Exception, match="must look like"):
        call_command("send_digest", "--month", "2026-13")
    with pytest.raises(Exception, match="No team"):
        call_command("send_digest", "--team", "nope")


def test_digest_building_uses_a_bounded_number_of_queries(django_assert_max_num_queries):
    counts = []
    for n in (3, 30):
        Digest.objects.all().delete()
        pm = PostmortemFactory(incident=IncidentFactory(started_at=_at(3)))
        for _ in range(n):
            _item(postmortem=pm, due=date(2026, 10, 10), done_at=_at(9))
        with django_assert_max_num_queries(40) as captured:
            jobs.run_digests(OCTOBER, dry_run=True)
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_sent_emails_page_shows_failures_to_staff_only(client, admin_user, user):
    Dispatch.objects.create(
        kind="reminder", recipient=user, period="2026-03-02", state="failed", error="SMTP 554"
    )
    client.force_login(admin_user)
    assert "SMTP 554" in client.get(reverse("actions:dispatches")).content.decode()
    other = UserFactory()
    client.force_login(other)
    assert "SMTP 554" not in client.get(reverse("actions:dispatches")).content.decode()


def test_the_digest_list_has_an_empty_state(client, user):
    client.force_login(user)
    assert "No digests yet" in client.get(reverse("actions:digests")).content.decode()


def _stored(period: str, team=None, **completion) -> Digest:
    figures = {
        "completion": {"rate": None, "on_time": 0, "due": 0, "band": None, **completion},
        "incidents": {"total": 7},
        "items": {"overdue": 3},
    }
    scope = f"team:{team.slug}" if team else "org"
    return Digest.objects.create(period=period, team=team, scope=scope, figures=figures)


def test_the_digest_list_shows_each_digests_figures_and_filters_by_scope(
    client, user, django_assert_num_queries
):
    team = TeamFactory(name="Payments <& Co>", slug="payments")
    _stored("2026-10", rate=0.5, on_time=1, due=2, band="at_risk")
    _stored("2026-10", team=team, rate=0.9, on_time=9, due=10, band="healthy")
    _stored("2026-09", team=team)
    client.force_login(user)
    page = client.get(reverse("actions:digests")).content.decode()
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert [r.count("<td") for r in rows] == [5, 5, 5]
    assert "50%" in rows[0] and "At risk" in rows[0] and "Organisation review" in rows[0]
    assert (
        "90%" in rows[1] and "Healthy" in rows[1] and "Payments &lt;&amp; Co&gt; review" in rows[1]
    )
    assert "nothing due" in rows[2] and ">7<" in rows[2] and ">3<" in rows[2]
    assert '<option value="team:payments">Payments &lt;&amp; Co&gt;</option>' in page
    chosen = client.get(reverse("actions:digests"), {"scope": "team:payments"}).content.decode()
    assert '<option value="team:payments" selected>' in chosen
    assert chosen.count("<tr>") == 1 + 2  # the header and the team's two months
    # A page of digests and the teams' options cost the same queries however many there are.
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("actions:digests"))
    for i in range(30):
        _stored(f"2025-{1 + i % 12:02d}", team=TeamFactory())
    with django_assert_num_queries(len(few.captured_queries)):
        many = client.get(reverse("actions:digests")).content.decode()
    assert many.count("<tr>") == 1 + 33


def test_due_dates_are_not_shifted_by_the_viewers_timezone():
    # completed 23:30 UTC on the due date is on time whatever the server's active timezone.
    from django.utils import timezone

    pm = PostmortemFactory()
    _item(postmortem=pm, due=date(2026, 10, 10), done_at=datetime(2026, 10, 10, 23, 30, tzinfo=UTC))
    with timezone.override("Asia/Tokyo"):
        assert metrics.completion_by_due_date(OCTOBER, ORG, PUBLIC_ONLY)["on_time"] == 1


def test_this_months_digest_can_be_previewed_without_storing_or_sending(client):
    team, member, manager = _team_with_people()
    with time_machine.travel(datetime(2026, 10, 20, 9, tzinfo=UTC), tick=False):
        IncidentFactory(team=team, severity=2, title="Queue backlog", started_at=_at(3))
        IncidentFactory(team=team, private=True, title="Key leak", started_at=_at(4))
        client.force_login(member)
        listing = client.get(reverse("actions:digests")).content.decode()
        assert "Preview this month so far" in listing
        page = client.get(reverse("actions:digest-preview"), {"scope": "team:payments"})
        body = page.content.decode()
        assert page.status_code == 200
        assert "Payments review" in body and "October 2026" in body
        assert "Preview of this month so far" in body and "2026-10-01 to 2026-10-20" in body
        assert "SEV2 1" in body and "Key leak" not in body
        org = client.get(reverse("actions:digest-preview")).content.decode()
        assert "Organisation review" in org
        assert (
            client.get(reverse("actions:digest-preview"), {"scope": "team:nope"}).status_code == 404
        )
        assert client.get(reverse("actions:digest-preview"), {"scope": "x"}).status_code == 404
    assert not Digest.objects.exists() and not mail.outbox


def test_a_manager_sees_the_reminders_sent_to_the_team(client):
    team, member, manager = _team_with_people()
    stranger = UserFactory()
    for person in (member, stranger):
        Dispatch.objects.create(
            kind=Dispatch.Kind.REMINDER, recipient=person, period="2026-10-05", state="sent"
        )
    client.force_login(manager)
    page = client.get(reverse("actions:dispatches"))
    recipients = [d.recipient for d in page.context["page"].object_list]
    assert recipients == [member]
    assert "people of the teams you manage" in page.content.decode()
    client.force_login(member)
    assert [d.recipient for d in client.get(reverse("actions:dispatches")).context["page"]] == [
        member
    ]
