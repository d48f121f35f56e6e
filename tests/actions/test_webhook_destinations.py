"""Webhooks cannot be pointed at the server's own network (loopback, private, link-local and
cloud metadata addresses): refused when saved, and again at delivery on the address actually
connected to, with no redirect followed and no answer text logged from a refused target."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from actions import destinations, webhooks
from actions.destinations import RefusedDestination
from actions.models import WebhookDelivery, WebhookEndpoint
from actions.webhooks import create_endpoint

from ..factories import ActionItemFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

INTERNAL = [
    "http://127.0.0.1:6379/",
    "http://127.9.9.9/",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://0.0.0.0:8000/",
    "http://[::1]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://localhost:8000/hook",
    "http://admin.localhost/hook",
]


class Recorder(BaseHTTPRequestHandler):
    """A real receiver: records each request; answers with the class's `answer`."""

    seen: list
    answer = (200, {})

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(self.path)
        status, headers = self.answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(b"secret internal banner")

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(host="127.0.0.1", answer=(200, {})):
        handler = type("Handler", (Recorder,), {"seen": [], "answer": answer})
        server = HTTPServer((host, 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_port, handler.seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def manager():
    user = UserFactory()
    team = TeamFactory()
    team.managers.add(user)
    return user, team


@pytest.mark.parametrize("url", INTERNAL)
def test_the_service_refuses_internal_addresses(manager, url):
    user, team = manager
    with pytest.raises(RefusedDestination):
        create_endpoint(by=user, team=team, url=url)
    assert not WebhookEndpoint.objects.exists()


def test_the_form_says_why_and_keeps_what_was_typed(client, manager):
    user, team = manager
    client.force_login(user)
    url = "http://169.254.169.254/latest/meta-data/"
    response = client.post(
        reverse("actions:webhooks"), {"team": team.pk, "url": url, "description": "Metadata"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "private, loopback or link-local" in body
    assert 'value="Metadata"' in body and url in body
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_and_any_model_form_refuse_too():
    endpoint = WebhookEndpoint(url="http://10.1.2.3/hook")
    with pytest.raises(ValidationError) as refused:
        endpoint.full_clean()
    assert "url" in refused.value.message_dict


def test_public_addresses_and_unresolvable_names_are_accepted_when_saved(manager):
    user, team = manager
    create_endpoint(by=user, team=team, url="https://93.184.215.14/hook")
    # Not in DNS yet (or no DNS here): accepted now, checked again at delivery.
    create_endpoint(by=user, team=team, url="https://tracker.invalid/hook")
    assert WebhookEndpoint.objects.count() == 2


def test_the_operator_allow_list_lets_on_premise_trackers_through(settings, manager):
    user, team = manager
    settings.DEBRIEF_WEBHOOK_ALLOWED_HOSTS = ["jira.corp.example", "10.20.0.0/16"]
    create_endpoint(by=user, team=team, url="https://10.20.3.4/hook")
    create_endpoint(by=user, team=team, url="https://jira.corp.example/hook")
    with pytest.raises(RefusedDestination):
        create_endpoint(by=user, team=team, url="https://10.21.0.1/hook")


def test_a_name_that_resolves_inward_at_delivery_is_refused_unsent(monkeypatch, serve, user):
    """DNS rebinding: the name was public when saved; at delivery it answers 127.0.0.1,
    where a service listens. Nothing reaches it and its answer never reaches the log."""
    port, seen = serve()
    endpoint = WebhookEndpoint.objects.create(url=f"http://rebind.example:{port}/hook")
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        return real("127.0.0.1" if host == "rebind.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    webhooks.announce(ActionItemFactory(owner=user), "action_item.updated")
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    # Refused is final: a retry would be refused the same way, so none is scheduled.
    assert webhooks.deliver(delivery.pk, final_attempt=False) is False
    delivery.refresh_from_db()
    assert seen == []
    assert delivery.state == "failed" and delivery.attempts == 1
    assert delivery.error.startswith("Refused:") and "banner" not in delivery.error
    assert delivery.response_status is None


def test_redirects_are_not_followed(settings, serve, user):
    """An allowed receiver answering 302 towards an internal address is an answer, not a hop."""
    inner_port, inner_seen = serve(host="127.0.0.2")
    location = f"http://127.0.0.2:{inner_port}/inside"
    port, seen = serve(answer=(302, {"Location": location}))
    settings.DEBRIEF_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1/32"]
    WebhookEndpoint.objects.create(url=f"http://127.0.0.1:{port}/hook")
    webhooks.announce(ActionItemFactory(owner=user), "action_item.updated")
    delivery = WebhookDelivery.objects.get()
    assert webhooks.deliver(delivery.pk, final_attempt=True) is False
    delivery.refresh_from_db()
    assert seen == ["/hook"] and inner_seen == []
    assert (delivery.state, delivery.response_status, delivery.error) == (
        "failed",
        302,
        "HTTP 302",
    )


def test_an_allowed_receiver_gets_the_delivery(settings, serve, user):
    port, seen = serve()
    settings.DEBRIEF_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    WebhookEndpoint.objects.create(url=f"http://127.0.0.1:{port}/hook?team=sre")
    webhooks.announce(ActionItemFactory(owner=user), "action_item.updated")
    assert webhooks.deliver(WebhookDelivery.objects.get().pk, final_attempt=True) is True
    assert seen == ["/hook?team=sre"]


def test_the_connection_check_refuses_each_kind_of_address():
    for text in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "fe80::1", "224.0.0.1"):
        with pytest.raises(RefusedDestination):
            destinations.check_address(destinations.ipaddress.ip_address(text), text)
    destinations.check_address(destinations.ipaddress.ip_address("93.184.215.14"), "example")
