"""Bounded input: one date range, no control characters, length limits, oversized requests.

Each finding of issue 10 that answered 500 (or lost typed text) has its test here.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django import forms
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from incidents import bounds
from incidents.forms import IncidentForm, TimelineEventForm
from incidents.models import Incident, Profile, TimelineEvent

from ..factories import IncidentFactory, TeamFactory, TimelineEventFactory, UserFactory
from ..fuzz.routes import all_form_classes, instantiate

pytestmark = pytest.mark.django_db


def _incident_post(team, **overrides):
    data = {
        "title": "Checkout errors",
        "severity": "2",
        "status": "investigating",
        "team": team.pk,
        "started_at": "2026-03-02T10:00",
        "summary": "",
    }
    data.update(overrides)
    return data


def _east(user):
    Profile.objects.update_or_create(user=user, defaults={"timezone": "Asia/Tokyo"})


# --- The date range ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["9999-12-31T23:59", "0001-01-01T00:00", "1969-12-31T23:00"])
def test_an_incident_form_refuses_a_start_outside_the_range_and_keeps_the_text(client, user, typed):
    team = TeamFactory()
    client.force_login(user)
    data = _incident_post(team, started_at=typed, title="Typed title kept")
    response = client.post(reverse("incidents:create"), data)
    assert response.status_code == 200
    assert "between 1970-01-01 and 2100-12-31" in response.content.decode()
    assert "Typed title kept" in response.content.decode()
    assert not Incident.objects.exists()


def test_the_date_inputs_carry_the_range_for_the_browser(user):
    html = str(IncidentForm()["started_at"])
    assert 'min="1970-01-01T00:00"' in html and 'max="2100-12-31T23:59"' in html


def test_the_services_refuse_a_time_outside_the_range_whatever_the_route(user):
    from django.core.exceptions import ValidationError

    from incidents import services

    with pytest.raises(ValidationError):
        services.create_incident(
            by=user,
            title="x",
            severity=2,
            team=TeamFactory(),
            started_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        )


def test_stored_edge_dates_are_clamped_by_the_migration(user):
    """Rows stored before the range (year 1, year 9999) come back in range, order kept."""
    incident = IncidentFactory()
    low = datetime(1, 1, 1, tzinfo=UTC)
    high = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    Incident.objects.filter(pk=incident.pk).update(
        started_at=low, detected_at=low, mitigated_at=low + timedelta(hours=1), resolved_at=high
    )
    moved = bounds.clamp_stored(
        Incident, ["started_at", "detected_at", "mitigated_at", "resolved_at"]
    )
    assert moved == 1
    incident.refresh_from_db()
    assert incident.started_at == bounds.EARLIEST == incident.detected_at
    assert incident.mitigated_at == bounds.EARLIEST
    assert incident.resolved_at == bounds.LATEST


def test_after_clamping_pages_with_edge_dates_answer_for_viewers_east_of_utc(client, user):
    incident = IncidentFactory(title="Edge of time")
    TimelineEventFactory(incident=incident)
    high = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    Incident.objects.filter(pk=incident.pk).update(resolved_at=high)
    TimelineEvent.objects.filter(incident=incident).update(occurred_at=high)
    bounds.clamp_stored(Incident, ["started_at", "resolved_at"])
    bounds.clamp_stored(TimelineEvent, ["occurred_at"])
    _east(user)
    client.force_login(user)
    assert client.get(reverse("incidents:list")).status_code == 200
    assert client.get(incident.get_absolute_url()).status_code == 200


def test_a_time_at_the_edge_of_the_calendar_renders_in_utc_instead_of_failing(client, user):
    """Even a row that escaped the range renders (the `when` tag falls back to UTC)."""
    incident = IncidentFactory(title="Edge of time")
    high = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    Incident.objects.filter(pk=incident.pk).update(
        started_at=high, detected_at=None, mitigated_at=None, resolved_at=None
    )
    _east(user)
    client.force_login(user)
    response = client.get(reverse("incidents:list"))
    assert response.status_code == 200
    assert "9999-12-31 23:59" in response.content.decode()


def test_a_start_in_year_one_no_longer_takes_the_lists_down(client, admin_user):
    """On PostgreSQL the row is stored as 1 BC (0001-01-01 at +05 is 0000-12-31 UTC), which
    psycopg cannot read back: every page listing it failed, the admin's list included."""
    incident = IncidentFactory()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE incidents_incident SET started_at = '0001-01-01 00:00:00+05', "
                "detected_at = NULL, mitigated_at = NULL WHERE id = %s",
                [incident.pk],
            )
    else:
        Incident.objects.filter(pk=incident.pk).update(
            started_at=datetime(1, 1, 1, tzinfo=UTC), detected_at=None, mitigated_at=None
        )
    bounds.clamp_stored(Incident, ["started_at", "detected_at", "mitigated_at", "resolved_at"])
    client.force_login(admin_user)
    assert client.get(reverse("incidents:list")).status_code == 200
    assert client.get(reverse("admin:incidents_incident_changelist")).status_code == 200
    assert Incident.objects.get(pk=incident.pk).started_at == bounds.EARLIEST


@pytest.mark.usefixtures("in_every_team")
def test_the_timeline_paste_skips_a_day_outside_the_range(client, user):
    incident = IncidentFactory()
    client.force_login(user)
    url = reverse("postmortems:timeline-paste", args=[incident.number])
    text = "9999-12-31 23:59 UTC far future line\n0001-01-01 00:00 UTC year one line"
    response = client.post(url, {"text": text, "day": "2026-03-02", "zone": "UTC"})
    assert response.status_code == 200
    response = client.post(url, {"text": text, "day": "9999-12-31", "zone": "UTC", "confirm": "1"})
    assert response.status_code == 422
    assert "between 1970-01-01 and 2100-12-31" in response.content.decode()
    assert not incident.timeline.filter(occurred_at__year__gt=2100).exists()


def test_a_timeline_event_form_refuses_year_one():
    form = TimelineEventForm({"occurred_at": "0001-01-01T00:00", "text": "x", "phase": "other"})
    assert not form.is_valid()
    assert "occurred_at" in form.errors


def test_the_incident_list_ignores_a_filter_date_outside_the_range(client, user):
    IncidentFactory(title="Still listed")
    _east(user)
    client.force_login(user)
    response = client.get(reverse("incidents:list"), {"started_after": "0001-01-01"})
    assert response.status_code == 200


# --- Control characters ------------------------------------------------------------------------


def test_a_nul_in_a_people_field_is_refused_with_a_message_and_the_form_kept(client, user):
    team = TeamFactory()
    client.force_login(user)
    data = _incident_post(team, commander="ali\x00ce", title="Kept title")
    response = client.post(reverse("incidents:create"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "control character (U+0000)" in body
    assert "Kept title" in body


def test_a_control_character_in_one_line_text_is_refused_but_multi_line_keeps_tabs(user):
    team = TeamFactory()
    form = IncidentForm(_incident_post(team, title="Bell\x07"))
    assert not form.is_valid() and "title" in form.errors
    form = IncidentForm(_incident_post(team, summary="line one\r\n\tindented"))
    assert form.is_valid(), form.errors


def test_a_query_parameter_with_a_nul_gets_a_400_page_with_a_message(client, user):
    client.force_login(user)
    response = client.get(reverse("actions:digests"), {"scope": "org\x00"})
    assert response.status_code == 400
    assert "control character (U+0000)" in response.content.decode()


# --- Lengths and oversized requests ------------------------------------------------------------


def test_every_form_is_bounded_and_every_text_field_has_a_length_limit():
    for form_class in all_form_classes():
        assert issubclass(form_class, bounds.BoundedForm), form_class.__name__
        form = instantiate(form_class, None)
        for name, field in form.fields.items():
            if isinstance(field, forms.CharField):
                assert field.max_length, f"{form_class.__name__}.{name} has no length limit"


def test_every_text_field_of_the_models_has_a_length_limit():
    from django.apps import apps

    # Postmortem sections and their revisions are limited by their own size rule; error
    # fields and stored previews (renderedmarkdown) are written by the system, never typed.
    exempt = {"postmortem", "sectionrevision", "approval", "reviewcomment", "renderedmarkdown"}
    missing = []
    for model in apps.get_models():
        if model._meta.app_label not in {"incidents", "postmortems", "actions"}:
            continue
        for field in model._meta.get_fields():
            unbounded = field.get_internal_type() == "TextField" and not field.max_length
            if unbounded and model._meta.model_name not in exempt and field.name != "error":
                missing.append(f"{model.__name__}.{field.name}")
    assert not missing


@pytest.mark.usefixtures("in_every_team")
def test_a_too_long_timeline_text_is_refused_with_the_text_kept(client, user):
    incident = IncidentFactory()
    client.force_login(user)
    long_text = "x" * 5_001
    response = client.post(
        reverse("incidents:timeline-add", args=[incident.number]),
        {
            "occurred_at": "2026-03-02T10:00",
            "text": long_text,
            "phase": "other",
            "source": "manual",
        },
    )
    assert response.status_code == 422
    assert long_text in response.content.decode()


def test_an_oversized_request_gets_a_page_that_explains_not_a_bare_400(client, user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    incident = IncidentFactory()
    client.force_login(user)
    response = client.post(
        reverse("incidents:timeline-add", args=[incident.number]),
        {"occurred_at": "2026-03-02T10:00", "text": "y" * 5_000, "phase": "other"},
    )
    assert response.status_code == 413
    body = response.content.decode()
    assert "larger than Debrief accepts" in body and "your browser still holds" in body


def test_every_page_tells_the_browser_the_request_limit(client, user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 123_456
    client.force_login(user)
    response = client.get(reverse("incidents:list"))
    assert 'data-upload-limit="123456"' in response.content.decode()


# --- No-JavaScript paths keep the typed text ---------------------------------------------------


@pytest.mark.usefixtures("in_every_team")
def test_without_javascript_a_refused_timeline_entry_keeps_the_typed_text(client, user):
    incident = IncidentFactory()
    client.force_login(user)
    future = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("incidents:timeline-add", args=[incident.number]),
        {"occurred_at": future, "text": "Rolled back deploy 4411", "phase": "mitigation"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Rolled back deploy 4411" in body
    assert "cannot be in the future" in body


def test_the_range_is_defined_once():
    assert date(1970, 1, 1) == bounds.EARLIEST_DAY
    assert date(2100, 12, 31) == bounds.LATEST_DAY
    assert bounds.RANGE_TEXT == "1970-01-01 and 2100-12-31"


def test_outsiders_cannot_post_timeline_events_even_with_bad_input(client):
    incident = IncidentFactory(private=True)
    outsider = UserFactory()
    client.force_login(outsider)
    response = client.post(
        reverse("incidents:timeline-add", args=[incident.number]),
        {"occurred_at": "0001-01-01T00:00", "text": "\x00"},
    )
    assert response.status_code == 404
