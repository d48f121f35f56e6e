"""What there is to fuzz, found rather than listed: every route in the URLconf, the forms its
pages render (fields, methods, targets) and the query parameters its view reads.

A route's URL is filled from one world of rows (`World`); its page is fetched as an admin and
parsed for <form>s and links, so a form added to a template is fuzzed without a word here.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from django import forms
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

# Signing out would end the fuzzing session; signing in is not a signed-in person's form.
SKIPPED_ROUTES = {"logout", "login"}
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_READS = re.compile(r"request\.(GET|POST)\.get\(\s*[\"'](\w+)[\"']|request\.(GET|POST)\[[\"'](\w+)")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    callback: object

    def reads(self, method: str) -> set[str]:
        """Parameter names the view's module reads by hand from request.GET or request.POST."""
        try:
            source = inspect.getsource(inspect.getmodule(self.callback))
        except (TypeError, OSError):
            return set()
        names = set()
        for get_post, name, get_post2, name2 in _READS.findall(source):
            if (get_post or get_post2) == method:
                names.add(name or name2)
        return names


def routes() -> list[Route]:
    """Every named route of the project (the admin site excepted: Django's own)."""
    found = []

    def walk(patterns, prefix: str, namespace: str | None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or "")
                if pattern.name and name not in SKIPPED_ROUTES:
                    found.append(Route(name, prefix + str(pattern.pattern), pattern.callback))

    walk(get_resolver().url_patterns, "", None)
    return found


def fill(route: Route, values: dict[str, object]) -> str | None:
    """The route's path with its parameters filled from `values` (None if one is unknown)."""
    missing = []

    def value(match: re.Match) -> str:
        name = match.group(2)
        candidates = values.get(f"{route.name}.{name}", values.get(name))
        if candidates is None:
            missing.append(name)
            return ""
        return str(candidates)

    path = "/" + _PARAM.sub(value, route.pattern)
    return None if missing else path


@dataclass
class FormSpec:
    """One <form> as a page renders it."""

    method: str
    action: str
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def route_name(self) -> str:
        try:
            match = resolve(urlsplit(self.action).path)
        except Resolver404:
            return ""
        return f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name

    @property
    def key(self) -> tuple:
        return (self.method, self.route_name, tuple(sorted(self.fields)))


@dataclass
class Field:
    name: str
    kind: str  # input type, "textarea" or "select"
    options: list[str] = field(default_factory=list)
    value: str = ""
    multiple: bool = False
    people: bool = False  # a people box: "a b" comes back as "a, b", rewritten, not lost


class FormsAndLinks(HTMLParser):
    """<form>s with their fields, and local links, from one page."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[FormSpec] = []
        self.links: list[str] = []
        self._form: FormSpec | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            method = "post" if "hx-post" in a else a.get("method", "get").lower()
            action = a.get("hx-post") or a.get("hx-get") or a.get("action") or self.page_url
            self._form = FormSpec(method=method, action=action)
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
        elif self._form is not None and a.get("name") and a["name"] != "csrfmiddlewaretoken":
            self._field(tag, a)

    def _field(self, tag: str, a: dict) -> None:
        fields, name = self._form.fields, a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "reset", "image"}:
                kind = "button"
            known = fields.get(name)
            if known and kind in {"checkbox", "radio", "button"}:
                known.options.append(a.get("value", "on"))
                known.multiple = known.multiple or kind == "checkbox"
            else:
                fields[name] = Field(name, kind, [a.get("value", "on")], a.get("value", ""))
            fields[name].people = a.get("list", "").endswith("-people")
        elif tag == "textarea":
            self._textarea = fields[name] = Field(name, "textarea")
        elif tag == "select":
            self._select = fields[name] = Field(name, "select", multiple="multiple" in a)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def page_forms(html: str, page_url: str) -> tuple[list[FormSpec], list[str]]:
    parser = FormsAndLinks(page_url)
    parser.feed(html)
    return parser.forms, parser.links


def link_params(link: str) -> tuple[str, set[str]]:
    """A link's path and the names of its query parameters."""
    parts = urlsplit(link)
    return parts.path, {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}


# --- Form classes (for the length-limit check) ---------------------------------------------------


def all_form_classes() -> list[type[forms.BaseForm]]:
    """Every Form and ModelForm class defined in the project's own apps."""
    import importlib
    import pkgutil

    found = []
    for app in ("incidents", "postmortems", "actions"):
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            module = importlib.import_module(info.name)
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(obj, forms.BaseForm)
                    and obj.__module__ == module.__name__
                    and obj.base_fields
                ):
                    found.append(obj)
    assert apps.ready
    return found


def instantiate(form_class, data):
    """A form of the class, with whatever its constructor needs beyond data."""
    extra = {}
    params = inspect.signature(form_class.__init__).parameters
    if "scope_choices" in params:
        extra["scope_choices"] = []
    return form_class(data, **extra)
