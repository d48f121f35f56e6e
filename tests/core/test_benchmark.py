import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import ActionItem, Digest
from core import benchmark
from core.benchmark import Bench, Job, Page, dataset
from core.benchmark.visitor import HOST, Visitor, overridden
from incidents.models import Incident, Team
from incidents.services import apply_postmortem_policy
from postmortems.models import Postmortem

from ..factories import IncidentFactory

TINY = 0.001
KEYS = {"name", "scale", "queries", "p50_ms", "p95_ms", "floor_ms", "rows"}


def quiet(*args):
    pass


def test_the_plan_scales_linearly_above_its_minimums():
    assert benchmark.plan_for(1) == {
        "users": 2000,
        "teams": 40,
        "services": 200,
        "incidents": 20_000,
        "timeline_events": 200_000,
        "action_items": 60_000,
    }
    assert benchmark.plan_for(0.05)["incidents"] == 1000
    assert benchmark.plan_for(TINY)["teams"] == 3  # the minimum, not 0
    with pytest.raises(ValueError):
        benchmark.plan_for(0)


def test_row_counts_follow_the_scale(db):
    small = benchmark.build_dataset(TINY, log=quiet)
    for name, count in benchmark.plan_for(TINY).items():
        assert small[name] == count, name
    assert benchmark.dataset_matches(TINY)
    assert not benchmark.dataset_matches(2 * TINY)

    benchmark.drop_dataset()
    assert benchmark.dataset_rows()["incidents"] == 0
    double = benchmark.build_dataset(2 * TINY, log=quiet)
    for name in ("incidents", "timeline_events", "action_items"):
        assert double[name] == 2 * small[name], name
    assert 0.5 * double["incidents"] < double["postmortems"] < double["incidents"]


def test_the_dataset_is_consistent_with_the_services(db):
    IncidentFactory(number=1500)  # bench numbers continue after existing ones
    benchmark.build_dataset(TINY, log=quiet)
    bench = Incident.objects.filter(team__slug__startswith="bench-").order_by("started_at")
    numbers = list(bench.values_list("number", flat=True))
    assert numbers == list(range(1501, 1501 + len(numbers)))
    for incident in bench:
        stored = (incident.postmortem_requirement, incident.postmortem_reason)
        apply_postmortem_policy(incident)  # what create_incident would have decided
        assert stored == (incident.postmortem_requirement, incident.postmortem_reason)
    assert bench.filter(postmortem_reason__contains="seen 3 times in 90 days").exists()
    published = Postmortem.objects.filter(status=Postmortem.Status.PUBLISHED)
    assert published.exists()
    assert not published.exclude(incident__status=Incident.Status.CLOSED).exists()
    # Dates are historical, not the moment of the bulk insert.
    a_day_ago = timezone.now() - timedelta(days=1)
    assert ActionItem.objects.filter(created_at__lt=a_day_ago).exists()
    assert Postmortem.objects.filter(created_at__lt=a_day_ago).exists()


def test_an_existing_dataset_at_the_same_scale_is_reused(db):
    benchmark.ensure_dataset(TINY, log=quiet)
    first = set(Incident.objects.values_list("pk", flat=True))
    messages = []
    benchmark.ensure_dataset(TINY, log=messages.append)
    assert "Reusing" in messages[0]
    assert set(Incident.objects.values_list("pk", flat=True)) == first
    benchmark.ensure_dataset(TINY, rebuild=True, log=quiet)
    assert set(Incident.objects.values_list("pk", flat=True)).isdisjoint(first)


def test_the_digest_list_has_the_month_before_lasts_digests_stored_once(db):
    benchmark.ensure_dataset(TINY, log=quiet)
    stored = list(Digest.objects.values_list("scope", "period", "figures"))
    teams = Team.objects.filter(Q(members__isnull=False) | Q(managers__isnull=False)).distinct()
    assert len(stored) == 1 + teams.count() and len({p for _, p, _ in stored}) == 1
    assert all(figures["completion"] and "incidents" in figures for _, _, figures in stored)
    messages = []
    benchmark.ensure_dataset(TINY, log=messages.append)
    assert any(m.strip().startswith("0 digests of") for m in messages)
    assert Digest.objects.count() == len(stored)


def test_the_command_measures_every_page_and_writes_json(db, tmp_path):
    output = tmp_path / "bench.json"
    out = StringIO()
    call_command(
        "bench", scale=TINY, repeat=2, warmup=1, output=output, stdout=out, stderr=StringIO()
    )
    results = json.loads(output.read_text())
    entries = {e.name: e for e in benchmark.REGISTRY}
    assert [r["name"] for r in results] == list(entries)
    for result in results:
        entry = entries[result["name"]]
        assert set(result) >= KEYS, entry.name
        assert result["scale"] == TINY
        assert isinstance(result["queries"], int) and result["queries"] > 0
        for key in ("p50_ms", "p95_ms"):
            assert isinstance(result[key], int | float) and result[key] > 0, key
        assert result["p95_ms"] >= result["p50_ms"]
        if getattr(entry, "floor", None):
            assert isinstance(result["floor_ms"], int | float) and result["floor_ms"] > 0
        else:
            assert result["floor_ms"] is None
        if isinstance(entry, Job):
            assert isinstance(result["emails"], int)
        assert result["rows"]["incidents"] == benchmark.plan_for(TINY)["incidents"]
    assert any(r["floor_ms"] for r in results)
    assert "p50_ms" in out.getvalue() and "incident detail" in out.getvalue()


def test_the_pages_are_requested_as_a_plain_engineer(db):
    benchmark.build_dataset(TINY, log=quiet)
    bench = Bench(TINY, benchmark.dataset_rows())
    assert not bench.engineer.is_superuser
    assert bench.engineer.teams.filter(pk=bench.team.pk).exists()
    assert not bench.engineer.managed_teams.exists()
    assert bench.manager.managed_teams.filter(pk=bench.team.pk).exists()
    assert bench.busy_incident.timeline.count() >= 15
    assert bench.busy_incident.postmortem.status == Postmortem.Status.PUBLISHED


def test_a_page_that_does_not_answer_200_is_reported_and_the_rest_still_run(db):
    benchmark.build_dataset(TINY, log=quiet)
    bench = Bench(TINY, benchmark.dataset_rows())
    entries = [
        Page("missing", url=lambda b: "/incidents/999999/"),
        Page("incident list", url=lambda b: benchmark.url("incidents:list")),
    ]
    results, failures = benchmark.run(entries, bench, repeat=1, warmup=0)
    assert [r.name for r in results] == ["incident list"]
    assert failures == ["missing: BenchmarkError: missing: GET /incidents/999999/ returned 404"]


def test_the_command_fails_when_a_page_fails(db, tmp_path, monkeypatch):
    monkeypatch.setattr(benchmark, "REGISTRY", [Page("missing", url=lambda b: "/nope/")])
    with pytest.raises(CommandError, match="missing"):
        call_command("bench", scale=TINY, repeat=1, output=tmp_path / "b.json", stdout=StringIO())


def test_a_job_is_timed_once_with_its_emails_and_leaves_no_trace(db):
    def nightly(bench):
        Team.objects.create(name="Scratch", slug="scratch")
        mail.send_mail("Overdue", "You have items", None, ["a@example.com"])
        return {"owners": 1}

    result = benchmark.measure_job(Job("nightly", run=nightly), Bench(TINY, {}))
    assert result.queries >= 1
    assert result.extra == {"emails": 1, "owners": 1}
    assert result.as_json()["emails"] == 1
    assert result.p50_ms == result.p95_ms > 0
    assert not Team.objects.filter(slug="scratch").exists()


def test_a_long_job_counts_every_query(db):
    # Past the 9,000 queries Django keeps in its log when DEBUG is on.
    def chatty(bench):
        for _ in range(9100):
            Team.objects.exists()

    result = benchmark.measure_job(Job("chatty", run=chatty), Bench(TINY, {}))
    assert result.queries == 9100


def test_p95_is_the_nearest_rank():
    samples = [float(n) for n in range(1, 21)]
    assert benchmark.percentile(samples, 0.95) == 19
    assert benchmark.percentile([5.0], 0.95) == 5


# The visitor: pages requested through the WSGI handler, without django.test's client.


@pytest.mark.urls("tests.core.visitor_urls")
def test_a_visitor_is_logged_in_sends_its_headers_and_keeps_the_cookies_it_is_given(user):
    visitor = Visitor(user, headers={"HX-Request": "true"})
    with overridden(ALLOWED_HOSTS=[HOST]):
        first = json.loads(visitor.get("/echo/?q=latency").content)
        visitor.get("/remember/")
        second = json.loads(visitor.get("/echo/").content)
    assert first == {
        "user": "alice",
        "cookies": [settings.SESSION_COOKIE_NAME],
        "htmx": "true",
        "query": "latency",
        "secure": False,
    }
    assert second["cookies"] == sorted([settings.SESSION_COOKIE_NAME, "seen"])


@pytest.mark.urls("tests.core.visitor_urls")
def test_a_visitor_can_ask_over_https(user):
    visitor = Visitor(user, secure=True)
    with overridden(ALLOWED_HOSTS=[HOST]):
        assert json.loads(visitor.get("/echo/").content)["secure"] is True


def test_logging_out_ends_the_visitors_session(user):
    visitor = Visitor(user)
    with overridden(ALLOWED_HOSTS=[HOST]):
        assert visitor.get(reverse("incidents:list")).status_code == 200
        visitor.log_out()
        assert visitor.get(reverse("incidents:list")).status_code == 302  # to the log-in page


@pytest.mark.urls("tests.core.visitor_urls")
def test_a_view_error_is_raised_rather_than_measured_as_a_500(user):
    visitor = Visitor(user)
    with overridden(ALLOWED_HOSTS=[HOST]), pytest.raises(RuntimeError, match="the view broke"):
        visitor.get("/boom/")


def test_a_run_puts_the_settings_and_the_connection_handling_back(db):
    hosts = list(settings.ALLOWED_HOSTS)
    benchmark.build_dataset(TINY, log=quiet)
    bench = Bench(TINY, benchmark.dataset_rows())
    page = Page("incident list", url=lambda b: benchmark.url("incidents:list"))
    results, failures = benchmark.run([page], bench, repeat=1, warmup=0)
    assert failures == [] and len(results) == 1
    assert hosts == settings.ALLOWED_HOSTS
    # Requests outside the bench close stale connections again.
    assert close_old_connections in receivers(request_started)
    assert close_old_connections in receivers(request_finished)


def receivers(signal) -> list:
    return [ref() for _, ref, *_ in signal.receivers]


def test_every_table_the_stored_data_rewrites_is_vacuumed_after(db):
    # refresh_stored() rewrites the rollups and digests on every run; a table it writes that
    # analyze() leaves out grows dead rows run after run (autovacuum is off on the bench
    # server) and its readers slow with each run.
    benchmark.ensure_dataset(TINY, log=quiet)
    Digest.objects.all().delete()  # so the digests are written again too
    with CaptureQueriesContext(connection) as captured:
        dataset.refresh_stored(log=quiet)
    written = set()
    for query in captured.captured_queries:
        found = re.match(
            r'\s*(?:INSERT (?:OR IGNORE )?INTO|DELETE FROM|UPDATE) "(\w+)"', query["sql"]
        )
        if found:
            written.add(found.group(1))
    assert {"actions_incidentsday", "actions_itemsdueday", "actions_digest"} <= written
    assert written <= dataset.analyzed_tables()
