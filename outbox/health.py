"""What /healthz reports: the database, the broker, and how long ago beat and a sweep ran.

Each check is cheap (a `SELECT 1`, a Redis PING with a one-second timeout or a look at the
embedded broker's folder, and one primary-key read of the heartbeats), so load balancers and
compose can call it every few seconds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from . import heartbeat


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        result = {"ok": True, **(check() or {})}
    except Exception as err:  # noqa: BLE001 - a health check reports, it never raises
        result = {"ok": False, "error": f"{type(err).__name__}: {err}"[:300]}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _broker() -> dict:
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        try:
            client.ping()
        finally:
            client.close()
        return {"kind": "redis"}
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    if not (folder.is_dir() and os.access(folder, os.W_OK)):
        raise OSError(f"the embedded broker's folder {folder} is missing or read-only")
    return {"kind": "filesystem"}


def _age(at) -> float | None:
    return None if at is None else round((timezone.now() - at).total_seconds())


def report() -> tuple[bool, dict]:
    """(healthy, details): healthy when the database and broker answer and beat, once it has
    ticked, ticked within DEBRIEF_BEAT_STALE_MINUTES."""
    database = _timed(_database)
    broker = _timed(_broker)
    beat = {"ok": None, "last_tick": None, "age_seconds": None}
    sweep = {"last_run": None, "age_seconds": None}
    if database["ok"]:
        try:
            last = heartbeat.last()
        except Exception as err:  # noqa: BLE001 - e.g. migrations not applied yet
            beat["error"] = f"{type(err).__name__}: {err}"[:300]
        else:
            beat_at, sweep_at = last[heartbeat.BEAT], last[heartbeat.SWEEP]
            beat.update(
                ok=not heartbeat.beat_is_stale(beat_at),
                last_tick=beat_at and beat_at.isoformat(),
                age_seconds=_age(beat_at),
                stale_after_seconds=settings.DEBRIEF_BEAT_STALE_MINUTES * 60,
            )
            sweep.update(last_run=sweep_at and sweep_at.isoformat(), age_seconds=_age(sweep_at))
    healthy = bool(database["ok"] and broker["ok"] and beat["ok"] is not False)
    return healthy, {
        "status": "ok" if healthy else "failing",
        "database": database,
        "broker": broker,
        "beat": beat,
        "sweep": sweep,
    }
