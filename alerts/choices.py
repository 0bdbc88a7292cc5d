"""Choices of alerting: what a rule watches, how bad it is, where an alert is in its life."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleKind(models.TextChoices):
    """The condition an alert rule watches."""

    STATION_OFFLINE = "station_offline", _("Station offline")
    CONNECTOR_FAULTED = "connector_faulted", _("Connector faulted")
    STATION_REJECTED = "station_rejected", _("Station rejected at boot or connection")
    AUTHORIZATION_FAILURES = "authorization_failures", _("Repeated failed authorizations")
    SESSION_STUCK = "session_stuck", _("Session stuck")
    START_FAILED = "start_failed", _("Remote start failed")
    SESSION_IMPLAUSIBLE = "session_implausible", _("Implausible session")
    FIRMWARE_FAILED = "firmware_failed", _("Firmware update failed")
    DIAGNOSTICS_FAILED = "diagnostics_failed", _("Diagnostics upload failed")
    SECURITY_EVENT = "security_event", _("Security or station event")
    METER_SILENT = "meter_silent", _("Energy meter silent")
    SITE_OVER_CAPACITY = "site_over_capacity", _("Site over grid capacity")
    CONFIGURATION_DRIFT = "configuration_drift", _("Configuration drift")


class Severity(models.TextChoices):
    """How urgent an alert is, lowest first; members choose from which severity they hear."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")

    @property
    def rank(self) -> int:
        """Higher is more urgent: the declaration order."""
        return _RANK[self]

    @classmethod
    def at_least(cls, minimum: str) -> list[str]:
        """The severities as urgent as `minimum` or more (for filters)."""
        return [s.value for s in cls if _RANK[s] >= _RANK[cls(minimum)]]


_RANK = {severity: rank for rank, severity in enumerate(Severity)}


class AlertState(models.TextChoices):
    """Where an alert is: open until someone acknowledges it or its condition clears."""

    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


# The states of an alert whose condition still holds (one such alert per condition).
LIVE_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


class AlertAction(models.TextChoices):
    """One step in an alert's history."""

    OPENED = "opened", _("Opened")
    REPEATED = "repeated", _("Occurred again")
    REOPENED = "reopened", _("Reopened")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ESCALATED = "escalated", _("Escalated")
    RESOLVED = "resolved", _("Resolved")


class NotificationKind(models.TextChoices):
    """Why a member is told about an alert."""

    OPENED = "opened", _("Opened")
    ESCALATED = "escalated", _("Escalated")
    RESOLVED = "resolved", _("Resolved")
    DIGEST = "digest", _("Digest")


class DeliveryStatus(models.TextChoices):
    """Where an outgoing mail or webhook delivery is."""

    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookEventType(models.TextChoices):
    """What an organization's webhook endpoint can be sent."""

    ALERT_OPENED = "alert.opened", _("Alert opened")
    ALERT_ACKNOWLEDGED = "alert.acknowledged", _("Alert acknowledged")
    ALERT_ESCALATED = "alert.escalated", _("Alert escalated")
    ALERT_RESOLVED = "alert.resolved", _("Alert resolved")
    SESSION_STARTED = "session.started", _("Session started")
    SESSION_STOPPED = "session.stopped", _("Session stopped")
    CDR_CREATED = "cdr.created", _("Charge detail record created")
    STATION_STATUS_CHANGED = "station.status_changed", _("Station status changed")
    STATION_CONNECTED = "station.connected", _("Station connected")
    STATION_DISCONNECTED = "station.disconnected", _("Station disconnected")
    PING = "ping", _("Test message")
