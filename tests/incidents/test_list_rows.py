"""The incident list's rows are written in Python (incidents/list_rows.py): they must say what
the row template said, for every kind of row, in the viewer's timezone."""

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from incidents.list_rows import incident_rows
from incidents.models import Incident, Requirement

from ..factories import IncidentFactory, PostmortemFactory, TeamFactory

pytestmark = pytest.mark.django_db

# The row as incident_list.html wrote it before the rows moved to Python.
TEMPLATE_ROW = """{% for incident in incidents %}
        <tr>
          <td class="mono"><a href="{{ incident.url }}">{{ incident.reference }}</a></td>
          <td>{% severity_badge incident.severity %}</td>
          <td class="wide"><a href="{{ incident.url }}">{{ incident.title }}</a>{% if incident.private %} <span class="pill pill-private">Private</span>{% endif %}</td>
          <td>{% status_pill incident.status incident.get_status_display %}</td>
          <td>{{ incident.team.name }}</td>
          <td class="mono">{% when incident.started_at %}</td>
          <td class="num mono">{{ incident.time_to_resolve|duration }}</td>
          <td>{% with pm=incident.postmortem_or_none %}{% if pm %}<a href="{{ incident.postmortem_url }}">{% status_pill pm.status pm.get_status_display %}</a>
            {% elif incident.postmortem_requirement == "required" %}<span class="pill pill-owed" title="{{ incident.postmortem_reason }}">Required</span>
            {% elif incident.postmortem_requirement == "recommended" %}<span class="pill pill-recommended" title="{{ incident.postmortem_reason }}">Recommended</span>
            {% else %}<span class="muted" title="{{ incident.postmortem_reason }}">Brief record</span>{% endif %}{% endwith %}</td>
        </tr>
{% endfor %}"""  # noqa: E501


def _squash(html) -> str:
    return re.sub(r"\s+", " ", str(html)).replace("> <", "><").strip()


def _every_kind_of_row() -> list[Incident]:
    team = TeamFactory(name="Payments & <Ledger>")
    published = PostmortemFactory(
        incident=IncidentFactory(team=team, title='Checkout "503s" & <b>', severity=1)
    )
    published.status = "published"
    published.save()
    IncidentFactory(team=team, private=True, severity=3)
    IncidentFactory(team=team, status=Incident.Status.INVESTIGATING, resolved_at=None)
    quick = IncidentFactory(team=team, severity=3)
    quick.resolved_at = quick.started_at + timedelta(seconds=20)
    quick.save()
    for requirement in Requirement.values:
        incident = IncidentFactory(team=team)
        Incident.objects.filter(pk=incident.pk).update(
            postmortem_requirement=requirement, postmortem_reason="SEV3 pattern 'dns' & more"
        )
    return list(Incident.objects.for_list())


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_rows_written_in_python_say_what_the_template_said(zone):
    incidents = _every_kind_of_row()
    for incident in incidents:
        incident.url = reverse("incidents:detail", args=[incident.number])
        incident.postmortem_url = reverse("postmortems:detail", args=[incident.number])
    with timezone.override(zone):
        expected = Template(TEMPLATE_ROW).render(Context({"incidents": incidents}))
        written = incident_rows(incidents)
    assert _squash(written) == _squash(expected)
    assert "&lt;b&gt;" in written and "Payments &amp; &lt;Ledger&gt;" in written
    assert written.count('<span class="pill pill-private">Private</span>') == 1
    for label in ("Required", "Recommended", "Brief record", "Published"):
        assert f">{label}</span>" in written
    assert "&lt;1 m" in written  # the 20-second incident's duration, escaped


def test_the_list_page_shows_the_rows(client, user):
    PostmortemFactory(incident=IncidentFactory(title="Queue backlog"))
    client.force_login(user)
    body = client.get(reverse("incidents:list")).content.decode()
    incident = Incident.objects.get()
    assert f'<a href="/incidents/{incident.number}/">Queue backlog</a>' in body
    assert f'<a href="{reverse("postmortems:detail", args=[incident.number])}">' in body
