"""Alert rules, the alerts they open, who hears of them, and webhook endpoints."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alerts.choices import (
    LIVE_STATES,
    AlertAction,
    AlertState,
    DeliveryStatus,
    NotificationKind,
    RuleKind,
    Severity,
)
from organizations.choices import Role
from organizations.models import Membership, Organization
from organizations.tenancy import TenantQuerySet
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Connector, Site


class AlertRuleQuerySet(TenantQuerySet):
    """Alert rules narrowed by organization."""


class AlertRule(models.Model):
    """A condition watched for an organization, a site or one station, with a severity."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_rules"
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("condition"), max_length=32, choices=RuleKind.choices)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.HIGH
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # Scope: the whole organization, one site, or one station (a station wins over a site).
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="alert_rules"
    )
    station = models.ForeignKey(
        ChargingStation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_rules",
    )
    delay_minutes = models.PositiveIntegerField(
        _("after (minutes)"),
        default=0,
        help_text=_(
            "How long the condition must last before the alert opens: offline, without meter "
            "values, meter silent; 0 opens it at once."
        ),
    )
    max_session_hours = models.PositiveIntegerField(
        _("longest session (hours)"),
        null=True,
        blank=True,
        help_text=_("Stuck sessions: also alert when a session runs longer than this."),
    )
    start_timeout_seconds = models.PositiveIntegerField(
        _("start timeout (seconds)"),
        default=120,
        help_text=_("Remote starts: how long an accepted start may go without a transaction."),
    )
    failure_count = models.PositiveIntegerField(
        _("failures"),
        default=5,
        help_text=_("Failed authorizations: how many within the window open the alert."),
    )
    window_minutes = models.PositiveIntegerField(
        _("window (minutes)"),
        default=10,
        help_text=_("Failed authorizations: the window they are counted in."),
    )
    error_codes = models.CharField(
        _("error codes"),
        max_length=500,
        blank=True,
        help_text=_("Faults: only these error codes, comma-separated; empty means any."),
    )
    vendor_error_codes = models.CharField(
        _("vendor error codes"),
        max_length=500,
        blank=True,
        help_text=_("Faults: only these vendor error codes, comma-separated; empty means any."),
    )
    escalate_after_minutes = models.PositiveIntegerField(
        _("escalate after (minutes)"),
        null=True,
        blank=True,
        help_text=_("Not acknowledged within this time: the escalation group is notified."),
    )
    escalate_to_role = models.CharField(
        _("escalate to"),
        max_length=16,
        choices=Role.choices,
        default=Role.OWNER,
        help_text=_("The members of this role and above are the escalation group."),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = AlertRuleQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "kind", "name"]
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        indexes = [models.Index(fields=["organization", "kind"], name="alertrule_org_kind")]

    def __str__(self):
        return self.name

    @property
    def scope_label(self) -> str:
        """The scope in words: a station, a site or the whole organization."""
        if self.station_id:
            return str(self.station)
        if self.site_id:
            return str(self.site)
        return str(_("Whole organization"))

    def codes(self) -> set[str]:
        """The error codes the rule is limited to (empty: any)."""
        return {c.strip() for c in self.error_codes.split(",") if c.strip()}

    def vendor_codes(self) -> set[str]:
        """The vendor error codes the rule is limited to (empty: any)."""
        return {c.strip() for c in self.vendor_error_codes.split(",") if c.strip()}


class AlertQuerySet(TenantQuerySet):
    """Alerts narrowed by organization."""

    def live(self):
        """Alerts whose condition still holds: open or acknowledged."""
        return self.filter(state__in=LIVE_STATES)


class Alert(models.Model):
    """One occurrence of a watched condition, from opening to resolution."""

    # None for a platform alert (an unknown identity knocking): support staff see it in the admin.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    rule = models.ForeignKey(
        AlertRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    kind = models.CharField(_("condition"), max_length=32, choices=RuleKind.choices)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=AlertState.choices, default=AlertState.OPEN
    )
    # What the condition is about, e.g. "connector_faulted:12:connector:345": one live alert each.
    fingerprint = models.CharField(_("fingerprint"), max_length=200)
    site = models.ForeignKey(
        Site, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    station = models.ForeignKey(
        ChargingStation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
    )
    connector = models.ForeignKey(
        Connector, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    session = models.ForeignKey(
        ChargingSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    # What was seen, as plain values (error codes, counts, the identity): shown escaped.
    details = models.JSONField(_("details"), default=dict, blank=True)
    opened_at = models.DateTimeField(_("opened"), db_index=True)
    last_seen_at = models.DateTimeField(_("last seen"))
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledge_note = models.TextField(_("note"), blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # None when the condition cleared by itself.
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            # One live alert per condition: a flapping station repeats it, never duplicates it.
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=Q(state__in=LIVE_STATES),
                name="one_live_alert_per_condition",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "state", "-opened_at"], name="alert_org_state"),
            models.Index(fields=["station", "state"], name="alert_station_state"),
            models.Index(fields=["fingerprint", "-resolved_at"], name="alert_fingerprint"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_live(self) -> bool:
        """Whether the condition still holds."""
        return self.state in LIVE_STATES

    @property
    def duration(self) -> timedelta | None:
        """How long the alert lasted, once resolved."""
        if self.resolved_at is None:
            return None
        return self.resolved_at - self.opened_at


class AlertHistoryQuerySet(TenantQuerySet):
    """Alert history narrowed by the alert's organization."""

    org_path = "alert__organization"


class AlertHistory(models.Model):
    """One step of an alert's life: opened, repeated, acknowledged, escalated, resolved."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="history")
    action = models.CharField(_("action"), max_length=16, choices=AlertAction.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.TextField(_("note"), blank=True)

    objects = AlertHistoryQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("alert history entry")
        verbose_name_plural = _("alert history")

    def __str__(self):
        return f"{self.alert} {self.action} @ {self.at:%Y-%m-%d %H:%M:%S}"


class NotificationPreferenceQuerySet(TenantQuerySet):
    """Notification preferences narrowed by the membership's organization."""

    org_path = "membership__organization"


class NotificationPreference(models.Model):
    """What one member wants to hear of their organization's alerts, and how."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_enabled = models.BooleanField(_("by email"), default=True)
    min_severity = models.CharField(
        _("from severity"), max_length=16, choices=Severity.choices, default=Severity.HIGH
    )
    # Below this severity alerts go into one mail per hour instead of one mail each.
    digest_below = models.CharField(
        _("hourly digest below"),
        max_length=16,
        choices=Severity.choices,
        default=Severity.MEDIUM,
        help_text=_("Alerts less severe than this come in one mail per hour."),
    )
    notify_resolved = models.BooleanField(_("also when resolved"), default=False)
    # Empty: every site.
    sites = models.ManyToManyField(Site, blank=True, related_name="+", verbose_name=_("sites"))

    objects = NotificationPreferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return str(self.membership)


class NotificationQuerySet(TenantQuerySet):
    """Notifications narrowed by the alert's organization."""

    org_path = "alert__organization"


class Notification(models.Model):
    """A mail owed to a member about an alert: an outbox row, sent after commit or by the sweep."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices)
    # Waits for the hourly digest instead of going out alone.
    digest = models.BooleanField(_("digest"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["status", "digest"], name="notification_status")]

    def __str__(self):
        return f"{self.alert} → {self.recipient} ({self.kind})"


def new_webhook_secret() -> str:
    """A random signing secret, shown to the operator once."""
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpointQuerySet(TenantQuerySet):
    """Webhook endpoints narrowed by organization."""


class WebhookEndpoint(models.Model):
    """A URL of an organization's that receives signed JSON events."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Empty: every event type.
    event_types = models.JSONField(_("event types"), default=list, blank=True)
    min_severity = models.CharField(
        _("alerts from severity"),
        max_length=16,
        choices=Severity.choices,
        default=Severity.LOW,
    )
    secret = models.CharField(_("signing secret"), max_length=100, default=new_webhook_secret)
    enabled = models.BooleanField(_("enabled"), default=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "url"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self):
        return self.url

    def wants(self, event_type: str) -> bool:
        """Whether the endpoint subscribed to `event_type` (a ping always goes)."""
        return event_type == "ping" or not self.event_types or event_type in self.event_types


class WebhookDeliveryQuerySet(TenantQuerySet):
    """Webhook deliveries narrowed by the endpoint's organization."""

    org_path = "endpoint__organization"


class WebhookDelivery(models.Model):
    """One event owed to one endpoint: an outbox row with its attempts and their answers."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The event's id as the receiver sees it (the same on every retry, for idempotency).
    event_id = models.UUIDField(_("event id"), unique=True)
    event_type = models.CharField(_("event type"), max_length=40)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last status code"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    # Each attempt: {"at", "status_code", "error", "duration_ms"}.
    attempt_log = models.JSONField(_("attempts"), default=list, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["endpoint", "-created"], name="delivery_endpoint_time"),
        ]

    def __str__(self):
        return f"{self.event_type} → {self.endpoint}"
