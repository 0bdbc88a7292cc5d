"""Django admin for support staff: the logs and leases (read-only), and remote commands."""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ocpp_gateway.choices import RequestedVia
from ocpp_gateway.models import (
    BulkCommand,
    BulkCommandResult,
    CertificateRequest,
    CommandLog,
    DisplayMessage,
    GatewayLease,
    OcppMessage,
    StationCertificate,
)
from ocpp_gateway.remote.admin_actions import run_command_for_each
from ocpp_gateway.remote.charging import stop_session_billing
from organizations.admin import ReadOnlyModelAdmin, ReadOnlyTabularInline
from sessions_app.admin import ChargingSessionAdmin
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession
from stations.admin import ChargingStationAdmin
from stations.models import ChargingStation


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


# --- Display messages and certificates (read-only: they change through remote commands) -------


@admin.register(DisplayMessage)
class DisplayMessageAdmin(ReadOnlyModelAdmin):
    """Messages for stations' displays, as set by operators or reported by the stations."""

    list_display = ("station", "message_id", "priority", "status", "answer", "updated")
    list_filter = ("status", "priority", "station__organization")
    search_fields = ("station__ocpp_id", "content")
    list_select_related = ("station",)
    fields = (
        "station",
        "message_id",
        "priority",
        "state",
        "start_time",
        "end_time",
        "transaction_id",
        "content",
        "message_format",
        "language",
        "display",
        "status",
        "answer",
        "reported_at",
        "created",
        "updated",
    )
    readonly_fields = fields


@admin.register(StationCertificate)
class StationCertificateAdmin(ReadOnlyModelAdmin):
    """Certificates on stations: installed by operators or listed by the stations."""

    list_display = ("station", "certificate_type", "subject", "serial_number", "status")
    list_filter = ("status", "certificate_type", "station__organization")
    search_fields = ("station__ocpp_id", "subject", "serial_number")
    list_select_related = ("station",)
    fields = (
        "station",
        "certificate_type",
        "status",
        "answer",
        "subject",
        "not_after",
        "hash_algorithm",
        "issuer_name_hash",
        "issuer_key_hash",
        "serial_number",
        "child_certificates",
        "certificate",
        "reported_at",
        "created",
        "updated",
    )
    readonly_fields = fields


@admin.register(CertificateRequest)
class CertificateRequestAdmin(ReadOnlyModelAdmin):
    """Stations' certificate signing requests and how the certificate provider answered."""

    list_display = ("created", "station", "certificate_type", "status", "reason_code")
    list_filter = ("status", "certificate_type", "station__organization")
    search_fields = ("station__ocpp_id",)
    list_select_related = ("station",)
    fields = (
        "station",
        "created",
        "updated",
        "certificate_type",
        "status",
        "provider",
        "reason_code",
        "detail",
        "csr",
        "certificate_chain",
        "delivery",
    )
    readonly_fields = fields


# --- Remote commands on the stations' and sessions' own admin pages ---------------------------
# Their apps sit below the gateway: it registers their admins again with its commands added,
# under the same action names.


class ChargingStationCommandAdmin(ChargingStationAdmin):
    """Charging stations, with the remote commands support staff run on the selected ones."""

    actions = (
        *ChargingStationAdmin.actions,
        "restart_station",
        "clear_rfid_cache",
        "trigger_status",
    )

    @admin.action(description=_("Restart station (soft reset)"), permissions=["change"])
    def restart_station(self, request, queryset):
        run_command_for_each(request, "restart_station", ((s, {"type": "Soft"}) for s in queryset))

    @admin.action(description=_("Clear RFID cache"), permissions=["change"])
    def clear_rfid_cache(self, request, queryset):
        run_command_for_each(request, "clear_rfid_cache", ((s, {}) for s in queryset))

    @admin.action(
        description=_("Ask for a status update (trigger StatusNotification)"),
        permissions=["change"],
    )
    def trigger_status(self, request, queryset):
        params = {"requested_message": "StatusNotification"}
        run_command_for_each(request, "trigger_message", ((s, params) for s in queryset))


class StopBillingForm(forms.Form):
    """Why billing stops: kept with the session and the command log."""

    reason = forms.CharField(label=_("Reason"), max_length=255)


class ChargingSessionCommandAdmin(ChargingSessionAdmin):
    """Charging sessions, with stopping a running one and stopping billing of any."""

    actions = ("stop_charging", "stop_billing", *ChargingSessionAdmin.actions)

    @admin.action(description=_("Stop charging"), permissions=["change"])
    def stop_charging(self, request, queryset):
        running = queryset.filter(state=SessionState.ACTIVE).select_related("station", "connector")
        run_command_for_each(
            request,
            "stop_charging",
            ((s.station, {"connector_id": s.connector.connector_id}) for s in running),
        )

    @admin.action(description=_("Stop billing…"), permissions=["change"])
    def stop_billing(self, request, queryset):
        chosen = queryset.filter(billing_stopped=False).select_related("station", "connector")
        form = StopBillingForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            params = {"reason": form.cleaned_data["reason"]}
            running = [s for s in chosen if s.state == SessionState.ACTIVE]
            run_command_for_each(
                request,
                "stop_billing",
                (
                    (s.station, {**params, "connector_id": s.connector.connector_id})
                    for s in running
                ),
            )
            # A finished session has no station to ask: billing stops here, and a session that
            # was already priced gets a credit record (never an edited CDR).
            finished = [s for s in chosen if s.state != SessionState.ACTIVE]
            for session in finished:
                stop_session_billing(
                    session, reason=params["reason"], user=request.user, via=RequestedVia.USER
                )
            if finished:
                self.message_user(
                    request,
                    ngettext(
                        "Billing stopped for %(count)d finished session.",
                        "Billing stopped for %(count)d finished sessions.",
                        len(finished),
                    )
                    % {"count": len(finished)},
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Stop billing"),
            "opts": self.opts,
            "queryset": chosen,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/sessions_app/stop_billing.html", context)


admin.site.unregister(ChargingStation)
admin.site.register(ChargingStation, ChargingStationCommandAdmin)
admin.site.unregister(ChargingSession)
admin.site.register(ChargingSession, ChargingSessionCommandAdmin)


# --- bulk commands ------------------------------------------------------------------------------


class BulkCommandResultInline(ReadOnlyTabularInline):
    """The result of a bulk command on each station."""

    model = BulkCommandResult
    fields = ("station", "status", "reason", "command_log", "finished_at")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("station", "command_log")


@admin.register(BulkCommand)
class BulkCommandAdmin(ReadOnlyModelAdmin):
    """Commands sent to a selection of stations, with the result per station."""

    list_display = (
        "created",
        "organization",
        "command",
        "site",
        "requested_by",
        "requested_via",
        "finished_at",
    )
    list_filter = ("command", "requested_via", "organization")
    date_hierarchy = "created"
    search_fields = ("command", "organization__name", "requested_by__username")
    list_select_related = ("organization", "site", "requested_by")
    fields = (
        "organization",
        "command",
        "params",
        "own_upload_location",
        "site",
        "requested_by",
        "api_key",
        "requested_via",
        "created",
        "finished_at",
    )
    readonly_fields = fields
    inlines = (BulkCommandResultInline,)


@admin.register(BulkCommandResult)
class BulkCommandResultAdmin(ReadOnlyModelAdmin):
    """What became of a bulk command on each station."""

    list_display = ("bulk", "station", "status", "reason", "finished_at")
    list_filter = ("status", "bulk__organization")
    search_fields = ("station__ocpp_id", "bulk__command", "reason")
    list_select_related = ("bulk__organization", "station")
    fields = ("bulk", "station", "status", "reason", "command_log", "finished_at")
    readonly_fields = fields
