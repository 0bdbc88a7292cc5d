"""Serializers of alerts, alert rules, notification preferences and webhook endpoints."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alerts.choices import RuleKind, WebhookEventType
from alerts.models import (
    Alert,
    AlertHistory,
    AlertRule,
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
)
from organizations.api.fields import TenantRelatedField
from stations.models import ChargingStation, Site

# What an endpoint can subscribe to; the test message goes to every endpoint anyway.
SUBSCRIBABLE_EVENTS = [
    (value, label) for value, label in WebhookEventType.choices if value != WebhookEventType.PING
]
NOTE_MAX_LENGTH = 2000
BOTH_SCOPES = _("Choose a site or a station, not both.")
SITE_ONLY = _("This condition is about a whole site: choose a site, not a station.")


def secret_hint(secret: str) -> str:
    """A signing secret as pages show it after the one time: its prefix and last 4 characters."""
    if not secret:
        return ""
    prefix = "whsec_" if secret.startswith("whsec_") else ""
    return f"{prefix}…{secret[-4:]}"


def scope_errors(kind: str | None, site, station) -> dict[str, str]:
    """What is wrong with a rule's scope, by field (empty: nothing)."""
    if kind == RuleKind.SITE_OVER_CAPACITY and station is not None:
        return {"station": SITE_ONLY}
    if site is not None and station is not None:
        return {"station": BOTH_SCOPES}
    return {}


def user_name(source: str, **kwargs) -> serializers.CharField:
    """The username of a user field, or null."""
    return serializers.CharField(
        source=f"{source}.username", read_only=True, default=None, allow_null=True, **kwargs
    )


class AlertHistorySerializer(serializers.ModelSerializer):
    """One step of an alert's life."""

    actor = user_name("actor", help_text="Who took the step; null when the system did.")

    class Meta:
        model = AlertHistory
        fields = ["action", "at", "actor", "note"]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    """An alert: what, where, since when, and who acknowledged or resolved it."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    ocpp_id = serializers.CharField(
        source="station.ocpp_id", read_only=True, default=None, allow_null=True
    )
    connector_number = serializers.IntegerField(
        source="connector.connector_id",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="The connector's number at its station.",
    )
    live = serializers.BooleanField(
        source="is_live", read_only=True, help_text="Open or acknowledged: the condition holds."
    )
    acknowledged_by = user_name("acknowledged_by")
    resolved_by = user_name(
        "resolved_by", help_text="Who resolved it by hand; null when the condition cleared."
    )
    duration_seconds = serializers.SerializerMethodField(
        help_text="How long the alert lasted, once resolved."
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "organization",
            "kind",
            "kind_label",
            "severity",
            "state",
            "live",
            "rule",
            "site",
            "station",
            "ocpp_id",
            "connector",
            "connector_number",
            "session",
            "details",
            "opened_at",
            "last_seen_at",
            "occurrences",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledge_note",
            "escalated_at",
            "resolved_at",
            "resolved_by",
            "duration_seconds",
        ]
        read_only_fields = fields

    def get_duration_seconds(self, alert) -> int | None:
        duration = alert.duration
        return None if duration is None else int(duration.total_seconds())


class AlertDetailSerializer(AlertSerializer):
    """An alert with its history."""

    history = AlertHistorySerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "history"]
        read_only_fields = fields


class AlertNoteSerializer(serializers.Serializer):
    """`{"note": "..."}`: why, for the alert's history (optional)."""

    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class AlertRuleSerializer(serializers.ModelSerializer):
    """A watched condition of an organization, one of its sites or one of its stations."""

    site = TenantRelatedField(
        queryset=Site.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only this site's stations (null: the whole organization).",
    )
    station = TenantRelatedField(
        queryset=ChargingStation.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only this station; a station's own rule wins over its site's and the "
        "organization's.",
    )
    scope = serializers.CharField(source="scope_label", read_only=True)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "organization",
            "name",
            "kind",
            "severity",
            "enabled",
            "site",
            "station",
            "scope",
            "delay_minutes",
            "max_session_hours",
            "start_timeout_seconds",
            "failure_count",
            "window_minutes",
            "error_codes",
            "vendor_error_codes",
            "escalate_after_minutes",
            "escalate_to_role",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "organization", "scope", "created", "updated"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance

        def current(name):
            if name in attrs:
                return attrs[name]
            return getattr(instance, name) if instance is not None else None

        errors = scope_errors(current("kind"), current("site"), current("station"))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """A URL that receives the organization's events, signed with its secret."""

    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS),
        required=False,
        allow_empty=True,
        help_text="The events it receives; empty: every event.",
    )
    secret_hint = serializers.SerializerMethodField(
        help_text="The end of the signing secret; the secret itself is only in the answer to "
        "creating the endpoint or rotating its secret."
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "organization",
            "url",
            "description",
            "event_types",
            "min_severity",
            "enabled",
            "secret_hint",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "organization", "secret_hint", "created", "updated"]

    def get_secret_hint(self, endpoint) -> str:
        return secret_hint(endpoint.secret)

    def validate_event_types(self, event_types):
        # Order kept, repeats dropped.
        return list(dict.fromkeys(event_types))


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    """An endpoint with its signing secret: only right after creating it or rotating it."""

    secret = serializers.CharField(read_only=True, help_text="Shown this once; keep it safe.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookEndpointSerializer.Meta.read_only_fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One event owed to an endpoint, with every attempt and its answer."""

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "attempt_log",
            "created",
            "delivered_at",
        ]
        read_only_fields = fields


class NotificationPreferenceSerializer(serializers.ModelSerializer):
    """What the caller wants to hear of one organization's alerts, by email."""

    organization = serializers.IntegerField(source="membership.organization_id", read_only=True)
    sites = TenantRelatedField(
        queryset=Site.objects.all(),
        many=True,
        required=False,
        help_text="Only alerts of these sites (empty: every site).",
    )

    class Meta:
        model = NotificationPreference
        fields = [
            "organization",
            "email_enabled",
            "min_severity",
            "digest_below",
            "notify_resolved",
            "sites",
        ]
        read_only_fields = ["organization"]

    def to_representation(self, preference):
        if preference.pk is not None:
            return super().to_representation(preference)
        # Not stored yet (the member never changed it): its defaults, and every site; the
        # many-to-many field cannot be read from a row that has no primary key.
        data = {}
        for name, field in self.fields.items():
            data[name] = (
                [] if name == "sites" else field.to_representation(field.get_attribute(preference))
            )
        return data
