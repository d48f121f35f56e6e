"""Which past incidents look like this one (their unfinished fixes: actions/related.py).

Signals, each explainable in the page: shared services, the same pattern label, the same
contributing-factor categories, and similar words in title and summary (PostgreSQL full-text
search; a word-overlap fallback elsewhere). Query count is fixed, whatever the data size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Count, FloatField
from django.db.models.expressions import RawSQL

from incidents.models import Incident

from .models import ContributingFactor, Postmortem

_WORD = re.compile(r"[a-z][a-z0-9]{3,}")
_STOP = frozenset(
    [
        "after",
        "before",
        "during",
        "from",
        "into",
        "with",
        "without",
        "that",
        "this",
        "were",
        "when",
        "what",
        "which",
        "while",
        "have",
        "been",
        "some",
        "more",
        "than",
        "then",
        "they",
        "their",
        "there",
        "about",
        "again",
        "because",
        "could",
        "would",
        "should",
        "minutes",
        "hours",
        "incident",
        "outage",
        "errors",
        "error",
        "issue",
    ]
)
# Suggestions look at the most recent earlier incidents only: it keeps the editor fast at
# tens of thousands of incidents, and an old look-alike matters less than a recent one.
CANDIDATE_WINDOW = 1000
FALLBACK_CANDIDATES = 500


@dataclass
class Suggestion:
    incident: Incident
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _text_matches(incident: Incident, candidates) -> dict[int, float]:
    words = _words(f"{incident.title} {incident.summary}")
    if not words:
        return {}
    if connection.vendor == "postgresql":
        # The stored, GIN-indexed `search` column (incidents migration 0008): ranking reads
        # the vectors instead of parsing 1,000 titles and summaries per request.
        query = " | ".join(sorted(words))
        matches = RawSQL(
            "incidents_incident.search @@ to_tsquery('english', %s)",
            [query],
            output_field=BooleanField(),
        )
        rank = RawSQL(
            "ts_rank(incidents_incident.search, to_tsquery('english', %s))",
            [query],
            output_field=FloatField(),
        )
        rows = (
            candidates.filter(matches)
            .annotate(rank=rank)
            .filter(rank__gt=0.01)
            .order_by("-rank")
            .values_list("pk", "rank")[:50]
        )
        return {pk: float(rank) for pk, rank in rows}
    scores = {}
    rows = candidates.order_by("-started_at").values_list("pk", "title", "summary")
    for pk, title, summary in rows[:FALLBACK_CANDIDATES]:
        other = _words(f"{title} {summary}")
        shared = words & other
        if shared:
            scores[pk] = len(shared) / len(words | other)
    return scores


def _any(column: str, ids: list[int]) -> RawSQL:
    """`column` is one of `ids` (PostgreSQL). The ids travel as one comma-separated string:
    psycopg's client-side binding spells out a list of 1,000 ints in Python, slowly."""
    return RawSQL(
        f"{column} = ANY(string_to_array(%s, ',')::bigint[])",
        [",".join(map(str, ids))],
        output_field=BooleanField(),
    )


def suggest_related(
    incident: Incident, user, limit: int = 5, *, service_ids=None, categories=None
) -> list[Suggestion]:
    """Earlier incidents the viewer can see that look related and are not linked yet.

    `service_ids` and `categories` (of the incident's contributing factors) may be given by a
    page that has read them already."""
    earlier = (
        Incident.objects.visible_to(user)
        .filter(started_at__lt=incident.started_at)
        .exclude(pk=incident.pk)
        .exclude(pk__in=incident.related.values("pk"))
        .order_by("-started_at")
        .values_list("pk", flat=True)[:CANDIDATE_WINDOW]
    )
    ids = None
    if connection.vendor == "postgresql":
        # Read once: as a subquery, the visibility rule and the sort ran again in every
        # signal; as one parameter, not a thousand (each costs the driver time).
        ids = list(earlier)
        candidates = Incident.objects.filter(_any("incidents_incident.id", ids))
    else:
        candidates = Incident.objects.filter(pk__in=earlier)
    found: dict[int, Suggestion] = {}

    def add(pk, score, reason):
        suggestion = found.setdefault(pk, Suggestion(incident=None))
        suggestion.score += score
        suggestion.reasons.append(reason)

    if service_ids is None:
        service_ids = list(incident.services.values_list("pk", flat=True))
    if service_ids:
        shared = (
            candidates.filter(services__in=service_ids)
            .annotate(shared=Count("services", distinct=True))
            .values_list("pk", "shared")
        )
        for pk, count in shared:
            add(pk, 2.0 * count, f"{count} shared service{'s' if count != 1 else ''}")
    if incident.pattern:
        for pk in candidates.filter(pattern=incident.pattern).values_list("pk", flat=True):
            add(pk, 3.0, f"same pattern “{incident.pattern}”")
    if categories is None:
        categories = set(
            ContributingFactor.objects.filter(postmortem__incident=incident).values_list(
                "category", flat=True
            )
        )
    if categories:
        # Every factor of the candidates, the categories picked here: filtered by category
        # in SQL, PostgreSQL read all factors of that category in the organisation's history.
        if ids is not None:
            # The candidates' postmortems, then their factors, each by its index: joined in one
            # query, PostgreSQL hashed every postmortem or factor of the organisation's history.
            incident_of = dict(
                Postmortem.objects.filter(_any("postmortems_postmortem.incident_id", ids))
                .order_by()
                .values_list("pk", "incident_id")
            )
            factors = ContributingFactor.objects.filter(
                _any("postmortems_contributingfactor.postmortem_id", list(incident_of))
            ).values_list("postmortem_id", "category")
            rows = [(incident_of[pm], category) for pm, category in factors.order_by()]
        else:
            rows = (
                ContributingFactor.objects.filter(postmortem__incident__in=candidates)
                .values_list("postmortem__incident_id", "category")
                .order_by()
            )
        by_incident: dict[int, set] = {}
        for pk, category in rows:
            if category in categories:
                by_incident.setdefault(pk, set()).add(category)
        for pk, shared in by_incident.items():
            add(pk, 1.0 * len(shared), "same factor categories: " + ", ".join(sorted(shared)))
    for pk, score in _text_matches(incident, candidates).items():
        add(pk, 4.0 * min(score, 1.0), "similar wording")
    top = sorted(found.items(), key=lambda kv: -kv[1].score)[:limit]
    incidents = Incident.objects.select_related("team").in_bulk([pk for pk, _ in top])
    result = []
    for pk, suggestion in top:
        suggestion.incident = incidents[pk]
        result.append(suggestion)
    return result
