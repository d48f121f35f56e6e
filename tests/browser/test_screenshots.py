"""`make screenshots` takes its pictures with scripts/screenshots.py: it logs in and writes one
real PNG per page of the tour."""

import importlib.util
from pathlib import Path

import pytest
from django.conf import settings

from ..factories import IncidentFactory
from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _script():
    path = Path(settings.BASE_DIR) / "scripts" / "screenshots.py"
    spec = importlib.util.spec_from_file_location("screenshots", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tour_is_photographed_after_signing_in(browser, live_server, user, tmp_path):
    incident = IncidentFactory(title="Checkout 502s")
    pages = [("incidents", "/incidents/"), ("incident", incident.get_absolute_url())]
    written = _script().shoot(
        live_server.url,
        pages,
        tmp_path,
        username=user.username,
        password=PASSWORD,
        browser=browser,
    )
    assert [p.name for p in written] == ["incidents.png", "incident.png"]
    for path in written:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
