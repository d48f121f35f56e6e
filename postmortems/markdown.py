"""Render user-written Markdown to HTML that is safe to put on a page.

Postmortem sections are written by many people and read by everyone, so the output goes
through nh3 (the ammonia sanitiser) with an explicit allow-list: anything not listed here is
dropped, whatever Python-Markdown or raw HTML in the input produced.
"""

from __future__ import annotations

import hashlib
import re
import threading

import markdown as md
import nh3
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe

from .models import RenderedMarkdown

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "del", "s",
    "code", "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr",
    "th", "td", "dl", "dt", "dd", "sup", "sub", "kbd", "abbr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "code": {"class"},
    "abbr": {"title"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"

# Their content goes too, not just the tags: a stripped <script> must not leave its code as text.
_DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template"}
_LANGUAGE_CLASS = re.compile(r"language-[\w+#-]+")
# Browsers drop tabs and newlines inside a URL and spaces around it, so "java\tscript:" still
# runs; checking with every blank and control character removed is stricter than any browser.
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f-\x9f\s]+")
_SCHEME = re.compile(r"([^:/?#]+):")


# Texts this long are rendered once and stored: a 190 KB section takes about a second to render,
# and the editor shows seven of them.
STORE_FROM_CHARS = 20_000
# Bump when the rendering or the allow-list changes, so stored HTML is rendered again.
RENDER_VERSION = "1"


def render_markdown(text: str | None) -> SafeString:
    """Markdown to sanitised HTML: tables, fenced code and sane lists, nothing executable."""
    if not text:
        return mark_safe("")
    if len(text) < STORE_FROM_CHARS:
        return mark_safe(_cached_renders([text])[text])
    digest = hashlib.sha256(f"{RENDER_VERSION}\x1d{text}".encode()).hexdigest()
    html = RenderedMarkdown.objects.filter(digest=digest).values_list("html", flat=True).first()
    if html is None:
        html = _render(text)
        RenderedMarkdown.objects.bulk_create(
            [RenderedMarkdown(digest=digest, html=html)], ignore_conflicts=True
        )
    return mark_safe(html)


def render_markdown_many(texts: list[str | None]) -> list[SafeString]:
    """`render_markdown` for each text, with one query for all the stored ones (a page of
    sections reads them together, not one query per long section) and one cache read for the
    shorter ones."""
    digests = [
        hashlib.sha256(f"{RENDER_VERSION}\x1d{text}".encode()).hexdigest()
        if text and len(text) >= STORE_FROM_CHARS
        else None
        for text in texts
    ]
    wanted = {d for d in digests if d}
    stored = (
        dict(RenderedMarkdown.objects.filter(digest__in=wanted).values_list("digest", "html"))
        if wanted
        else {}
    )
    cached = _cached_renders([t for t, d in zip(texts, digests, strict=True) if t and not d])
    new = {}
    result = []
    for text, digest in zip(texts, digests, strict=True):
        if not digest:
            result.append(mark_safe(cached[text]) if text else mark_safe(""))
            continue
        if digest not in stored:
            stored[digest] = new[digest] = _render(text)
        result.append(mark_safe(stored[digest]))
    if new:
        RenderedMarkdown.objects.bulk_create(
            [RenderedMarkdown(digest=d, html=html) for d, html in new.items()],
            ignore_conflicts=True,
        )
    return result


# Shorter texts are rendered once and kept in Django's cache (in memory, or Redis shared by
# every process): the document and the editor render seven sections on every request, and
# sections change far less often than they are read. The key is the text's digest, so an
# edited text is simply a new key.
CACHE_SECONDS = 24 * 3600


def _cache_key(text: str) -> str:
    return "md:" + hashlib.sha256(f"{RENDER_VERSION}\x1d{text}".encode()).hexdigest()


def _cached_renders(texts: list[str]) -> dict[str, str]:
    """Each text's sanitised HTML: from the cache, or rendered now and cached."""
    if not texts:
        return {}
    keys = {text: _cache_key(text) for text in texts}
    found = cache.get_many(set(keys.values()))
    html, missing = {}, {}
    for text, key in keys.items():
        if key in found:
            html[text] = found[key]
        else:
            html[text] = missing[key] = _render(text)
    if missing:
        cache.set_many(missing, CACHE_SECONDS)
    return html


_converters = threading.local()


def _converter() -> md.Markdown:
    """This thread's converter: building one loads every extension (~2 ms, seven times per
    editor page); a Markdown instance is not thread-safe, so each thread keeps its own."""
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = _converters.markdown = md.Markdown(
            extensions=["tables", "fenced_code", "sane_lists"],
            # align="..." rather than style="text-align: ...": no style attributes get through.
            extension_configs={"tables": {"use_align_attribute": True}},
            output_format="html",
        )
    return converter


def _render(text: str) -> str:
    converter = _converter()
    try:
        html = converter.convert(text)
    finally:
        converter.reset()  # nothing of one text (footnotes, references) leaks into the next
    return sanitize_html(html)


def sanitize_html(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        # Images load without a click, so only absolute http(s): no data:, no mailto:.
        return value if _scheme(value) in {"http", "https"} else None
    if tag == "a" and attribute == "href":
        # nh3 checks schemes too; this also catches "java\tscript:", which browsers run.
        scheme = _scheme(value)
        return value if scheme is None or scheme in URL_SCHEMES else None
    if tag == "code" and attribute == "class":
        # Only the language hint that fenced code adds, for syntax highlighting.
        languages = _LANGUAGE_CLASS.findall(value)
        return " ".join(languages) or None
    return value


def _scheme(url: str) -> str | None:
    """The lower-cased scheme of a URL, or None when it is relative."""
    match = _SCHEME.match(_IGNORED_IN_URLS.sub("", url))
    return match.group(1).lower() if match else None
