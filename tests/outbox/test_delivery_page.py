"""The admin's delivery page: pending and failed emails with the reason, and resend now."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from outbox.models import Dispatch
from outbox.tasks import send_email

from ..factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "admin:outbox_dispatch_delivery"


def _row(state="pending", kind="reminder", **kwargs):
    return Dispatch.objects.create(
        kind=kind,
        recipient=UserFactory(),
        period=kwargs.pop("period", "2026-03-02"),
        state=state,
        **kwargs,
    )


def test_it_lists_pending_and_failed_with_reason_tries_and_next_try(client, admin_user):
    _row(attempts=2, error="ConnectionRefusedError: [Errno 111]", next_try_at=timezone.now())
    _row("failed", kind="digest", attempts=1, error="SMTPRecipientsRefused: 550 No such user")
    _row("sent")
    client.force_login(admin_user)
    page = client.get(reverse(URL)).content.decode()
    assert "Errno 111" in page and "550 No such user" in page
    assert page.count('name="dispatch"') == 2  # the sent one is not listed
    failed_only = client.get(reverse(URL), {"state": "failed"}).content.decode()
    assert "550 No such user" in failed_only and "Errno 111" not in failed_only
    digests = client.get(reverse(URL), {"kind": "digest"}).content.decode()
    assert "550 No such user" in digests and "Errno 111" not in digests


def test_resend_now_reuses_the_row_and_sends_once(client, admin_user, mailoutbox, monkeypatch):
    queued = []
    monkeypatch.setattr(send_email, "delay", lambda *args: queued.append(args))
    from ..factories import ActionItemFactory

    owner = UserFactory()
    ActionItemFactory(owner=owner, due_on=timezone.localdate() - timedelta(days=3))
    failed = Dispatch.objects.create(
        kind="reminder",
        recipient=owner,
        period=timezone.localdate().isoformat(),
        state="failed",
        attempts=10,
        error="SMTPServerDisconnected",
    )
    other = _row("failed", error="550")
    client.force_login(admin_user)
    with django_capture(client) as post:
        response = post(
            reverse(URL), {"one": failed.pk, "dispatch": [other.pk], "query": "kind=reminder"}
        )
    assert response.status_code == 302 and response["Location"].endswith("?kind=reminder")
    assert queued == [(failed.pk,)]
    failed.refresh_from_db()
    other.refresh_from_db()
    assert failed.state == "pending" and other.state == "failed"
    assert send_email(failed.pk) is True and send_email(failed.pk) is False
    assert len(mailoutbox) == 1 and Dispatch.objects.filter(recipient=owner).count() == 1


def test_bulk_resend_takes_the_ticked_rows(client, admin_user, monkeypatch):
    queued = []
    monkeypatch.setattr(send_email, "delay", lambda *args: queued.append(args))
    rows = [_row("failed", error="x") for _ in range(3)]
    client.force_login(admin_user)
    with django_capture(client) as post:
        post(reverse(URL), {"dispatch": [rows[0].pk, rows[2].pk]})
    assert sorted(queued) == sorted([(rows[0].pk,), (rows[2].pk,)])
    assert [Dispatch.objects.get(pk=r.pk).state for r in rows] == ["pending", "failed", "pending"]


def test_only_staff_who_may_change_emails_see_it_or_resend(client, user):
    row = _row("failed", error="550 secret reason")
    # Anonymous and signed-in non-staff are sent to the admin login.
    for who in (None, user):
        if who:
            client.force_login(who)
        assert client.get(reverse(URL)).status_code == 302
        assert client.post(reverse(URL), {"one": row.pk}).status_code == 302
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(reverse(URL)).status_code == 403
    assert client.post(reverse(URL), {"one": row.pk}).status_code == 403
    row.refresh_from_db()
    assert row.state == "failed"
    staff.user_permissions.add(Permission.objects.get(codename="change_dispatch"))
    staff = type(staff).objects.get(pk=staff.pk)
    client.force_login(staff)
    assert "550 secret reason" in client.get(reverse(URL)).content.decode()


def test_resend_needs_a_csrf_token(admin_user):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(admin_user)
    row = _row("failed", error="x")
    assert csrf_client.post(reverse(URL), {"one": row.pk}).status_code == 403
    row.refresh_from_db()
    assert row.state == "failed"


def test_the_page_costs_the_same_queries_for_more_rows(
    client, admin_user, django_assert_num_queries
):
    client.force_login(admin_user)
    _row("failed", error="x")
    client.get(reverse(URL))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse(URL))
    for _ in range(5):
        _row("failed", error="x")
    with django_assert_num_queries(len(one)):
        client.get(reverse(URL))


class django_capture:
    """Post and run the on-commit callbacks the view registered (the queued sends)."""

    def __init__(self, client):
        self.client = client

    def __enter__(self):
        from django.test import TestCase

        self._ctx = TestCase.captureOnCommitCallbacks(execute=True)
        self._ctx.__enter__()
        return self.client.post

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
