import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.template import Context, Template
from django.utils.safestring import SafeString

from postmortems import markdown
from postmortems.markdown import render_markdown, render_markdown_many

from .xss_corpus import PAYLOADS

# Written out here rather than imported, so widening the allow-list has to pass these too.
DANGEROUS_TAGS = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
    "input", "button", "textarea", "select", "meta", "base", "link", "svg", "math", "template",
    "noscript", "video", "audio", "source", "marquee", "body", "html", "xmp",
}  # fmt: skip
DANGEROUS_ATTRIBUTES = {
    "style", "srcdoc", "formaction", "action", "xlink:href", "dynsrc", "lowsrc", "background",
    "data",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "cite", "action", "formaction", "poster"}
BLANKS = re.compile(r"[\x00-\x20\x7f-\x9f\s]+")


class Elements(HTMLParser):
    """Collects (tag, {attribute: entity-decoded value}) for every element in the output."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def scheme(url: str) -> str | None:
    match = re.match(r"([^:/?#]+):", BLANKS.sub("", url))
    return match.group(1).lower() if match else None


def assert_nothing_executable(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered
    for raw_tag in re.findall(r"<[^>]+>", html):
        assert not re.search(r"[\s/\"']on[a-z]+\s*=", raw_tag, re.IGNORECASE), raw_tag
    for tag, attributes in elements(html):
        assert tag not in DANGEROUS_TAGS, tag
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in DANGEROUS_ATTRIBUTES, (tag, name)
            if name in URL_ATTRIBUTES:
                assert scheme(value) in {None, "http", "https", "mailto"}, (tag, name, value)
                assert "javascript:" not in BLANKS.sub("", value).lower()
        if tag == "img" and "src" in attributes:
            assert scheme(attributes["src"]) in {"http", "https"}, attributes
        if tag == "a":
            assert attributes.get("rel") == "noopener noreferrer nofollow", attributes


def test_the_corpus_is_big_enough_to_mean_something():
    assert len(PAYLOADS) >= 40
    assert len(set(PAYLOADS)) == len(PAYLOADS)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_render_without_executable_vectors(payload):
    assert_nothing_executable(render_markdown(payload))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payloads_stay_inert_inside_surrounding_markdown(payload):
    text = f"## Timeline\n\n- 14:02 alert fired\n\n{payload}\n\n**Resolved** at 14:40."
    html = render_markdown(text)
    assert_nothing_executable(html)
    assert "<h2>Timeline</h2>" in html


def test_the_checker_itself_catches_executable_markup():
    # Guard against a checker that passes everything.
    for bad in [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="jav&#x09;ascript:alert(1)" rel="noopener noreferrer nofollow">x</a>',
        '<img src="data:image/png;base64,AAAA">',
        '<p style="color:red">x</p>',
        '<a href="https://ok.example">no rel</a>',
    ]:
        with pytest.raises(AssertionError):
            assert_nothing_executable(bad)


def test_headings_emphasis_and_paragraphs_render():
    html = render_markdown("# Summary\n\nCheckout was **down** for *40 minutes*.\n\n### Impact")
    assert "<h1>Summary</h1>" in html
    assert "<strong>down</strong>" in html
    assert "<em>40 minutes</em>" in html
    assert "<h3>Impact</h3>" in html


def test_lists_render_and_keep_their_start_number():
    html = render_markdown("- one\n- two\n\n3. third\n4. fourth")
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert '<ol start="3">' in html
    assert "<li>fourth</li>" in html


def test_tables_render_with_alignment_but_no_style_attribute():
    html = render_markdown("| Region | Errors |\n|:-------|-------:|\n| eu-west | 1,204 |")
    assert "<table>" in html
    assert '<th align="left">Region</th>' in html
    assert '<td align="right">1,204</td>' in html
    assert "style=" not in html


def test_fenced_code_keeps_its_language_and_escapes_html_inside():
    html = render_markdown("```python\nif x < 3:\n    print('<script>')\n```")
    assert '<pre><code class="language-python">' in html
    assert "&lt;script&gt;" in html
    assert "<script" not in html


def test_inline_code_and_blockquotes_render():
    html = render_markdown("> Run `kubectl rollout undo` first.")
    assert "<blockquote>" in html
    assert "<code>kubectl rollout undo</code>" in html


def test_safe_links_render_with_rel():
    html = render_markdown(
        "[dash](https://grafana.example/d/1) [mail](mailto:sre@example.com) "
        "[plain](http://status.example) [incident](/incidents/12/)"
    )
    rel = 'rel="noopener noreferrer nofollow"'
    assert f'<a href="https://grafana.example/d/1" {rel}>dash</a>' in html
    assert f'<a href="mailto:sre@example.com" {rel}>mail</a>' in html
    assert f'<a href="http://status.example" {rel}>plain</a>' in html
    assert f'<a href="/incidents/12/" {rel}>incident</a>' in html


def test_http_images_render_and_other_sources_are_dropped():
    html = render_markdown("![graph](https://grafana.example/render/1.png) ![m](mailto:a@b.c)")
    assert '<img alt="graph" src="https://grafana.example/render/1.png">' in html
    assert "mailto" not in html


def test_unknown_tags_are_removed_but_their_text_is_kept():
    html = render_markdown("Latency <blink>spiked</blink> to 4s.")
    assert html == "<p>Latency spiked to 4s.</p>"


def test_scripts_are_dropped_with_their_content():
    html = render_markdown("Before\n\n<script>stealCookies()</script>\n\nAfter")
    assert "stealCookies" not in html
    assert "<p>Before</p>" in html and "<p>After</p>" in html


def test_output_is_a_safe_string_and_empty_input_is_empty():
    assert isinstance(render_markdown("hi"), SafeString)
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


def test_template_filter_renders_sanitised_html():
    template = Template("{% load debrief_markdown %}<div>{{ text|markdown }}</div>")
    html = template.render(Context({"text": "**Resolved** <img src=x onerror=alert(1)>"}))
    assert "<strong>Resolved</strong>" in html  # not double-escaped by autoescape
    assert "onerror" not in html


def test_template_filter_accepts_none():
    template = Template("{% load debrief_markdown %}[{{ text|markdown }}]")
    assert template.render(Context({"text": None})) == "[]"


def test_short_texts_are_rendered_once_then_read_from_the_cache(monkeypatch):
    cache.clear()
    calls = []
    real = markdown._render
    monkeypatch.setattr(markdown, "_render", lambda text: calls.append(text) or real(text))
    texts = ["**First** section", "Second <script>x</script>", "", None, "**First** section"]
    first = render_markdown_many(texts)
    assert calls == ["**First** section", "Second <script>x</script>"]
    again = render_markdown_many(texts)
    assert again == first and calls == ["**First** section", "Second <script>x</script>"]
    assert render_markdown("Second <script>x</script>") == first[1]
    assert first[0] == "<p><strong>First</strong> section</p>" and "script" not in first[1]
    assert first[2] == first[3] == ""
    edited = render_markdown_many(["**First** section, edited"])
    assert edited == ["<p><strong>First</strong> section, edited</p>"] and len(calls) == 3
