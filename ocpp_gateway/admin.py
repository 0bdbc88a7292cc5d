"""Django admin for support staff: command log, OCPP message log and gateway leases, read-only."""

import json

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ocpp_gateway.models import CommandLog, GatewayLease, OcppMessage
from organizations.admin import ReadOnlyModelAdmin


def pretty_json(value):
    """A JSON value indented in a <pre> block, or "-" when there is none."""
    if value is None:
        return "-"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


@admin.register(CommandLog)
class CommandLogAdmin(ReadOnlyModelAdmin):
    """Commands sent to stations: who asked, what, and what the station answered."""

    list_display = (
        "created",
        "station",
        "command",
        "action",
        "status",
        "requested_by",
        "requested_via",
        "completed",
    )
    list_filter = (
        "status",
        "requested_via",
        "station__organization",
        ("created", admin.DateFieldListFilter),
    )
    date_hierarchy = "created"
    search_fields = ("station__ocpp_id", "command", "action", "requested_by__username")
    list_select_related = ("station", "requested_by")
    fields = (
        "station",
        "command",
        "action",
        "status",
        "requested_by",
        "requested_via",
        "created",
        "completed",
        "payload_pretty",
        "response_pretty",
        "error_code",
        "error_description",
    )
    readonly_fields = fields

    @admin.display(description=_("payload"))
    def payload_pretty(self, obj):
        return pretty_json(obj.payload)

    @admin.display(description=_("response"))
    def response_pretty(self, obj):
        return pretty_json(obj.response)


@admin.register(OcppMessage)
class OcppMessageAdmin(ReadOnlyModelAdmin):
    """Every OCPP-J frame in and out, for support staff to trace a station's conversation."""

    list_display = ("created", "ocpp_id", "direction", "message_type", "action", "unique_id")
    list_filter = (
        "direction",
        "message_type",
        "station__organization",
        ("created", admin.DateFieldListFilter),
    )
    search_fields = ("ocpp_id", "unique_id", "action")
    fields = (
        "created",
        "station",
        "ocpp_id",
        "direction",
        "message_type",
        "action",
        "unique_id",
        "payload_pretty",
        "raw",
    )
    readonly_fields = fields

    @admin.display(description=_("payload"))
    def payload_pretty(self, obj):
        return pretty_json(obj.payload)

    def get_search_results(self, request, queryset, search_term):
        # Identities, message ids and actions are pasted whole; on a table this large an exact
        # comparison is far cheaper than the case-insensitive substring scan of the default.
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(ocpp_id=term) | Q(unique_id=term) | Q(action=term)), False


@admin.register(GatewayLease)
class GatewayLeaseAdmin(ReadOnlyModelAdmin):
    """The gateway processes serving stations now, and since when (see docs/operations.md)."""

    list_display = ("holder", "started", "expires", "alive")
    search_fields = ("holder",)
    fields = ("holder", "started", "expires", "alive")
    readonly_fields = fields

    @admin.display(description=_("alive"), boolean=True)
    def alive(self, obj):
        # An expired lease is reaped within seconds; one still listed expired is being reaped.
        return obj.expires > timezone.now()
