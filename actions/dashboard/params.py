"""What the dashboard shows: a period and a scope, read from the query string.

`?range=30|90|365|custom&start=YYYY-MM-DD&end=YYYY-MM-DD&scope=org|team:<slug>|service:<slug>`
The same parameters drive the page, its CSV exports and its drill-down lists, so a link to any
of them is shareable and shows the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from html import escape
from urllib.parse import urlencode

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.safestring import mark_safe

from incidents import permissions
from incidents.bounds import BoundedForm
from incidents.models import Service, Team
from incidents.widgets import FormSelect, _attrs_html

from .. import metrics
from ..metrics import Period, Scope

RANGES = [
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("365", "Last 365 days"),
    ("custom", "Custom range"),
]
DEFAULT_RANGE = "90"
# A custom range is at most three years: the monthly charts stay a readable, bounded size.
MAX_DAYS = 3 * 366
ORG_KEY = "org"


def utc_today() -> date:
    """Periods are UTC days, as in the monthly digest."""
    return datetime.now(UTC).date()


class ScopeSelect(FormSelect):
    """The scope <select>, with its teams and services in option groups, written byte for byte
    as Django's widget templates write it, without a template per option: an admin's lists
    every team and service (1,200 options at scale 5, ~150 ms a page through the templates).
    html.escape is what Django's escape calls, without its lazy-string wrapper."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        has_selected = False
        out = []

        def option(key, label) -> str:
            nonlocal has_selected
            key = "" if key is None else str(key)
            selected = not has_selected and key in chosen  # the first match only, as Django
            has_selected |= selected
            mark = " selected" if selected else ""
            return f'\n  <option value="{escape(key)}"{mark}>{escape(str(label))}</option>\n'

        for key, label in self.choices:
            if isinstance(label, list | tuple):
                out.append(f'\n  <optgroup label="{escape(str(key))}">')
                out += [option(k, text) for k, text in label]
                out.append("\n  </optgroup>")
            else:
                out.append(option(key, label))
        final = _attrs_html(self.build_attrs(self.attrs, attrs))
        return mark_safe(f'<select name="{escape(name)}"{final}>{"".join(out)}\n</select>')  # noqa: S308


class DashboardForm(BoundedForm, forms.Form):
    range = forms.ChoiceField(choices=RANGES, required=False, label="Period", widget=FormSelect)
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )
    scope = forms.ChoiceField(required=False, label="Scope", widget=ScopeSelect)

    def __init__(self, data, *, scope_choices, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["scope"].choices = scope_choices
        self.swapped = False

    def clean(self):
        data = super().clean()
        if data.get("range") != "custom":
            return data
        start, end = data.get("start"), data.get("end")
        if not start or not end:
            raise forms.ValidationError("A custom range needs both a start and an end date.")
        if start > end:
            # Dates typed the wrong way round: use them swapped, and say so (select()).
            start, end = data["start"], data["end"] = end, start
            self.swapped = True
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError("Choose a custom range of at most three years.")
        return data


@dataclass(frozen=True)
class TeamChoice:
    team: Team
    mine: bool  # the viewer belongs to or manages it
    managed: bool


@dataclass
class Selection:
    """The period and scope in force, with what the page needs to offer other choices."""

    period: Period
    scope: Scope
    scope_key: str
    range: str
    today: date  # UTC
    form: DashboardForm
    teams: list[TeamChoice]
    services: list[tuple[str, str, int]]  # (slug, name, team pk), by name
    defaulted_to_team: bool
    notice: str = ""  # what was changed from the request (reversed dates, a bad range)
    dates_swapped: bool = False

    @property
    def judged(self) -> Period | None:
        """The part of the period the health metric can judge: items due up to yesterday (an
        item due today still has the day). None when the period has no such day."""
        end = min(self.period.end, self.today - timedelta(days=1))
        return Period(self.period.start, end) if end >= self.period.start else None

    def params(self, **extra) -> list[tuple[str, str]]:
        pairs = [("range", self.range)]
        if self.range == "custom":
            pairs += [("start", f"{self.period.start}"), ("end", f"{self.period.end}")]
        pairs.append(("scope", self.scope_key))
        for name, value in extra.items():
            values = value if isinstance(value, list | tuple) else [value]
            pairs += [(name, str(v)) for v in values if v is not None and v != ""]
        return pairs

    def query(self, **extra) -> str:
        # The selection's own part is encoded once: a page links hundreds of counts.
        pairs, encoded = self._encoded
        more = self.params(**extra)[len(pairs) :]
        return f"{encoded}&{urlencode(more)}" if more else encoded

    @cached_property
    def _encoded(self) -> tuple[list, str]:
        pairs = self.params()
        return pairs, urlencode(pairs)

    def list_filter(self) -> list[tuple[str, str]]:
        """The action item list's own filter for this scope (its `team` or `service`)."""
        if self.scope.team:
            return [("team", self.scope.team.slug)]
        if self.scope.service:
            return [("service", self.scope.service.slug)]
        return []

    @property
    def my_teams(self) -> list[Team]:
        return [c.team for c in self.teams if c.mine]


def _scopes(user, only: str = "") -> tuple[list[TeamChoice], list[tuple[str, str, int]]]:
    """Every team (with the viewer's part in it) and every service, by name; or, for `only`
    (a `team:<slug>` or `service:<slug>` key), just that team or that service and its team:
    what a figure, a list or an export needs to check the scope it was asked for, without
    reading 200 teams and 1,000 services on each of a dashboard's requests."""
    managed = Team.managers.through.objects.filter(team=OuterRef("pk"), user=user.pk)
    member = Team.members.through.objects.filter(team=OuterRef("pk"), user=user.pk)
    teams = Team.objects.annotate(is_managed=Exists(managed), is_member=Exists(member))
    # Plain rows: as model instances (with their teams) a thousand services cost ~60 ms per
    # request; only a chosen one is read as a model (resolve_scope).
    services = Service.objects.order_by("name")
    kind, _, slug = only.partition(":")
    if kind == "team":
        teams, services = teams.filter(slug=slug), services.none()
    elif kind == "service":
        services = services.filter(slug=slug)
        teams = teams.filter(services__slug=slug)
    elif only:
        teams, services = teams.none(), services.none()
    choices = [
        TeamChoice(team, mine=team.is_managed or team.is_member, managed=team.is_managed)
        for team in teams
    ]
    return choices, list(services.values_list("slug", "name", "team_id"))


def select(request, *, picker: bool = True) -> Selection:
    """Read the period and scope; invalid input falls back to the defaults (with the form's
    errors shown), so a stale link still opens a dashboard.

    `picker`: the page shows the scope picker, so every team and service is read. A figure, a
    list or an export (picker False) reads only the scope it was asked for, and every one
    only when it must fall back to the default; the scope they end on is the same."""
    user = request.user
    asked = request.GET.get("scope", "")
    teams, services = _scopes(user, "" if picker else asked)
    choices = scope_choices(user, teams, services)
    scope = None
    if asked:
        # A link to a scope this person may not open is refused, not quietly swapped.
        scope = resolve_scope(asked, teams, services)
        if asked == ORG_KEY or scope is not metrics.ORG:
            _require_scope(user, scope)
    form = DashboardForm(request.GET or None, scope_choices=choices)
    data = {}
    notice = ""
    if form.is_bound:
        form.is_valid()  # fields that are fine stay in cleaned_data
        data = dict(form.cleaned_data)
        if form.non_field_errors():
            data.pop("range", None)  # an unusable custom range: show the default period
            days = dict(RANGES)[DEFAULT_RANGE].lower()
            notice = " ".join(form.non_field_errors()) + f" Showing the {days} instead."
        elif form.swapped:
            # The form shows the dates in use, not the reversed ones that were typed.
            corrected = request.GET.copy()
            corrected["start"], corrected["end"] = f"{data['start']}", f"{data['end']}"
            form = DashboardForm(corrected, scope_choices=choices)
            form.is_valid()
            start, end = data["start"], data["end"]
            notice = (
                "The start date was after the end date, so they were swapped: showing "
                f"{start.day} {start:%b %Y} to {end.day} {end:%b %Y}."
            )
    today = utc_today()

    range_ = data.get("range") or DEFAULT_RANGE
    if range_ == "custom":
        period = Period(data["start"], data["end"])
    else:
        period = Period.last(int(range_), today)

    scope_key = data.get("scope") or ""
    defaulted = False
    may_org = permissions.can(user, "view_org_dashboard")
    if not scope_key:
        if not picker and asked:  # the scope asked for was refused: the default needs them all
            teams, services = _scopes(user)
        # Managers land on the first team they manage, members on their first team; others
        # (admins, read-only viewers) on the organisation.
        first = next((c.team for c in teams if c.managed), None)
        if first is None and not may_org:
            first = next((c.team for c in teams if c.mine), None)
        scope_key = f"team:{first.slug}" if first else ORG_KEY
        defaulted = first is not None
    if not form.is_bound:
        initial = {"range": range_, "scope": scope_key}
        form = DashboardForm(None, scope_choices=choices, initial=initial)
    if scope is None or scope_key != asked:
        scope = resolve_scope(scope_key, teams, services)
    _require_scope(user, scope)
    return Selection(
        period=period,
        scope=scope,
        scope_key=scope_key,
        range=range_,
        today=today,
        form=form,
        teams=teams,
        services=services,
        defaulted_to_team=defaulted,
        notice=notice,
        dates_swapped=form.is_bound and bool(notice) and not form.non_field_errors(),
    )


def _require_scope(user, scope: Scope) -> None:
    """The organisation dashboard is for admins, managers and read-only viewers; a team's
    (or one of its services') for its members, managers and admins (docs/permissions.md)."""
    team = scope.team or (scope.service.team if scope.service else None)
    if team is None:
        permissions.require(user, "view_org_dashboard")
    else:
        permissions.require(user, "view_team_dashboard", team)


def scope_choices(user, teams: list[TeamChoice], services: list[tuple[str, str, int]]) -> list:
    """Only the scopes this person may open."""
    everything = user.is_superuser
    mine = [(f"team:{c.team.slug}", c.team.name) for c in teams if c.mine]
    others = [(f"team:{c.team.slug}", c.team.name) for c in teams if not c.mine and everything]
    mine_ids = {c.team.pk for c in teams if c.mine}
    services = [(slug, name) for slug, name, team in services if everything or team in mine_ids]
    choices: list = []
    if permissions.can(user, "view_org_dashboard"):
        choices.append((ORG_KEY, "Organisation (every team)"))
    if mine:
        choices.append(("Your teams", mine))
    if others:
        choices.append(("Other teams", others))
    if services:
        choices.append(("Services", [(f"service:{slug}", name) for slug, name in services]))
    return choices


def resolve_scope(key: str, teams: list[TeamChoice], services: list[tuple[str, str, int]]) -> Scope:
    kind, _, slug = key.partition(":")
    if kind == "team":
        team = next((c.team for c in teams if c.team.slug == slug), None)
        if team:
            return Scope(team=team)
    if kind == "service":
        team = next((pk for s, _, pk in services if s == slug), None)
        if team is not None:
            service = Service.objects.get(slug=slug)
            service.team = next(c.team for c in teams if c.team.pk == team)
            return Scope(service=service)
    return metrics.ORG
