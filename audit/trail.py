"""Recording changes: who acts, which models are tracked, and the writes signals never see.

django-auditlog records every `save()`, `delete()` and many-to-many change of a tracked model
through signals. Three things it cannot know are supplied here:

- who acts: services run under `acting(by)` (or `@audited`), so a Celery task or a command
  records the person the service was called for, not "nobody";
- which incident a row belongs to (`track(..., incident=...)`), for the incident's Activity;
- writes that bypass signals: a version-conditional `QuerySet.update()` (`snapshot` then
  `record_update`) and `bulk_create` (`record_added`: one entry for a whole paste or import).

Secrets named in `track(..., secrets=...)` are recorded as changed, never by value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model
from django.db.models.expressions import Combinable
from django.utils.encoding import smart_str

SECRET = "(secret, not recorded)"

_actor: ContextVar = ContextVar("audit_actor", default=None)
# model -> how to find the incident one of its rows belongs to (None: belongs to none)
_incident_paths: dict[type[Model], str | None] = {}


def hide_secret(value: str) -> str:
    """auditlog's mask for secret fields: whether there is one, never what it is."""
    return "" if value in ("", "None") else SECRET


def track(
    model: type[Model],
    *,
    incident: str | None,
    fields: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    secrets: Iterable[str] = (),
    m2m: Iterable[str] = (),
) -> None:
    """Record every change to `model` (to `fields` only, when given); `incident` is the
    attribute path to its incident's pk ("pk", "incident_id", "postmortem.incident_id"), None
    for rows of no incident."""
    from auditlog.registry import auditlog

    secrets, exclude = list(secrets), set(exclude)
    # Named, not left to auditlog: on a creation it would also list reverse relations.
    columns = [
        f.name
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in exclude and (fields is None or f.name in fields)
    ]
    auditlog.register(
        model,
        include_fields=columns,
        mask_fields=secrets,
        mask_callable="audit.trail.hide_secret" if secrets else None,
        m2m_fields=set(m2m),
    )
    _incident_paths[model] = incident


def tracked_models() -> list[type[Model]]:
    return list(_incident_paths)


@contextmanager
def acting(by):
    """Entries recorded inside are by `by` (None: an operator's command, nobody to name)."""
    token = _actor.set(by)
    try:
        yield
    finally:
        _actor.reset(token)


def audited(service: Callable) -> Callable:
    """Run a service under `acting(<its by=>)`.

    `by=None` (an operator's command, nobody to ask) keeps whoever the caller named, e.g. the
    command's `--user`."""

    @functools.wraps(service)
    def run(*args, **kwargs):
        by = kwargs.get("by")
        if by is None:
            return service(*args, **kwargs)
        with acting(by):
            return service(*args, **kwargs)

    return run


def current_actor():
    """The person the running service acts for, or None (then auditlog's middleware names the
    signed-in requester, if there is one, as the entry is saved)."""
    actor = _actor.get()
    if isinstance(actor, get_user_model()) and actor.is_authenticated:
        return actor
    return None


def incident_of(instance: Model) -> int | None:
    path = _incident_paths.get(type(instance))
    if path is None:
        return None
    value: Any = instance
    try:
        for name in path.split("."):
            value = getattr(value, name)
    except ObjectDoesNotExist:  # deleted along with its parent
        return None
    return value


def entry_context(instance: Model, given: Mapping[str, Any]) -> dict[str, Any]:
    """The fields auditlog does not fill: actor (when a service named one) and incident."""
    extra: dict[str, Any] = {}
    if "incident_pk" not in given:
        extra["incident_pk"] = incident_of(instance)
    if "actor" not in given:
        actor = current_actor()
        if actor is not None:
            extra["actor"] = actor
            extra["actor_email"] = getattr(actor, "email", None) or None
    return extra


def _entry_model():
    from auditlog import get_logentry_model

    return get_logentry_model()


def snapshot(row: Model) -> Model | None:
    """The row as stored now, read before a `QuerySet.update()` so the change can be recorded."""
    return type(row)._default_manager.filter(pk=row.pk).first()


def record_update(before: Model | None, changes: Mapping[str, Any], *, row: Model | None = None):
    """Record that `before` was updated with `changes` (values; expressions are skipped).

    `row` is the caller's object, whose already loaded relations name it without a query."""
    from auditlog.diff import model_instance_diff

    if before is None:
        return None
    model = type(before)
    # A fresh instance, not a copy: a copy shares the cache of related objects with `before`.
    after = model(**{f.attname: getattr(before, f.attname) for f in model._meta.concrete_fields})
    after._state.adding = False
    if row is not None:
        after._state.fields_cache = dict(row._state.fields_cache)
    names = []
    for name, value in changes.items():
        if isinstance(value, Combinable):
            continue
        setattr(after, name, value)
        names.append(name)
    if not names:
        return None
    diff = model_instance_diff(
        before,
        after,
        fields_to_check=names,
        use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES,
    )
    Entry = _entry_model()
    return Entry.objects.log_create(after, action=Entry.Action.UPDATE, changes=diff)


def record_added(parent: Model, name: str, rows: Iterable[Model], describe=smart_str):
    """Record rows made by `bulk_create` (which sends no signals) as one change of `parent`:
    its `name` gained these rows, each described in full. One entry for one paste or import."""
    described = [describe(row) for row in rows]
    if not described:
        return None
    Entry = _entry_model()
    changes = {name: {"type": "m2m", "operation": "add", "objects": described}}
    return Entry.objects.log_create(parent, action=Entry.Action.UPDATE, changes=changes)
