"""Signed JSON events to organizations' endpoints: planned as outbox rows, delivered by Celery.

A WebhookDelivery row is written for each (event, endpoint) that wants it: alert events inside
the alert's transaction (`plan_alert_events`), business events by a subscriber after the
writer's commit (`plan_business_events`). `deliver` POSTs one row, signed, and records the
answer; a failure is retried with growing pauses by the beat sweep (`due_delivery_ids`).
"""

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.choices import DeliveryStatus, Severity, WebhookEventType
from alerts.models import Alert, WebhookDelivery, WebhookEndpoint
from alerts.notifications import alert_url
from billing.models import ChargeDetailRecord
from core import net
from core.events import Event, emit
from organizations.models import Organization
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Connector, Site

logger = logging.getLogger(__name__)

# Emitted (after commit) with the ids of alert deliveries planned in a transaction: the relay
# enqueues them. Internal to this app; receivers only ever see the signed HTTP request.
DELIVERIES_PLANNED = "alerts.webhook_deliveries_planned"

USER_AGENT = "CMS-Webhooks/1.0 (charging station management system)"
SIGNATURE_VERSION = "v1"
# Pauses after the 1st, 2nd, ... failed attempt; the last one repeats.
BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
OWED = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
# The attempt log keeps the newest entries only: a row retried for days stays small.
MAX_LOG_ENTRIES = 20
DUE_BATCH = 500

# --- which organizations have endpoints (the cheap answer of the hot paths) -----------------

_ORGANIZATIONS_KEY = "alerts:webhook-organizations:v1"
# A safety net only: saving or deleting an endpoint forgets the set at once.
_ORGANIZATIONS_TTL = 300


def organizations_with_endpoints() -> frozenset[int]:
    """Ids of the organizations with an enabled endpoint (cached; one query on a miss)."""
    try:
        known = cache.get(_ORGANIZATIONS_KEY)
    except Exception:
        # The cache (Redis) is away: the database still answers, if more slowly.
        logger.warning("webhook organizations: cache unavailable, asking the database")
        return _load_organizations()
    if known is None:
        known = _load_organizations()
        try:
            cache.set(_ORGANIZATIONS_KEY, known, _ORGANIZATIONS_TTL)
        except Exception:
            logger.warning("webhook organizations: could not cache the set")
    return known


def _load_organizations() -> frozenset[int]:
    return frozenset(
        WebhookEndpoint.objects.filter(enabled=True)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )


def endpoints_changed() -> None:
    """Call after creating, changing or deleting endpoints: the cached set is rebuilt."""
    _forget_organizations()
    # Again after the commit: a reader between now and then may have cached the old rows.
    transaction.on_commit(_forget_organizations)


def _forget_organizations() -> None:
    try:
        cache.delete(_ORGANIZATIONS_KEY)
    except Exception:
        logger.warning("webhook organizations: could not forget the cached set")


def _endpoints_by_org(organization_ids: Iterable[int]) -> dict[int, list[WebhookEndpoint]]:
    by_org: dict[int, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(
        organization_id__in=set(organization_ids), enabled=True
    ).select_related("organization"):
        by_org[endpoint.organization_id].append(endpoint)
    return by_org


# --- planning --------------------------------------------------------------------------------


def plan_alert_events(alerts: list[Alert], event_type: str) -> None:
    """Create the WebhookDelivery rows owed for `alerts` to their organizations' endpoints."""
    with_endpoints = organizations_with_endpoints()
    alerts = [a for a in alerts if a.pk and a.organization_id in with_endpoints]
    if not alerts:
        return
    endpoints = _endpoints_by_org(a.organization_id for a in alerts)
    wanted = [
        (alert, endpoint)
        for alert in alerts
        for endpoint in endpoints.get(alert.organization_id, ())
        if endpoint.wants(event_type)
        and Severity(alert.severity).rank >= Severity(endpoint.min_severity).rank
    ]
    if not wanted:
        return
    data = _alert_data([alert for alert, _endpoint in wanted])
    now = timezone.now()
    ids = _store(_delivery(endpoint, event_type, data[alert.pk], now) for alert, endpoint in wanted)
    # After the commit the relay enqueues them; a rollback drops the event with the rows.
    emit(DELIVERIES_PLANNED, delivery_ids=ids)


def plan_business_events(events: list[Event]) -> list[int]:
    """Create the deliveries owed for a batch of domain events; their ids (to enqueue)."""
    with_endpoints = organizations_with_endpoints()
    if not with_endpoints:
        return []
    events = [e for e in events if e.get("organization_id") in with_endpoints]
    if not events:
        return []
    endpoints = _endpoints_by_org(e["organization_id"] for e in events)
    wanted = [
        (event, [ep for ep in endpoints.get(event["organization_id"], ()) if ep.wants(event.name)])
        for event in events
    ]
    wanted = [(event, eps) for event, eps in wanted if eps]
    if not wanted:
        return []
    data = _business_data([event for event, _eps in wanted])
    now = timezone.now()
    return _store(
        _delivery(endpoint, event.name, data[index], now)
        for index, (event, eps) in enumerate(wanted)
        for endpoint in eps
    )


def _delivery(endpoint: WebhookEndpoint, event_type: str, data: dict, now) -> WebhookDelivery:
    event_id = uuid.uuid4()
    return WebhookDelivery(
        endpoint=endpoint,
        event_id=event_id,
        event_type=event_type,
        payload={
            "id": str(event_id),
            "type": event_type,
            "created": _iso(now),
            "organization": endpoint.organization.slug,
            "data": data,
        },
    )


def _store(deliveries: Iterable[WebhookDelivery]) -> list[int]:
    created = WebhookDelivery.objects.bulk_create(list(deliveries))
    return [delivery.pk for delivery in created]


def _alert_data(alerts: list[Alert]) -> dict[int, dict]:
    """The `data` of each alert's event, by alert id (a few queries for the whole batch)."""
    stations = _stations({a.station_id for a in alerts})
    connectors = _connectors({a.connector_id for a in alerts})
    sites = dict(
        Site.objects.filter(pk__in={a.site_id for a in alerts} - {None}).values_list("pk", "name")
    )
    slugs = dict(
        Organization.objects.filter(pk__in={a.organization_id for a in alerts}).values_list(
            "pk", "slug"
        )
    )
    data = {}
    for alert in alerts:
        data[alert.pk] = {
            "id": alert.pk,
            "kind": alert.kind,
            "severity": alert.severity,
            "state": alert.state,
            "station": stations.get(alert.station_id),
            "connector": connectors.get(alert.connector_id),
            "site": {"id": alert.site_id, "name": sites.get(alert.site_id, "")}
            if alert.site_id
            else None,
            "session_id": alert.session_id,
            "opened_at": _iso(alert.opened_at),
            "acknowledged_at": _iso(alert.acknowledged_at),
            "escalated_at": _iso(alert.escalated_at),
            "resolved_at": _iso(alert.resolved_at),
            "occurrences": alert.occurrences,
            "details": alert.details,
            "url": alert_url(alert, slugs.get(alert.organization_id)) or None,
        }
    return data


def _business_data(events: list[Event]) -> list[dict]:
    """The `data` of each event's payload, in order (a few queries for the whole batch)."""
    sessions = {
        s.pk: s
        for s in ChargingSession.objects.filter(
            pk__in={e.get("session_id") for e in events if e.name.startswith("session.")}
        )
    }
    cdrs = {
        c.pk: c
        for c in ChargeDetailRecord.objects.filter(
            pk__in={e.get("cdr_id") for e in events if e.name == WebhookEventType.CDR_CREATED}
        ).select_related("session")
    }
    station_ids = {e.get("station_id") for e in events}
    station_ids |= {c.session.station_id for c in cdrs.values()}
    connector_ids = {e.get("connector_id") for e in events}
    connector_ids |= {c.session.connector_id for c in cdrs.values()}
    stations = _stations(station_ids)
    connectors = _connectors(connector_ids)
    out = []
    for event in events:
        data: dict = {
            "station": stations.get(event.get("station_id")),
        }
        if event.name == WebhookEventType.STATION_STATUS_CHANGED:
            data["connector"] = connectors.get(event.get("connector_id"))
            data["status"] = event.get("status")
            data["error_code"] = event.get("error_code")
            data["vendor_error_code"] = event.get("vendor_error_code")
        elif event.name in (WebhookEventType.SESSION_STARTED, WebhookEventType.SESSION_STOPPED):
            data["connector"] = connectors.get(event.get("connector_id"))
            data["session"] = _session_data(event["session_id"], sessions.get(event["session_id"]))
        elif event.name == WebhookEventType.CDR_CREATED:
            cdr = cdrs.get(event["cdr_id"])
            if cdr is not None:
                data["station"] = stations.get(cdr.session.station_id)
                data["connector"] = connectors.get(cdr.session.connector_id)
            data["cdr"] = _cdr_data(event, cdr)
        out.append(data)
    return out


def _session_data(session_id: int, session: ChargingSession | None) -> dict:
    if session is None:
        return {"id": session_id}
    return {
        "id": session.pk,
        "transaction_id": session.transaction_id,
        "state": session.state,
        "id_tag": session.id_tag,
        "start": _iso(session.start),
        "stop": _iso(session.stop),
        "meter_start_wh": session.meter_start,
        "meter_stop_wh": session.meter_stop,
        "energy_wh": session.energy_wh,
        "stop_reason": session.stop_reason,
    }


def _cdr_data(event: Event, cdr: ChargeDetailRecord | None) -> dict:
    data = {
        "id": event["cdr_id"],
        "session_id": event.get("session_id"),
        "total": event.get("total"),
        "currency": event.get("currency"),
    }
    if cdr is not None:
        data.update(
            kind=cdr.kind,
            total=str(cdr.total_incl_tax),
            total_excl_tax=str(cdr.total_excl_tax),
            currency=cdr.currency,
            tax_rate=str(cdr.tax_rate),
            energy_wh=cdr.energy_wh,
            charging_seconds=cdr.charging_seconds,
            idle_seconds=cdr.idle_seconds,
        )
    return data


def _stations(ids: set) -> dict[int, dict]:
    ids = ids - {None}
    if not ids:
        return {}
    return {
        pk: {"id": pk, "ocpp_id": ocpp_id}
        for pk, ocpp_id in ChargingStation.objects.filter(pk__in=ids).values_list("pk", "ocpp_id")
    }


def _connectors(ids: set) -> dict[int, dict]:
    ids = ids - {None}
    if not ids:
        return {}
    return {
        pk: {"id": pk, "number": number}
        for pk, number in Connector.objects.filter(pk__in=ids).values_list("pk", "connector_id")
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- signing ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The Webhook-Signature value: v1=hex(HMAC-SHA256(secret, f"{timestamp}.{body}"))."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """Whether a received request was signed with `secret` within `tolerance` seconds."""
    lowered = {str(name).lower(): value for name, value in headers.items()}
    timestamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        # An old (or far future) timestamp: a replayed request.
        return False
    expected = sign(secret, sent_at, body.encode() if isinstance(body, str) else body)
    # Several signatures, space-separated, while a secret is being rotated.
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures.split())


def signed_headers(delivery: WebhookDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers of one attempt of `delivery` with this exact body."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Webhook-Id": str(delivery.event_id),
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": sign(delivery.endpoint.secret, timestamp, body),
    }


# --- delivering ------------------------------------------------------------------------------


def due_delivery_ids(limit: int = DUE_BATCH) -> list[int]:
    """Deliveries owed whose next attempt is due (new ones, or their retry pause over)."""
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(status__in=OWED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def backoff(attempts: int) -> timedelta:
    """The pause after the `attempts`-th failed attempt."""
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def deliver(delivery_id: int) -> str:
    """Try one delivery now if it is due; its status afterwards (an HTTP failure never raises)."""
    now = timezone.now()
    # Claim it: the next attempt time moves past this request's timeout, so neither another
    # worker nor the sweep sends it meanwhile; a worker that dies mid-request frees it so.
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status__in=OWED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=now + timedelta(seconds=settings.WEBHOOK_TIMEOUT + 60))
    )
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return "missing"
    if not claimed:
        return delivery.status
    endpoint = delivery.endpoint
    if not endpoint.enabled and delivery.event_type != WebhookEventType.PING:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        delivery.last_error = "Endpoint disabled."
        delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
        return delivery.status
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    status_code, error, duration_ms = _post(endpoint.url, body, delivery)
    _record(delivery, now, status_code, error, duration_ms)
    return delivery.status


def refused_address(url: str) -> str:
    """Why the URL may not be called (a private address, unresolvable), or "" when it may."""
    return net.refused_address(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES)


def _post(url: str, body: bytes, delivery: WebhookDelivery) -> tuple[int | None, str, int]:
    """POST the body; (status code or None, error text, milliseconds)."""
    headers = signed_headers(delivery, body, int(time.time()))
    started = time.monotonic()
    status_code, error = None, ""
    refusal = refused_address(url)
    if refusal:
        return None, refusal[:500], 0
    try:
        # Redirects are not followed (a 3xx is a failure) and the answer's body is never read.
        with requests.post(
            url,
            data=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT,
            allow_redirects=False,
            stream=True,
        ) as response:
            status_code = response.status_code
    except requests.Timeout:
        error = f"Timed out after {settings.WEBHOOK_TIMEOUT} s."
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        # Whatever else a URL can provoke (an odd scheme, a codec): recorded, never raised.
        logger.exception("webhook delivery %s: unexpected error", delivery.pk)
        error = f"{type(exc).__name__}: {exc}"
    if status_code is not None and not 200 <= status_code < 300:
        error = f"HTTP {status_code}"
    return status_code, error[:500], int((time.monotonic() - started) * 1000)


def _record(delivery: WebhookDelivery, at, status_code: int | None, error: str, ms: int) -> None:
    now = timezone.now()
    delivery.attempts += 1
    delivery.attempt_log = [
        *delivery.attempt_log,
        {"at": _iso(at), "status_code": status_code, "error": error, "duration_ms": ms},
    ][-MAX_LOG_ENTRIES:]
    delivery.last_status_code = status_code
    delivery.last_error = error
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
            DeliveryStatus.DELIVERED,
            now,
            None,
        )
    elif (
        delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
        or delivery.event_type == WebhookEventType.PING
    ):
        # A test message is answered at once on the page: nothing to retry later.
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.save(
        update_fields=[
            "attempts",
            "attempt_log",
            "last_status_code",
            "last_error",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )


def send_test(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send the endpoint a signed "ping" now; the delivery with its answer (logged as any)."""
    now = timezone.now()
    delivery = _delivery(
        endpoint,
        WebhookEventType.PING,
        {"endpoint": {"id": endpoint.pk, "url": endpoint.url}},
        now,
    )
    delivery.save()
    deliver(delivery.pk)
    delivery.refresh_from_db()
    return delivery
