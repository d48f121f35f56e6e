"""The Content-Security-Policy and the other security headers, and the templates it relies on:
no inline script, style element, style attribute, event handler or javascript: link in any
page template (emails are exempt: mail clients need inline styles and run no script)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: link": re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I),
}


def page_templates():
    for path in sorted(ROOT.glob("**/templates/**/*.html")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in (".venv", "var", "staticfiles") or "email" in relative.parts:
            continue
        yield relative


def test_the_scan_sees_the_templates():
    names = {str(p) for p in page_templates()}
    assert "templates/base.html" in names
    assert "postmortems/templates/postmortems/meeting_present.html" in names


@pytest.mark.parametrize("template", list(page_templates()), ids=str)
def test_no_page_template_needs_unsafe_inline(template):
    text = (ROOT / template).read_text()
    found = [kind for kind, pattern in INLINE.items() if pattern.search(text)]
    assert not found, f"{template} has {', '.join(found)}; move it to a static file"


@pytest.mark.django_db
def test_every_page_carries_the_policy_and_the_other_headers(client, user):
    client.force_login(user)
    for url in ("/login/", "/incidents/", "/actions/dashboard/"):
        response = client.get(url)
        policy = response.headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "camera=()" in response.headers["Permissions-Policy"]
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_htmx_is_told_not_to_inject_styles_or_evaluate_code():
    for template in (
        "templates/base.html",
        "postmortems/templates/postmortems/meeting_present.html",
    ):
        text = (ROOT / template).read_text()
        assert '"includeIndicatorStyles":false' in text
        assert '"allowEval":false' in text


@pytest.mark.django_db
@pytest.mark.usefixtures("in_every_team")
def test_pages_that_answer_htmx_with_a_fragment_say_they_vary_on_it(client, user):
    """Back/Forward must not get the fragment from the cache (README tour: filter, open, back)."""
    client.force_login(user)
    for url in ("/incidents/?severity=1", "/actions/?status=open", "/actions/dashboard/"):
        full = client.get(url)
        fragment = client.get(url, headers={"HX-Request": "true"})
        for response in (full, fragment):
            assert "HX-Request" in response.headers["Vary"], url
        assert b"<html" in full.content and b"<html" not in fragment.content, url


@pytest.mark.django_db
def test_there_is_a_favicon_for_pages_and_for_browsers_that_ask_anyway(client, user):
    response = client.get("/favicon.ico")  # no login needed: the login page shows it too
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.svg")
    client.force_login(user)
    assert 'rel="icon"' in client.get("/incidents/").content.decode()
    assert (ROOT / "static/img/favicon.svg").read_text().startswith("<svg")
