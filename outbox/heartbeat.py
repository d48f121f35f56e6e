"""When the periodic jobs last ran: written by beat-driven tasks and sweeps, read by /healthz
and the admin warning. One row per name, upserted: reading one is a primary-key lookup."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import Heartbeat

BEAT = "beat"  # any task beat started (the outbox tick runs every minute)
SWEEP = "sweep"  # a reminder or digest sweep, from beat or from a cron command


def record(name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


def last(names: tuple[str, ...] = (BEAT, SWEEP)) -> dict[str, datetime | None]:
    found = dict(Heartbeat.objects.filter(name__in=names).values_list("name", "at"))
    return {name: found.get(name) for name in names}


def beat_is_stale(at: datetime | None) -> bool:
    """Beat ticked once and not for DEBRIEF_BEAT_STALE_MINUTES since.

    A fresh install has no tick yet and a cron deployment never has one: neither is stale.
    """
    limit = timedelta(minutes=settings.DEBRIEF_BEAT_STALE_MINUTES)
    return at is not None and timezone.now() - at > limit


def beat_warning() -> str:
    """The sentence the admin pages show when beat has stopped, or ""."""
    at = last((BEAT,))[BEAT]
    if not beat_is_stale(at):
        return ""
    hours = (timezone.now() - at).total_seconds() / 3600
    return (
        f"Celery beat has not ticked for {hours:.1f} hours (last tick {at:%Y-%m-%d %H:%M} UTC): "
        "reminders, digests and email retries are not running. Check the beat process."
    )
