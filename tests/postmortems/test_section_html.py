"""The editor's sections written in Python (postmortems/section_html.py) write what the
templates they replaced wrote (kept under tests/postmortems/former/), for every state a
section shows: new, saved by someone or no one, refused with an error, with findings past the
margin's limit, with comments that ask for changes, and hostile text throughout."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template import Context, Engine, engines
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from postmortems import section_html, services
from postmortems.models import Postmortem, ReviewComment
from postmortems.views.contexts import section_context

from ..factories import PostmortemFactory, UserFactory

pytestmark = pytest.mark.django_db

FORMER = Path(__file__).parent / "former"
HOSTILE = "<script>alert(\"x\")</script> & 'quotes'\nsecond line"
CSRF = '<input type="hidden" name="csrfmiddlewaretoken" value="tok">'


def _engine() -> Engine:
    """The project's templates, with the section templates as they were before."""
    options = settings.TEMPLATES[0]["OPTIONS"]
    return Engine(
        dirs=[FORMER, *settings.TEMPLATES[0]["DIRS"]],
        app_dirs=True,
        builtins=options["builtins"],
        libraries=engines["django"].engine.libraries,
    )


ENGINE = _engine()
# Block-level tags: the whitespace the templates put around them for layout shows nowhere.
BLOCKS = r"div|section|form|details|summary|aside|p|h2|textarea"


def _normal(html: str) -> str:
    html = re.sub(r"\s*\n\s*", " ", str(html).strip())
    html = re.sub(rf"\s*(</?(?:{BLOCKS})\b[^>]*>)\s*", r"\1", html)
    # Hidden inputs take no room, so the space beside them starts a line and is not shown.
    return re.sub(r'\s*(<input type="hidden"[^>]*>)\s*', r"\1", html)


def _former(name: str, **context) -> str:
    template = ENGINE.get_template(f"postmortems/includes/{name}.html")
    return template.render(Context({"csrf_token": "tok", **context}))


def _postmortem():
    return PostmortemFactory(author=UserFactory(first_name="Ana <b>", last_name="O'Neil"))


def _sections(postmortem) -> list[dict]:
    """A section in each state the editor shows."""
    author = postmortem.author
    saved = services.save_section(
        postmortem=postmortem, section="summary", text=HOSTILE, base=0, by=author
    )
    nobody = services.save_section(
        postmortem=postmortem, section="impact", text="Impact text", base=0, by=author
    )
    nobody.author = None
    commenter = UserFactory(first_name="", last_name="", username="rev&iewer")
    asked = ReviewComment.objects.create(
        postmortem=postmortem,
        section="summary",
        author=commenter,
        text=HOSTILE,
        kind=ReviewComment.Kind.CHANGES_REQUESTED,
    )
    anonymous = ReviewComment(
        postmortem=postmortem,
        section="summary",
        author=None,
        text="Plain",
        created_at=timezone.now(),
    )
    finding = {
        "text": "<careless>",
        "rule": "blame & shame",
        "message": 'Say "what"',
        "suggestion": "the <change>",
    }
    plain = {"text": "just", "rule": "hedging", "message": "Drop it", "suggestion": ""}
    made = []
    for field in Postmortem.SECTION_FIELDS:
        s = section_context(postmortem, field, None)["s"]
        made.append({**s, "preview": "", "comments": []})
    made[0].update(
        revision=saved,
        number=saved.number,
        preview=mark_safe("<p>stored &amp; safe</p>"),
        findings=[finding, plain],
        findings_hidden=3,
        comments=[asked, anonymous],
    )
    made[1].update(
        revision=nobody,
        number=nobody.number,
        text="Impact **bold**",
        findings=[plain],
        findings_hidden=1,
        comments=[anonymous],
    )
    made[2].update(text=HOSTILE, error="Too long: <2 MB> please")
    made[3].update(text="")
    return made


def test_each_section_is_written_as_the_template_wrote_it():
    postmortem = _postmortem()
    incident = postmortem.incident
    for s in _sections(postmortem):
        expected = _former(
            "section_editor",
            s=s,
            incident=incident,
            section_max_bytes=65536,
            section_comments=s["comments"],
            field=s["field"],
        )
        got = section_html.section_editor(s, incident=incident, csrf_input=CSRF, max_bytes=65536)
        assert _normal(got) == _normal(expected), s["field"]


@pytest.mark.parametrize("oob", [False, True])
def test_the_save_responses_pieces_are_written_as_the_templates_wrote_them(oob):
    postmortem = _postmortem()
    for s in _sections(postmortem):
        assert _normal(section_html.base_input(s, oob=oob)) == _normal(
            _former("section_base", s=s, oob=oob)
        )
        assert _normal(section_html.preview(s, oob=oob)) == _normal(
            _former("section_preview", s=s, oob=oob)
        )
        assert _normal(section_html.findings(s, oob=oob)) == _normal(
            _former("section_findings", s=s, oob=oob)
        )
        assert _normal(section_html.save_state(s, oob=oob)) == _normal(
            _former("section_state", s=s, oob=oob)
        )
        refused = section_html.save_state(s, oob=oob, state_class="state-error", text="No <b>")
        assert _normal(refused) == _normal(
            _former("section_state", s=s, oob=oob, state_class="state-error", state_text="No <b>")
        )
        for slot in ("conflict", "remote"):
            empty = getattr(section_html, f"{slot}_slot")(s, oob=oob)
            assert _normal(empty) == _normal(_former(f"section_{slot}", s=s, oob=oob))


def test_general_comments_are_written_as_the_template_wrote_them():
    postmortem = _postmortem()
    s = _sections(postmortem)[0]
    url = reverse("postmortems:comment", args=[postmortem.incident.number])
    for shown in (s["comments"], []):
        got = section_html.comments(shown, "general", comment_url=url, csrf_input=CSRF)
        expected = _former(
            "comments",
            section_comments=shown,
            field="general",
            incident=postmortem.incident,
        )
        assert _normal(got) == _normal(expected)


def test_hostile_text_is_escaped_and_the_stored_preview_is_not():
    postmortem = _postmortem()
    s = _sections(postmortem)[0]
    html = section_html.section_editor(
        s, incident=postmortem.incident, csrf_input=CSRF, max_bytes=10
    )
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert '<div class="md"><p>stored &amp; safe</p></div>' in html
    assert "Ana &lt;b&gt; O&#x27;Neil" in html


def test_a_conflict_or_someone_elses_save_is_written_by_its_template():
    postmortem = _postmortem()
    s = _sections(postmortem)[0]
    theirs = SimpleNamespace(
        author=UserFactory(first_name="Bo"), created_at=timezone.now(), number=4
    )
    conflict = {"theirs": theirs, "theirs_text": "theirs", "mine": "mine", "parts": [], "count": 0}
    html = section_html.conflict_slot(s, conflict=conflict)
    assert "Not saved: Bo " in html
    assert 'id="conflict-summary"' in html
    merged = section_html.conflict_slot(s, oob=True, merged=True)
    assert "combined with changes someone else saved" in merged and "hx-swap-oob" in merged
    remote = SimpleNamespace(revision=theirs, since=2, diff=[])
    assert "saved this section at" in section_html.remote_slot(s, remote=remote)
