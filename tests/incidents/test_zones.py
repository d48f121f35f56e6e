"""The viewer's timezone has one source: incidents.zones (and Profile.zone)."""

from zoneinfo import ZoneInfo, available_timezones

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from incidents.models import Profile
from incidents.zones import UTC_ZONE, zone_named, zone_of

from ..factories import UserFactory


def test_a_known_zone_name_is_that_zone():
    assert zone_named("Europe/Berlin") == ZoneInfo("Europe/Berlin")


def test_no_name_or_an_unknown_or_malformed_one_is_utc():
    assert zone_named(None) == UTC_ZONE
    assert zone_named("") == UTC_ZONE
    assert zone_named("Mars/Olympus_Mons") == UTC_ZONE
    assert zone_named("../etc/passwd") == UTC_ZONE  # ZoneInfo raises ValueError for this


def test_a_user_sees_the_zone_of_their_profile(db):
    user = UserFactory()
    user.profile.timezone = "Asia/Tokyo"
    user.profile.save()
    assert user.profile.zone == ZoneInfo("Asia/Tokyo")
    assert zone_of(user) == ZoneInfo("Asia/Tokyo")


def test_a_user_without_a_profile_sees_utc(db):
    user = UserFactory()
    Profile.objects.filter(user=user).delete()
    user.refresh_from_db()
    assert zone_of(user) == UTC_ZONE


def test_a_stored_zone_the_tz_database_no_longer_knows_is_utc(db):
    user = UserFactory()
    Profile.objects.filter(user=user).update(timezone="Atlantis/Capital")
    user.refresh_from_db()
    assert user.profile.zone == UTC_ZONE
    assert zone_of(user) == UTC_ZONE


def test_nobody_signed_in_sees_utc():
    assert zone_of(None) == UTC_ZONE
    assert zone_of(AnonymousUser()) == UTC_ZONE


def test_pages_show_times_in_the_zone_of_the_viewer(client, db):
    user = UserFactory()
    Profile.objects.filter(user=user).update(timezone="America/New_York")
    client.force_login(user)
    body = client.get(reverse("incidents:create")).content.decode()
    assert "(your timezone: America/New_York)" in body


def test_a_bad_stored_zone_shows_pages_in_utc_instead_of_failing(client, db):
    user = UserFactory()
    Profile.objects.filter(user=user).update(timezone="Atlantis/Capital")
    client.force_login(user)
    response = client.get(reverse("incidents:create"))
    assert response.status_code == 200
    assert "(your timezone: UTC)" in response.content.decode()


def test_the_picker_offers_every_zone_once_with_the_viewers_own_first_and_chosen(client, db):
    user = UserFactory()
    Profile.objects.filter(user=user).update(timezone="Pacific/Chatham")
    client.force_login(user)
    body = client.get(reverse("incidents:preferences")).content.decode()
    picker = body.split('<select name="timezone"', 1)[1].split("</select>", 1)[0]
    common, everything = picker.split('<optgroup label="All timezones">')
    assert common.index('<option value="Pacific/Chatham" selected>') < common.index('"UTC"')
    assert picker.count(" selected") == 1
    for name in available_timezones():
        assert everything.count(f'<option value="{name}">') == 1


def test_the_picker_refuses_a_zone_the_tz_database_does_not_know(client, db):
    user = UserFactory()
    client.force_login(user)
    data = {"timezone": "Atlantis/Capital", "reminder_hour": "8"}
    response = client.post(reverse("incidents:preferences"), data)
    assert response.status_code == 200
    assert "Atlantis/Capital is not one of the available choices" in response.content.decode()
    assert Profile.objects.get(user=user).timezone == "UTC"
