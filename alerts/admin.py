"""Django admin for support staff: alerts (platform alerts too), rules, notifications, webhooks."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from alerts.api.serializers import secret_hint
from alerts.exceptions import AlertNotLive
from alerts.models import (
    Alert,
    AlertHistory,
    AlertRule,
    Notification,
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
)
from alerts.services import acknowledge_alert, resolve_alert
from organizations.admin import CmsModelAdmin, ReadOnlyModelAdmin, ReadOnlyTabularInline


@admin.register(AlertRule)
class AlertRuleAdmin(CmsModelAdmin):
    """The conditions each organization watches."""

    list_display = ("name", "organization", "kind", "severity", "scope_label", "enabled")
    list_filter = ("enabled", "kind", "severity", "organization")
    search_fields = ("name", "organization__name", "site__name", "station__ocpp_id")
    autocomplete_fields = ("organization", "site", "station")
    list_select_related = ("organization", "site", "station")
    readonly_fields = ("created", "updated")
    fieldsets = (
        (None, {"fields": ("organization", "name", "kind", "severity", "enabled")}),
        (_("Scope"), {"fields": ("site", "station")}),
        (
            _("Thresholds"),
            {
                "fields": (
                    "delay_minutes",
                    "max_session_hours",
                    "start_timeout_seconds",
                    "failure_count",
                    "window_minutes",
                    "error_codes",
                    "vendor_error_codes",
                )
            },
        ),
        (_("Escalation"), {"fields": ("escalate_after_minutes", "escalate_to_role")}),
        (_("History"), {"fields": ("created", "updated")}),
    )

    @admin.display(description=_("scope"))
    def scope_label(self, rule):
        return rule.scope_label


class AlertHistoryInline(ReadOnlyTabularInline):
    """The steps of the alert's life."""

    model = AlertHistory
    fields = ("at", "action", "actor", "note")
    readonly_fields = fields
    show_change_link = False


@admin.register(Alert)
class AlertAdmin(ReadOnlyModelAdmin):
    """Every alert, platform alerts (no organization: an unknown identity knocking) included."""

    list_display = (
        "__str__",
        "organization",
        "severity",
        "state",
        "station",
        "opened_at",
        "last_seen_at",
        "occurrences",
        "resolved_at",
    )
    list_filter = (
        "state",
        "severity",
        "kind",
        ("organization", admin.EmptyFieldListFilter),
        "organization",
        ("opened_at", admin.DateFieldListFilter),
    )
    search_fields = ("fingerprint", "station__ocpp_id", "organization__name")
    list_select_related = ("organization", "station")
    date_hierarchy = "opened_at"
    inlines = (AlertHistoryInline,)
    actions = ("acknowledge", "resolve")

    @admin.action(description=_("Acknowledge the selected open alerts"))
    def acknowledge(self, request, queryset):
        self._change(request, queryset, acknowledge_alert, _("%(count)d alerts acknowledged."))

    @admin.action(description=_("Resolve the selected alerts"))
    def resolve(self, request, queryset):
        self._change(request, queryset, resolve_alert, _("%(count)d alerts resolved."))

    def _change(self, request, queryset, change, done):
        count = 0
        for alert in queryset:
            try:
                change(alert, request.user, str(_("By support staff.")))
            except AlertNotLive:
                # Acknowledged or resolved meanwhile, or already: nothing to do for this one.
                continue
            count += 1
        self.message_user(request, done % {"count": count})


@admin.register(AlertHistory)
class AlertHistoryAdmin(ReadOnlyModelAdmin):
    """Every step of every alert."""

    list_display = ("alert", "action", "at", "actor", "note")
    list_filter = ("action",)
    search_fields = ("alert__fingerprint", "alert__station__ocpp_id", "note")
    list_select_related = ("alert", "actor")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(CmsModelAdmin):
    """What each member wants to hear of their organization's alerts."""

    list_display = (
        "membership",
        "email_enabled",
        "min_severity",
        "digest_below",
        "notify_resolved",
    )
    list_filter = ("email_enabled", "min_severity", "notify_resolved")
    search_fields = ("membership__user__username", "membership__organization__name")
    autocomplete_fields = ("membership", "sites")
    list_select_related = ("membership__user", "membership__organization")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    """The mail outbox: what was owed to whom, and whether it went."""

    list_display = ("alert", "recipient", "kind", "digest", "status", "attempts", "created")
    list_filter = ("status", "kind", "digest")
    search_fields = ("recipient__username", "recipient__email", "alert__station__ocpp_id")
    list_select_related = ("alert", "recipient")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(CmsModelAdmin):
    """Organizations' webhook endpoints; the secret is shown to their admins once, never here."""

    list_display = ("url", "organization", "enabled", "min_severity", "secret_end", "updated")
    list_filter = ("enabled", "organization")
    search_fields = ("url", "description", "organization__name")
    autocomplete_fields = ("organization",)
    list_select_related = ("organization",)
    fields = (
        "organization",
        "url",
        "description",
        "event_types",
        "min_severity",
        "enabled",
        "secret_end",
        "created",
        "updated",
    )
    readonly_fields = ("secret_end", "created", "updated")

    def has_add_permission(self, request, obj=None):
        # Made by the organization's admins, who are shown the secret; support would not be.
        return False

    @admin.display(description=_("signing secret"))
    def secret_end(self, endpoint):
        return secret_hint(endpoint.secret)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyModelAdmin):
    """The webhook outbox: each event, its attempts and the endpoint's answers."""

    list_display = (
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "created",
        "delivered_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("endpoint__url", "event_type", "endpoint__organization__name")
    list_select_related = ("endpoint",)
