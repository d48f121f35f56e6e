from django.urls import reverse

from incidents.row_urls import row_url

from ..factories import IncidentFactory, TimelineEventFactory


def test_a_row_url_is_what_reverse_gives_for_that_row():
    edit = row_url("incidents:timeline-edit", 42)
    for pk in (1, 42, 987654321):
        assert edit(pk) == reverse("incidents:timeline-edit", args=[42, pk])


def test_every_timeline_row_links_to_its_own_edit_and_delete(client, db, user):
    incident = IncidentFactory(commander=user)
    events = TimelineEventFactory.create_batch(3, incident=incident)
    client.force_login(user)
    body = client.get(incident.get_absolute_url()).content.decode()
    for event in events:
        edit = reverse("incidents:timeline-edit", args=[incident.number, event.pk])
        delete = reverse("incidents:timeline-delete", args=[incident.number, event.pk])
        assert body.count(f'"{edit}"') == 2 and body.count(f'"{delete}"') == 2
