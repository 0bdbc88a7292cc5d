"""Alerts made for the portal and API tests, as the rules would have opened them."""

from datetime import UTC, datetime, timedelta

from alerts.choices import AlertState, RuleKind, Severity
from alerts.models import Alert

OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_alert(station, kind=RuleKind.CONNECTOR_FAULTED, state=AlertState.OPEN, **fields):
    """An alert of the station's organization, as the rules would have opened it."""
    connector = fields.pop("connector", station.connectors.order_by("connector_id").first())
    fields.setdefault("opened_at", OPENED)
    fields.setdefault("last_seen_at", fields["opened_at"])
    if state == AlertState.RESOLVED:
        fields.setdefault("resolved_at", fields["opened_at"] + timedelta(minutes=42))
    return Alert.objects.create(
        organization=station.organization,
        kind=kind,
        severity=fields.pop("severity", Severity.HIGH),
        state=state,
        fingerprint=f"{station.organization_id}:{kind}:{connector.pk}:{Alert.objects.count()}",
        site=station.site,
        station=station,
        connector=connector,
        **fields,
    )
