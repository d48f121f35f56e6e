"""Outbound webhooks: every action item change POSTed as signed JSON so teams can sync trackers.

Signature: `X-Debrief-Signature: v1=<hex>` where hex is HMAC-SHA256 of `<timestamp>.<body>`
with the endpoint's secret, and `X-Debrief-Timestamp` is that Unix timestamp. A receiver
recomputes the HMAC, rejects timestamps older than a few minutes and remembers
`X-Debrief-Delivery` ids it has seen: that makes a captured request useless for replay.

Items of private incidents are never sent: an external tracker cannot apply Debrief's
membership rule, so the simplest safe rule is that they do not leave Debrief.

Setting endpoints up (create, pause, delete, retry a failed delivery) goes through the service
functions at the end, which ask incidents.permissions ("manage_webhooks" on the endpoint's team;
no team means organisation-wide, for admins only).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import trail
from incidents import permissions
from incidents.models import Team

from . import destinations
from .destinations import RefusedDestination
from .models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

DELIVER_TASK = "actions.tasks.deliver_webhook"
SIGNATURE_VERSION = "v1"
TIMEOUT_SECONDS = 10


def payload_for(item, event: str) -> dict:
    """What a receiver gets: the item as it is now, with absolute links."""
    incident = item.postmortem.incident
    return {
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "item": {
            "id": item.pk,
            "url": settings.SITE_URL + item.get_absolute_url(),
            "title": item.title,
            "description": item.description,
            "status": item.status,
            "reason": item.reason,
            "priority": f"P{item.priority}",
            "leverage": item.leverage,
            "owner": item.owner.username if item.owner_id else None,
            "owner_email": item.owner.email if item.owner_id else None,
            "due_on": item.due_on.isoformat() if item.due_on else None,
            "ticket_key": item.ticket_key,
            "ticket_url": item.ticket_url,
            "completed_at": item.completed_at.isoformat() if item.completed_at else None,
            "incident": {
                "reference": incident.reference,
                "title": incident.title,
                "severity": f"SEV{incident.severity}",
                "team": incident.team.slug,
                "url": settings.SITE_URL + incident.get_absolute_url(),
            },
        },
    }


def announce(item, event: str) -> int:
    """Queue one delivery per matching active endpoint; each is sent after the commit."""
    incident = item.postmortem.incident
    if incident.private:
        return 0
    endpoints = list(
        WebhookEndpoint.objects.filter(active=True).filter(
            Q(team__isnull=True) | Q(team_id=incident.team_id)
        )
    )
    if not endpoints:
        return 0
    payload = payload_for(item, event)
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=e, event=event, item=item, payload=payload) for e in endpoints]
    )
    ids = [d.pk for d in deliveries]
    _deliver_after_commit(ids)
    return len(ids)


def _deliver_after_commit(ids: list[int]) -> None:
    """Queue the deliveries once the rows are committed, so the worker finds them."""

    def enqueue():
        # By name: tasks.py imports this module, so importing it here would close a circle.
        for pk in ids:
            current_app.send_task(DELIVER_TASK, args=[pk])

    transaction.on_commit(enqueue)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={digest.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = 300):
    """What a receiver should do: a fresh timestamp and a matching signature, or False."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(time.time() - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


@dataclass
class Response:
    status: int
    body: str = ""


def post(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """The one network call. It follows no redirect (a 3xx is an answer like any other, so a
    public receiver cannot bounce the request inward) and connects only to addresses that
    `destinations` allows, checked on the connection itself."""
    parts = urlsplit(url)
    destinations.host_of(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
    connection._create_connection = destinations.guarded_connect  # the hook connect() calls
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return Response(response.status, response.read(2000).decode(errors="replace"))
    finally:
        connection.close()


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; Celery retries with backoff."""


def deliver(delivery_id: int, *, final_attempt: bool) -> bool:
    """POST one delivery and log the outcome on its row; raises DeliveryFailed to retry.

    Returns False when there is nothing to do (already delivered, endpoint gone or disabled),
    so a duplicate task run is harmless.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint")
            .filter(pk=delivery_id, state=WebhookDelivery.State.PENDING)
            .first()
        )
        if delivery is None or not delivery.endpoint.active:
            return False
        body = json.dumps(
            {"delivery": delivery.pk, **delivery.payload}, separators=(",", ":")
        ).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Debrief-Webhooks/1",
            "X-Debrief-Event": delivery.event,
            "X-Debrief-Delivery": str(delivery.pk),
            "X-Debrief-Timestamp": str(timestamp),
            "X-Debrief-Signature": sign(delivery.endpoint.secret, timestamp, body),
        }
        delivery.attempts += 1
        refused = False
        try:
            response = post(delivery.endpoint.url, body, headers)
            error = "" if 200 <= response.status < 300 else f"HTTP {response.status}"
            delivery.response_status = response.status
        except RefusedDestination as err:
            # Nothing was sent, so there is no answer to show and nothing a retry would change.
            error, refused = f"Refused: {err}", True
            delivery.response_status = None
        except (OSError, ValueError, http.client.HTTPException) as err:  # refused, DNS, timeout
            error = f"{type(err).__name__}: {err}"
            delivery.response_status = None
        delivery.error = error[:2000]
        if not error:
            delivery.state, delivery.delivered_at = WebhookDelivery.State.DELIVERED, timezone.now()
        elif final_attempt or refused:
            delivery.state = WebhookDelivery.State.FAILED
        delivery.save()
    if error:
        level = logging.ERROR if final_attempt else logging.WARNING
        logger.log(
            level,
            "webhook delivery %s attempt %s failed: %s",
            delivery_id,
            delivery.attempts,
            error,
        )
        if not (final_attempt or refused):
            raise DeliveryFailed(error)
    return not error


# --- Setting endpoints up -----------------------------------------------------------------------


def teams_managed_by(user):
    """The teams whose endpoints the user manages: all for admins, else the ones they manage."""
    teams = Team.objects.order_by("name")
    return teams if user.is_superuser else teams.filter(pk__in=permissions.managed_team_ids(user))


def endpoints_managed_by(user):
    """Admins manage every endpoint; team managers those of their teams."""
    endpoints = WebhookEndpoint.objects.select_related("team")
    if user.is_superuser:
        return endpoints
    return endpoints.filter(team_id__in=permissions.managed_team_ids(user))


@trail.audited
def create_endpoint(*, by, team, url: str, description: str = "", active: bool = True):
    """Add a receiver for one team's items (or, `team` None, every team's)."""
    permissions.require(by, "manage_webhooks", team)
    destinations.check_url(url)  # raises RefusedDestination with the reason
    return WebhookEndpoint.objects.create(
        team=team, url=url, description=description, active=active, created_by=by
    )


@trail.audited
def set_endpoint_paused(*, endpoint, paused: bool, by) -> None:
    """Pause an endpoint (nothing is sent to it, queued deliveries wait) or enable it again."""
    permissions.require(by, "manage_webhooks", endpoint.team)
    endpoint.active = not paused
    endpoint.save(update_fields=["active"])


@trail.audited
def delete_endpoint(*, endpoint, by) -> None:
    """Remove an endpoint and its delivery log."""
    permissions.require(by, "manage_webhooks", endpoint.team)
    endpoint.delete()


@transaction.atomic
def retry_delivery(*, delivery, by) -> bool:
    """Send a failed delivery again; False when it is no longer failed (already retried)."""
    permissions.require(by, "manage_webhooks", delivery.endpoint.team)
    failed = WebhookDelivery.objects.filter(pk=delivery.pk, state=WebhookDelivery.State.FAILED)
    if not failed.update(state=WebhookDelivery.State.PENDING, error=""):
        return False
    _deliver_after_commit([delivery.pk])
    return True
