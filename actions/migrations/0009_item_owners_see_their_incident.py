"""Owners of action items who cannot see the item's incident become its members.

Before the rule "an owner must be able to see the item's incident", an item could be owned by
someone outside a private incident: they never saw it in their list nor got a reminder. This
adds each such owner as a member of the incident (the same fix the item form offers).
"""

from django.conf import settings
from django.db import migrations


def add_owners_as_members(apps, schema_editor):
    ActionItem = apps.get_model("actions", "ActionItem")
    Incident = apps.get_model("incidents", "Incident")
    Team = apps.get_model("incidents", "Team")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    team_only = getattr(settings, "DEBRIEF_READ_ACCESS", "organisation") == "team"

    admins = set(User.objects.filter(is_superuser=True).values_list("pk", flat=True))
    managers, members_of_team = {}, {}
    for team_id, user_id in Team.managers.through.objects.values_list("team_id", "user_id"):
        managers.setdefault(team_id, set()).add(user_id)
    for team_id, user_id in Team.members.through.objects.values_list("team_id", "user_id"):
        members_of_team.setdefault(team_id, set()).add(user_id)
    incident_members = {}
    for incident_id, user_id in Incident.members.through.objects.values_list(
        "incident_id", "user_id"
    ):
        incident_members.setdefault(incident_id, set()).add(user_id)

    rows = ActionItem.objects.filter(owner__isnull=False).values_list(
        "owner_id",
        "postmortem__incident_id",
        "postmortem__incident__private",
        "postmortem__incident__team_id",
        "postmortem__incident__commander_id",
        "postmortem__author_id",
    )
    missing = set()
    for owner, incident, private, team, commander, author in rows:
        sees = (
            owner in admins
            or owner in incident_members.get(incident, set())
            or owner in managers.get(team, set())
        )
        if not sees and not private:
            sees = not team_only or (
                owner in members_of_team.get(team, set()) or owner in (commander, author)
            )
        if not sees:
            missing.add((incident, owner))
    Incident.members.through.objects.bulk_create(
        [Incident.members.through(incident_id=i, user_id=u) for i, u in sorted(missing)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("actions", "0008_action_item_edit_version"),
        ("incidents", "0006_single_sign_on_identity"),
        ("postmortems", "0010_factor_edit_version"),
    ]

    operations = [migrations.RunPython(add_owners_as_members, migrations.RunPython.noop)]
