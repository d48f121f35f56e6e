"""The main navigation marks the section a page belongs to, and only that one."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def current(page: str) -> list[str]:
    nav = page[page.index('aria-label="Main"') : page.index("</nav>")]
    return [text.split("<")[0].strip() for text in re.findall(r'aria-current="page">([^<]+)', nav)]


@pytest.mark.parametrize(
    ("url", "section"),
    [
        (reverse("incidents:list"), "Incidents"),
        (reverse("postmortems:list"), "Postmortems"),
        (reverse("actions:mine"), "My action items"),
        (reverse("actions:team"), "My action items"),
        (reverse("actions:list"), "All items"),
        (reverse("actions:dashboard"), "Dashboard"),
        (reverse("actions:digests"), "Digests"),
        (reverse("actions:dispatches"), "Digests"),
    ],
)
@pytest.mark.usefixtures("in_every_team")
def test_the_page_marks_its_own_section(client, user, url, section):
    client.force_login(user)
    assert current(client.get(url).content.decode()) == [section]
