"""Timeline rows written in Python give, byte for byte, what the templates' loops gave."""

from datetime import UTC, datetime, timedelta

import pytest
from django.middleware.csrf import get_token
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from incidents.models import TimelineEvent
from incidents.row_urls import row_url

from ..factories import IncidentFactory, TimelineEventFactory

# The loops as the templates had them before the rows moved to incidents/timeline_rows.py.
INCIDENT_LOOP = """{% for event in events %}
      <tr id="event-{{ event.pk }}">
        <td class="mono nowrap">{% when event.occurred_at %}</td>
        <td><span class="phase phase-{{ event.phase }}">{{ event.get_phase_display }}</span></td>
        <td>{{ event.text|linebreaksbr }}</td>
        <td class="small">{{ event.get_source_display }}{% if event.source_detail %}<br><span class="muted">{{ event.source_detail }}</span>{% endif %}</td>
        <td class="row-actions nowrap">{% if may_edit %}
          <a href="{{ event.edit_url }}"
             hx-get="{{ event.edit_url }}" hx-target="#event-{{ event.pk }}" hx-swap="outerHTML">Edit</a>
          <form method="post" action="{{ event.delete_url }}" class="inline"
                hx-post="{{ event.delete_url }}" hx-target="#timeline" hx-swap="outerHTML"
                hx-confirm="Delete this timeline event?">
            {% csrf_token %}<button type="submit" class="linklike danger">Delete</button>
          </form>{% endif %}
        </td>
      </tr>
    {% endfor %}"""  # noqa: E501

DOCUMENT_LOOP = """{% for e in events %}<tr class="phase-row phase-{{ e.phase }}"><td class="mono nowrap">{% utc e.occurred_at "%m-%d %H:%M" %}</td><td>{{ e.get_phase_display }}</td><td>{{ e.text|linebreaksbr }}</td><td class="small">{{ e.get_source_display }}{% if e.source_detail %} · {{ e.source_detail }}{% endif %}</td></tr>{% endfor %}"""  # noqa: E501

EDITOR_LOOP = """{% for e in events %}<tr><td class="mono nowrap">{% utc e.occurred_at "%m-%d %H:%M" %}</td><td>{{ e.get_phase_display }}</td><td>{{ e.text|linebreaksbr }}</td><td class="small">{{ e.get_source_display }}</td></tr>{% endfor %}"""  # noqa: E501

PRESENTER_LOOP = """{% for e in events %}<tr id="ev-{{ e.pk }}"{% if e.pk in fresh.events %} class="fresh"{% endif %}>
    <td class="mono nowrap"><time datetime="{{ e.utc_iso }}">{{ e.utc_clock }}</time></td>
    <td>{{ e.get_phase_display }}</td>
    <td>{{ e.text|linebreaksbr }}{% if e.pk in fresh.events %} <span class="fresh-tag">new</span>{% endif %}</td>
    <td class="src">{{ e.get_source_display }}{% if e.source_detail %} · {{ e.source_detail }}{% endif %}</td>
    <td><a class="btn small" href="{{ e.correct_url }}" hx-get="{{ e.correct_url }}" hx-target="#form-event" hx-swap="outerHTML" data-open-slot="event" aria-label="Correct: {{ e.text|truncatechars:50 }}">Correct</a></td>
  </tr>{% endfor %}"""  # noqa: E501

TEXTS = [
    "Alert fired for checkout latency",
    'Two lines: <b>bold</b> & "quoted"\nsecond line\r\nthird line',
    "A long line that goes on well past the fifty characters of the Correct link's label",
    "@alice acknowledged the page <script>alert(1)</script>",
    "Cafe\u0301 exactly fifty characters long, combining mark!",
    "x" * 50,
    "y" * 51,
]


@pytest.fixture
def events(db):
    incident = IncidentFactory(started_at=datetime(2026, 3, 1, 23, 50, tzinfo=UTC))
    made = []
    for n, text in enumerate(TEXTS):
        made.append(
            TimelineEventFactory(
                incident=incident,
                occurred_at=datetime(2026, 3, 1, 23, 55, tzinfo=UTC) + timedelta(minutes=n),
                text=text,
                source=list(TimelineEvent.Source)[n % 7],
                phase=list(TimelineEvent.Phase)[n % 6],
                source_detail="" if n % 2 else f"PR <#{n}> & co",
            )
        )
    # A phase or source outside today's choices shows as stored, as get_FOO_display does.
    TimelineEvent.objects.filter(pk=made[-1].pk).update(phase="legacy", source="pager")
    rows = list(incident.timeline.all())
    edit = row_url("incidents:timeline-edit", incident.number)
    delete = row_url("incidents:timeline-delete", incident.number)
    correct = row_url("postmortems:meeting-correct-event", incident.number, 7)
    for event in rows:
        event.edit_url, event.delete_url = edit(event.pk), delete(event.pk)
        event.correct_url = correct(event.pk)
        utc = event.occurred_at.astimezone(UTC)
        event.utc_iso, event.utc_clock = utc.isoformat(), utc.strftime("%H:%M")
    return rows


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize("may_edit", [True, False])
@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/Los_Angeles"])
def test_incident_rows_are_the_templates_rows(events, may_edit, zone):
    token = get_token(RequestFactory().get("/"))
    context = {"events": events, "may_edit": may_edit, "csrf_token": token}
    with timezone.override(zone):
        expected = render(INCIDENT_LOOP, **context)
        got = render("{% incident_timeline_rows events may_edit %}", **context)
    assert got == expected
    assert ("Delete</button>" in got) is may_edit


def test_document_and_editor_rows_are_the_templates_rows(events):
    assert render("{% document_timeline_rows events %}", events=events) == render(
        DOCUMENT_LOOP, events=events
    )
    editor = render("{% document_timeline_rows events phase_rows=False %}", events=events)
    assert editor == render(EDITOR_LOOP, events=events)


@pytest.mark.parametrize("fresh_count", [0, 2])
def test_presenter_rows_are_the_templates_rows(events, fresh_count):
    fresh = {"events": {e.pk for e in events[:fresh_count]}}
    got = render("{% presenter_timeline_rows events fresh.events %}", events=events, fresh=fresh)
    assert got == render(PRESENTER_LOOP, events=events, fresh=fresh)
    assert got.count('class="fresh"') == fresh_count
