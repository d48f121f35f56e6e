"""A dashboard view as a browser shows it once htmx has loaded the figures the page asks for
after itself (Dashboard.LATER): each from its own URL, with the HX-Request header."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import HttpResponse
from django.urls import reverse

from actions.dashboard.figures.shapes import Figure

DASHBOARD = reverse("actions:dashboard")


@dataclass
class View:
    page: HttpResponse  # the page's own response (its context has the headlines)
    text: str  # the page's HTML with each placeholder swapped for its fragment, as htmx does
    figures: dict[str, Figure]  # every figure, built, by key, in the page's order


def view(client, params: dict | None = None) -> View:
    page = client.get(DASHBOARD, params or {})
    assert page.status_code == 200
    text = page.content.decode()
    figures = {}
    for section in page.context["sections"]:
        for figure in section.figures:
            if figure.later_url:
                fragment = client.get(figure.later_url, headers={"HX-Request": "true"})
                assert fragment.status_code == 200, figure.later_url
                figure = fragment.context["f"]
                placeholder = re.compile(
                    rf'<article [^>]*id="fig-{figure.key}"[^>]*aria-busy="true".*?</article>', re.S
                )
                html = fragment.content.decode()
                text, swapped = placeholder.subn(lambda _, html=html: html, text)
                assert swapped == 1, figure.key
            figures[figure.key] = figure
    return View(page, text, figures)
