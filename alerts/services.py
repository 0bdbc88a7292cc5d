"""The life of an alert: opened once per condition, repeated, acknowledged, escalated, resolved."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts import notifications, webhooks
from alerts.choices import (
    LIVE_STATES,
    AlertAction,
    AlertState,
    NotificationKind,
    RuleKind,
    Severity,
    WebhookEventType,
)
from alerts.events import ALERT_ACKNOWLEDGED, ALERT_ESCALATED, ALERT_OPENED, ALERT_RESOLVED
from alerts.exceptions import AlertNotLive
from alerts.models import Alert, AlertHistory, AlertRule
from core.events import emit_many

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Condition:
    """A watched condition seen to hold now, with what it is about."""

    kind: str  # a RuleKind
    # What it is about, e.g. "connector:345" or "identity:CP-9": one live alert per (kind, subject).
    subject: str
    organization_id: int | None
    rule: AlertRule | None = None
    severity: str = Severity.HIGH
    site_id: int | None = None
    station_id: int | None = None
    connector_id: int | None = None
    session_id: int | None = None
    details: dict = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """The key of the condition: its kind and subject (and organization)."""
        return fingerprint(self.kind, self.subject, self.organization_id)


def fingerprint(kind: str, subject: str, organization_id: int | None) -> str:
    """The key one live alert per condition is kept under."""
    return f"{organization_id or 0}:{kind}:{subject}"[:200]


def reopen_window() -> timedelta:
    """A condition back within this time after it cleared reopens its alert (a flapping station)."""
    return timedelta(minutes=settings.ALERT_REOPEN_MINUTES)


def raise_conditions(conditions: Iterable[Condition], now: datetime | None = None) -> list[Alert]:
    """Open an alert for each condition, or count it on its live (or just resolved) alert."""
    conditions = list({c.fingerprint: c for c in conditions}.values())
    if not conditions:
        return []
    now = now or timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _raise(conditions, now)
        except IntegrityError:
            # Another process opened one of these alerts first: go again, it is live now.
            logger.info("alert opened concurrently; counting on it instead")
    raise RuntimeError("could not record alert conditions")  # pragma: no cover


def _raise(conditions: list[Condition], now: datetime) -> list[Alert]:
    prints = [c.fingerprint for c in conditions]
    live = {a.fingerprint: a for a in Alert.objects.select_for_update().filter(
        fingerprint__in=prints, state__in=LIVE_STATES
    )}  # fmt: skip
    recent = {}
    missing = [p for p in prints if p not in live]
    if missing:
        for alert in (
            Alert.objects.select_for_update()
            .filter(
                fingerprint__in=missing,
                state=AlertState.RESOLVED,
                resolved_at__gte=now - reopen_window(),
            )
            .order_by("fingerprint", "-resolved_at")
        ):
            recent.setdefault(alert.fingerprint, alert)
    repeated, reopened, opened, history = [], [], [], []
    for condition in conditions:
        alert = live.get(condition.fingerprint)
        if alert is not None:
            alert.occurrences += 1
            alert.last_seen_at = now
            alert.details = {**alert.details, **condition.details}
            repeated.append(alert)
            continue
        alert = recent.get(condition.fingerprint)
        if alert is not None:
            # A flap: the same alert again, so nobody is told twice about one unstable station.
            alert.state, alert.resolved_at, alert.resolved_by = AlertState.OPEN, None, None
            alert.acknowledged_at, alert.acknowledged_by = None, None
            alert.acknowledge_note = ""
            alert.occurrences += 1
            alert.last_seen_at = now
            alert.details = {**alert.details, **condition.details}
            reopened.append(alert)
            history.append(AlertHistory(alert=alert, action=AlertAction.REOPENED, at=now))
            continue
        opened.append(
            Alert(
                organization_id=condition.organization_id,
                rule=condition.rule,
                kind=condition.kind,
                severity=condition.rule.severity if condition.rule else condition.severity,
                fingerprint=condition.fingerprint,
                site_id=condition.site_id,
                station_id=condition.station_id,
                connector_id=condition.connector_id,
                session_id=condition.session_id,
                details=condition.details,
                opened_at=now,
                last_seen_at=now,
            )
        )
    fields = ["occurrences", "last_seen_at", "details"]
    Alert.objects.bulk_update(repeated, fields)
    Alert.objects.bulk_update(
        reopened,
        [
            *fields,
            "state",
            "resolved_at",
            "resolved_by",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledge_note",
        ],
    )
    Alert.objects.bulk_create(opened)
    history += [AlertHistory(alert=alert, action=AlertAction.OPENED, at=now) for alert in opened]
    AlertHistory.objects.bulk_create(history)
    # In the same transaction as the alerts: what is owed to people and endpoints is never lost.
    notifications.plan(opened, NotificationKind.OPENED)
    webhooks.plan_alert_events([*opened, *reopened], WebhookEventType.ALERT_OPENED)
    _announce(ALERT_OPENED, [*opened, *reopened])
    return [*opened, *reopened, *repeated]


def clear_conditions(
    fingerprints: Iterable[str], now: datetime | None = None, note: str = ""
) -> list[Alert]:
    """Resolve the live alerts of conditions that cleared by themselves."""
    prints = list(set(fingerprints))
    if not prints:
        return []
    with transaction.atomic():
        alerts = list(
            Alert.objects.select_for_update().filter(fingerprint__in=prints, state__in=LIVE_STATES)
        )
        return _resolve(alerts, now or timezone.now(), user=None, note=note)


def live_fingerprints(prints: Iterable[str]) -> set[str]:
    """Which of these conditions have a live alert (one query, for the cheap path)."""
    prints = list(prints)
    if not prints:
        return set()
    return set(
        # No ORDER BY (the model's ordering): a set is wanted, the sort would be wasted.
        Alert.objects.filter(fingerprint__in=prints, state__in=LIVE_STATES)
        .order_by()
        .values_list("fingerprint", flat=True)
    )


def _resolve(alerts: list[Alert], now: datetime, user, note: str) -> list[Alert]:
    for alert in alerts:
        alert.state, alert.resolved_at, alert.resolved_by = AlertState.RESOLVED, now, user
    Alert.objects.bulk_update(alerts, ["state", "resolved_at", "resolved_by"])
    AlertHistory.objects.bulk_create(
        [
            AlertHistory(alert=alert, action=AlertAction.RESOLVED, at=now, actor=user, note=note)
            for alert in alerts
        ]
    )
    notifications.plan(alerts, NotificationKind.RESOLVED)
    webhooks.plan_alert_events(alerts, WebhookEventType.ALERT_RESOLVED)
    _announce(ALERT_RESOLVED, alerts)
    return alerts


def acknowledge_alert(alert: Alert, user, note: str = "") -> Alert:
    """Someone took care of the alert: escalation stops; it resolves when the condition clears."""
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.state != AlertState.OPEN:
            raise AlertNotLive(locked)
        now = timezone.now()
        locked.state, locked.acknowledged_at, locked.acknowledged_by = (
            AlertState.ACKNOWLEDGED,
            now,
            user,
        )
        locked.acknowledge_note = note
        locked.save(
            update_fields=["state", "acknowledged_at", "acknowledged_by", "acknowledge_note"]
        )
        AlertHistory.objects.create(
            alert=locked, action=AlertAction.ACKNOWLEDGED, at=now, actor=user, note=note
        )
        webhooks.plan_alert_events([locked], WebhookEventType.ALERT_ACKNOWLEDGED)
        _announce(ALERT_ACKNOWLEDGED, [locked])
    return locked


def resolve_alert(alert: Alert, user, note: str = "") -> Alert:
    """Someone closed the alert by hand (a one-off condition, or one fixed without a report)."""
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.state not in LIVE_STATES:
            raise AlertNotLive(locked)
        _resolve([locked], timezone.now(), user=user, note=note)
    return locked


def escalate_due_alerts(now: datetime | None = None) -> list[Alert]:
    """Escalate open alerts not acknowledged within their rule's time: the next group is told."""
    now = now or timezone.now()
    escalated = []
    with transaction.atomic():
        candidates = (
            Alert.objects.select_for_update(of=("self",))
            .filter(
                state=AlertState.OPEN,
                escalated_at__isnull=True,
                rule__escalate_after_minutes__isnull=False,
            )
            .select_related("rule")
        )
        for alert in candidates:
            if alert.opened_at + timedelta(minutes=alert.rule.escalate_after_minutes) <= now:
                alert.escalated_at = now
                escalated.append(alert)
        Alert.objects.bulk_update(escalated, ["escalated_at"])
        AlertHistory.objects.bulk_create(
            [AlertHistory(alert=a, action=AlertAction.ESCALATED, at=now) for a in escalated]
        )
        notifications.plan(escalated, NotificationKind.ESCALATED)
        webhooks.plan_alert_events(escalated, WebhookEventType.ALERT_ESCALATED)
        _announce(ALERT_ESCALATED, escalated)
    return escalated


def _announce(name: str, alerts: list[Alert]) -> None:
    emit_many(
        name,
        (
            {
                "organization_id": alert.organization_id,
                "alert_id": alert.pk,
                "kind": alert.kind,
                "severity": alert.severity,
                "state": alert.state,
                "station_id": alert.station_id,
            }
            for alert in alerts
        ),
    )


# --- rules --------------------------------------------------------------------------------------

# The rules a new organization starts with, switched on: (kind, severity, extra fields).
DEFAULT_RULES = (
    (RuleKind.STATION_OFFLINE, Severity.HIGH, {"delay_minutes": 15, "escalate_after_minutes": 60}),
    (RuleKind.CONNECTOR_FAULTED, Severity.HIGH, {"escalate_after_minutes": 60}),
    (RuleKind.STATION_REJECTED, Severity.MEDIUM, {}),
    (RuleKind.AUTHORIZATION_FAILURES, Severity.MEDIUM, {"failure_count": 5, "window_minutes": 10}),
    (RuleKind.SESSION_STUCK, Severity.MEDIUM, {"delay_minutes": 30, "max_session_hours": 24}),
    (RuleKind.START_FAILED, Severity.MEDIUM, {"start_timeout_seconds": 120}),
    (RuleKind.SESSION_IMPLAUSIBLE, Severity.LOW, {}),
    (RuleKind.FIRMWARE_FAILED, Severity.HIGH, {}),
    (RuleKind.DIAGNOSTICS_FAILED, Severity.LOW, {}),
    (RuleKind.SECURITY_EVENT, Severity.HIGH, {}),
    (RuleKind.METER_SILENT, Severity.MEDIUM, {"delay_minutes": 15}),
    (RuleKind.SITE_OVER_CAPACITY, Severity.CRITICAL, {"delay_minutes": 0}),
    (RuleKind.CONFIGURATION_DRIFT, Severity.LOW, {}),
)


def install_default_rules(organization_ids: Iterable[int]) -> int:
    """Give organizations without any rule the default set; how many rules were created."""
    ids = set(organization_ids)
    have = set(
        AlertRule.objects.filter(organization_id__in=ids).values_list("organization_id", flat=True)
    )
    rules = [
        AlertRule(
            organization_id=org_id,
            name=str(RuleKind(kind).label),
            kind=kind,
            severity=severity,
            **extra,
        )
        for org_id in sorted(ids - have)
        for kind, severity, extra in DEFAULT_RULES
    ]
    AlertRule.objects.bulk_create(rules)
    return len(rules)


def matching_rule(rules: Iterable[AlertRule], station=None, site_id=None) -> AlertRule | None:
    """The most specific enabled rule for a station (its own, its site's, the organization's)."""
    best, best_rank = None, -1
    site_id = site_id if site_id is not None else getattr(station, "site_id", None)
    for rule in rules:
        if not rule.enabled:
            continue
        if rule.station_id:
            rank = 2 if station is not None and rule.station_id == station.pk else -1
        elif rule.site_id:
            rank = 1 if site_id is not None and rule.site_id == site_id else -1
        else:
            rank = 0
        if rank > best_rank:
            best, best_rank = rule, rank
    return best


def rules_by_org(kind: str, organization_ids: Iterable[int]) -> dict[int, list[AlertRule]]:
    """The enabled rules of one kind of these organizations, in one query."""
    by_org: dict[int, list[AlertRule]] = {}
    ids = {i for i in organization_ids if i}
    if not ids:
        return by_org
    for rule in AlertRule.objects.filter(organization_id__in=ids, kind=kind, enabled=True):
        by_org.setdefault(rule.organization_id, []).append(rule)
    return by_org


def scoped_filter(rule: AlertRule, prefix: str = "") -> Q:
    """A Q narrowing stations (through `prefix`) to the rule's scope."""
    q = Q(**{f"{prefix}organization_id": rule.organization_id})
    if rule.station_id:
        q &= Q(**{f"{prefix}pk" if not prefix else f"{prefix}id": rule.station_id})
    elif rule.site_id:
        q &= Q(**{f"{prefix}site_id": rule.site_id})
    return q
