import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from actions import services, webhooks
from actions.models import WebhookDelivery, WebhookEndpoint
from actions.tasks import deliver_webhook

from ..factories import ActionItemFactory, IncidentFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def allow_loopback(settings):
    """Loopback is refused by default (test_webhook_destinations.py); these tests allow it as
    an operator allows an on-premise tracker, to talk to a real local receiver."""
    settings.DEBRIEF_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def receiver():
    """A real HTTP server on 127.0.0.1 that records requests; `status` sets its answer."""
    seen, state = [], {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((dict(self.headers), body))
            self.send_response(state["status"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", seen, state
    server.shutdown()
    server.server_close()


def test_a_change_is_posted_signed_and_logged(receiver, user, django_capture_on_commit_callbacks):
    url, seen, _ = receiver
    endpoint = WebhookEndpoint.objects.create(url=url, secret="s3cret")
    item = ActionItemFactory(owner=user)
    with django_capture_on_commit_callbacks() as callbacks:
        services.change_status(item=item, status="done", by=user)
    # One delivery queued for the commit (the other callback re-judges repeat flags), and
    # nothing leaves before it.
    queued = [c for c in callbacks if "deliver" in c.__qualname__]
    assert len(queued) == 1 and not seen
    deliver_webhook(WebhookDelivery.objects.get().pk)  # what the queued task runs
    [(headers, body)] = seen
    assert headers["X-Debrief-Event"] == "action_item.completed"
    assert webhooks.verify(
        "s3cret", headers["X-Debrief-Timestamp"], body, headers["X-Debrief-Signature"]
    )
    assert not webhooks.verify(
        "wrong", headers["X-Debrief-Timestamp"], body, headers["X-Debrief-Signature"]
    )
    # A replay later than the tolerance is refused by the same check.
    assert not webhooks.verify(
        "s3cret", str(int(time.time()) - 3600), body, headers["X-Debrief-Signature"]
    )
    payload = json.loads(body)
    assert payload["item"]["id"] == item.pk and payload["item"]["status"] == "done"
    assert payload["delivery"] == int(headers["X-Debrief-Delivery"])
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.response_status, delivery.attempts) == ("delivered", 200, 1)
    assert delivery.endpoint == endpoint
    deliver_webhook(delivery.pk)  # run twice: nothing more is sent
    assert len(seen) == 1


def test_failures_are_retried_then_recorded(receiver, user, monkeypatch):
    url, seen, state = receiver
    state["status"] = 500
    WebhookEndpoint.objects.create(url=url)
    item = ActionItemFactory(owner=user)
    webhooks.announce(item, "action_item.updated")
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(webhooks.DeliveryFailed):
        webhooks.deliver(delivery.pk, final_attempt=False)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.error, delivery.attempts) == ("pending", "HTTP 500", 1)
    assert webhooks.deliver(delivery.pk, final_attempt=True) is False
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.attempts == 2 and len(seen) == 2


def test_the_task_backs_off_exponentially(monkeypatch, user):
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/nothing-listens")
    webhooks.announce(ActionItemFactory(owner=user), "action_item.updated")
    delivery = WebhookDelivery.objects.get()
    countdowns = []

    def fake_retry(exc=None, countdown=None):
        countdowns.append(countdown)
        return RuntimeError("retry")

    monkeypatch.setattr(deliver_webhook, "retry", fake_retry)
    with pytest.raises(RuntimeError):
        deliver_webhook(delivery.pk)
    assert countdowns == [30]
    delivery.refresh_from_db()
    assert "ConnectionRefusedError" in delivery.error or "URLError" in delivery.error


def test_private_incident_items_are_never_sent(user):
    WebhookEndpoint.objects.create(url="https://tracker.example.com/hook")
    item = ActionItemFactory(owner=user, postmortem__incident=IncidentFactory(private=True))
    assert webhooks.announce(item, "action_item.updated") == 0
    assert not WebhookDelivery.objects.exists()


def test_team_endpoints_get_only_their_teams_items(user):
    team = TeamFactory()
    WebhookEndpoint.objects.create(url="https://a.example.com/hook", team=team)
    assert webhooks.announce(ActionItemFactory(), "action_item.updated") == 0
    ours = ActionItemFactory(postmortem__incident__team=team)
    assert webhooks.announce(ours, "action_item.updated") == 1


def test_managers_add_endpoints_for_their_teams_and_see_the_log(client, user):
    team = TeamFactory()
    client.force_login(user)
    assert client.get(reverse("actions:webhooks")).status_code == 403
    team.managers.add(user)
    response = client.post(reverse("actions:webhooks"), {"team": team.pk, "url": "ftp://x"})
    assert response.status_code == 422
    response = client.post(
        reverse("actions:webhooks"), {"team": team.pk, "url": "https://t.example.com/h"}
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response["Location"] == endpoint.get_absolute_url() and endpoint.created_by == user
    WebhookDelivery.objects.create(
        endpoint=endpoint, event="action_item.updated", payload={}, state="failed", error="HTTP 502"
    )
    body = client.get(endpoint.get_absolute_url()).content.decode()
    assert "HTTP 502" in body and "Retry" in body


def test_other_teams_endpoints_are_hidden(client, user):
    TeamFactory().managers.add(user)
    theirs = WebhookEndpoint.objects.create(url="https://x.example.com", team=TeamFactory())
    client.force_login(user)
    assert client.get(theirs.get_absolute_url()).status_code == 404


# --- Setting endpoints up: the services ask the policy ----------------------------------------


@pytest.fixture
def managed(user):
    """Alice manages a team with one endpoint that has one failed delivery."""
    team = TeamFactory()
    team.managers.add(user)
    endpoint = WebhookEndpoint.objects.create(team=team, url="https://t.example.com/h")
    failed = WebhookDelivery.objects.create(
        endpoint=endpoint, event="action_item.updated", payload={}, state="failed", error="502"
    )
    return endpoint, failed


def test_managers_set_up_their_teams_endpoints(user, managed, django_capture_on_commit_callbacks):
    endpoint, failed = managed
    created = webhooks.create_endpoint(by=user, team=endpoint.team, url="https://b.example.com")
    assert created.created_by == user and created.active
    webhooks.set_endpoint_paused(endpoint=endpoint, paused=True, by=user)
    endpoint.refresh_from_db()
    assert not endpoint.active
    with django_capture_on_commit_callbacks() as callbacks:
        assert webhooks.retry_delivery(delivery=failed, by=user) is True
    assert len(callbacks) == 1  # sent again once the retry is committed
    failed.refresh_from_db()
    assert (failed.state, failed.error) == ("pending", "")
    assert webhooks.retry_delivery(delivery=failed, by=user) is False  # no longer failed
    webhooks.delete_endpoint(endpoint=endpoint, by=user)
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_people_who_do_not_manage_the_team_set_up_nothing(other_user, managed):
    endpoint, failed = managed
    TeamFactory().managers.add(other_user)  # manages some other team
    attempts = [
        lambda: webhooks.create_endpoint(by=other_user, team=endpoint.team, url="https://x.io"),
        lambda: webhooks.create_endpoint(by=other_user, team=None, url="https://x.io"),
        lambda: webhooks.set_endpoint_paused(endpoint=endpoint, paused=True, by=other_user),
        lambda: webhooks.delete_endpoint(endpoint=endpoint, by=other_user),
        lambda: webhooks.retry_delivery(delivery=failed, by=other_user),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert list(WebhookEndpoint.objects.values_list("pk", "active")) == [(endpoint.pk, True)]
    failed.refresh_from_db()
    assert failed.state == "failed"


def test_organisation_wide_endpoints_are_for_admins(user, admin_user):
    TeamFactory().managers.add(user)
    with pytest.raises(PermissionDenied):
        webhooks.create_endpoint(by=user, team=None, url="https://org.example.com")
    org = webhooks.create_endpoint(by=admin_user, team=None, url="https://org.example.com")
    with pytest.raises(PermissionDenied):
        webhooks.set_endpoint_paused(endpoint=org, paused=True, by=user)
    webhooks.set_endpoint_paused(endpoint=org, paused=True, by=admin_user)
    org.refresh_from_db()
    assert not org.active


def test_the_endpoint_page_pauses_enables_retries_and_deletes(client, user, managed):
    endpoint, failed = managed
    change = reverse("actions:webhook-change", args=[endpoint.pk])
    client.force_login(user)
    client.post(change, {"action": "toggle"})
    endpoint.refresh_from_db()
    assert not endpoint.active
    client.post(change, {"action": "toggle"})
    endpoint.refresh_from_db()
    assert endpoint.active
    response = client.post(change, {"action": "retry", "delivery": failed.pk})
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.state == "pending"
    response = client.post(change, {"action": "delete"})
    assert response["Location"] == reverse("actions:webhooks")
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("delivery", ["abc", "", "1.5", "99999999999999999999999"])
def test_a_retry_of_a_garbled_or_unknown_delivery_is_refused_not_an_error(
    client, user, managed, delivery
):
    endpoint, failed = managed
    client.force_login(user)
    response = client.post(
        reverse("actions:webhook-change", args=[endpoint.pk]),
        {"action": "retry", "delivery": delivery},
    )
    assert response.status_code in (400, 404)
    failed.refresh_from_db()
    assert failed.state == "failed"


def test_a_retry_of_another_endpoints_delivery_is_not_found(client, user, managed):
    endpoint, _ = managed
    elsewhere = WebhookEndpoint.objects.create(team=endpoint.team, url="https://c.example.com")
    theirs = WebhookDelivery.objects.create(
        endpoint=elsewhere, event="action_item.updated", payload={}, state="failed"
    )
    client.force_login(user)
    response = client.post(
        reverse("actions:webhook-change", args=[endpoint.pk]),
        {"action": "retry", "delivery": theirs.pk},
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "failed"
