"""/healthz: no login, JSON, 200 when healthy and 503 when not; beat's heartbeat and its warning."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from outbox import health, heartbeat
from outbox.models import Heartbeat
from outbox.tasks import send_due

pytestmark = pytest.mark.django_db


def test_healthz_needs_no_login_and_reports_each_check(client):
    send_due()  # beat's tick records its heartbeat
    response = client.get("/healthz")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["beat"]["ok"] and body["beat"]["age_seconds"] <= 5
    assert body["sweep"]["last_run"] is None
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_fresh_install_without_a_tick_is_healthy_but_says_so(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["beat"]["last_tick"] is None


def test_beat_silent_for_over_two_hours_makes_healthz_fail(client):
    Heartbeat.objects.create(name="beat", at=timezone.now() - timedelta(hours=2, minutes=1))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["beat"]["ok"] is False


def test_an_unreachable_broker_makes_healthz_fail(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


def test_a_missing_embedded_broker_folder_makes_healthz_fail(client, settings, tmp_path):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "gone")}
    assert client.get("/healthz").status_code == 503


def test_a_database_that_does_not_answer_makes_healthz_fail(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"]["ok"] is False


def test_healthz_is_cheap(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # SELECT 1 and one read of the heartbeats
        client.get("/healthz")


def test_sweeps_record_their_heartbeat(client):
    from actions import jobs

    jobs.run_reminders()
    assert client.get("/healthz").json()["sweep"]["age_seconds"] <= 5


def test_the_admin_warns_when_beat_has_not_ticked_for_two_hours(client, admin_user):
    client.force_login(admin_user)
    assert "beat-warning" not in client.get(reverse("admin:index")).content.decode()
    Heartbeat.objects.create(name="beat", at=timezone.now() - timedelta(hours=3))
    for url in (reverse("admin:index"), reverse("admin:outbox_dispatch_delivery")):
        page = client.get(url).content.decode()
        assert "beat-warning" in page and "Celery beat has not ticked for 3.0 hours" in page
    heartbeat.record(heartbeat.BEAT)
    assert "beat-warning" not in client.get(reverse("admin:index")).content.decode()


def test_the_healthcheck_command_for_beats_container():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="beat has not ticked in the last 5"):
        call_command("healthcheck", "--beat-within", "5")
    send_due()
    call_command("healthcheck", "--beat-within", "5")  # healthy: no error
