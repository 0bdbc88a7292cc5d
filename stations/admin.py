"""Django admin for support staff: sites, stations, EVSEs, connectors, what stations report."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from organizations.admin import (
    CmsModelAdmin,
    CmsTabularInline,
    ReadOnlyModelAdmin,
    TenantAdminForm,
)
from stations.choices import ConnectorStatus
from stations.exceptions import StationAssignmentError
from stations.models import (
    ChargingProfile,
    ChargingStation,
    ConnectionEvent,
    Connector,
    CustomerInformationPart,
    DeviceModelReport,
    DiagnosticsFile,
    DiagnosticsRequest,
    EVChargingNeeds,
    Evse,
    ExternalChargingLimit,
    FirmwarePublication,
    ReportedChargingProfile,
    Site,
    StationDataTransfer,
    StationEvent,
    StationVariable,
    StatusEvent,
    VariableMonitor,
)
from stations.services import assign_station

# What the gateway writes from the station's own messages; support staff read, never type.
GATEWAY_OWNED_STATION_FIELDS = (
    "ocpp_version",
    "connection_state",
    "last_seen",
    "connected_since",
    "remote_address",
    "last_boot",
    "status",
    "error_code",
    "vendor_error_code",
    "status_at",
    "firmware_status",
    "firmware_status_at",
    "diagnostics_status",
    "diagnostics_status_at",
)
GATEWAY_OWNED_CONNECTOR_FIELDS = ("status", "error_code", "vendor_error_code", "info", "status_at")


class ConnectorStatusFilter(admin.SimpleListFilter):
    """Filter by reported status from the known values, without scanning the table for them."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return ConnectorStatus.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(status=self.value())
        return queryset


class AssignmentFilter(admin.SimpleListFilter):
    """Stations assigned to an organization, or waiting in the unassigned pool."""

    title = _("assignment")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return (("yes", _("Assigned")), ("no", _("Unassigned")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(organization__isnull=False)
        if self.value() == "no":
            return queryset.unassigned()
        return queryset


@admin.register(Site)
class SiteAdmin(CmsModelAdmin):
    """Locations that hold charging stations."""

    list_display = (
        "name",
        "organization",
        "city",
        "country",
        "roaming_enabled",
        "scan2pay_enabled",
        "grid_capacity_kw",
    )
    list_filter = ("organization", "country", "roaming_enabled", "scan2pay_enabled")
    search_fields = ("name", "city", "street", "postal_code", "provider", "organization__name")
    autocomplete_fields = ("organization", "access_groups")
    list_select_related = ("organization",)
    readonly_fields = ("created", "updated")
    fieldsets = (
        (None, {"fields": ("organization", "name", "provider")}),
        (
            _("Address"),
            {"fields": ("street", "postal_code", "city", "country", "latitude", "longitude")},
        ),
        (
            _("Operation"),
            {
                "fields": (
                    "roaming_enabled",
                    "scan2pay_enabled",
                    "access_groups",
                    "grid_capacity_kw",
                    "time_zone",
                )
            },
        ),
        (_("History"), {"fields": ("created", "updated")}),
    )


class ConnectorForm(TenantAdminForm):
    """Connector form that keeps a connector on an EVSE of its own station."""

    def clean(self):
        cleaned_data = super().clean()
        evse, station = cleaned_data.get("evse"), cleaned_data.get("station")
        if evse is not None and station is not None and evse.station_id != station.pk:
            self.add_error("evse", _("This EVSE belongs to another station."))
        return cleaned_data


class EvseInline(CmsTabularInline):
    """EVSEs of a station."""

    model = Evse
    fields = ("evse_number", "evse_id")


class ConnectorInline(CmsTabularInline):
    """Connectors of a station; their status comes from the station."""

    model = Connector
    form = ConnectorForm
    fields = (
        "connector_id",
        "evse",
        "connector_type",
        "max_power_kw",
        *GATEWAY_OWNED_CONNECTOR_FIELDS,
        "pay_code",
    )
    # The pay code is printed on the connector's Scan2Pay sticker: generated, never typed.
    readonly_fields = (*GATEWAY_OWNED_CONNECTOR_FIELDS, "pay_code")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "evse":
            station_id = request.resolver_match.kwargs.get("object_id")
            evses = Evse.objects.select_related("station")
            kwargs["queryset"] = evses.filter(station_id=station_id) if station_id else evses.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ChargingStationForm(TenantAdminForm):
    """Station form with a write-only Basic-auth password instead of the stored hash."""

    new_password = forms.CharField(
        label=_("New Basic-auth password"),
        required=False,
        strip=False,
        # OCPP 1.6 asks for 16 to 20 bytes, 2.0.1 for 16 to 40 characters.
        min_length=16,
        max_length=40,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("16 to 40 characters. Leave empty to keep the current password."),
    )

    class Meta:
        model = ChargingStation
        exclude = ("password_hash",)

    def save(self, commit=True):
        if self.cleaned_data.get("new_password"):
            self.instance.set_password(self.cleaned_data["new_password"])
        return super().save(commit=commit)

    def changed_model_fields(self):
        changed = super().changed_model_fields()
        return [*changed, "password_hash"] if self.cleaned_data.get("new_password") else changed


class AssignToSiteForm(forms.Form):
    """The site the selected stations go to."""

    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Site"))

    def __init__(self, *args, organization_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        sites = Site.objects.select_related("organization").order_by("organization__name", "name")
        # Stations that already belong to an organization can only go to one of its sites.
        if len(organization_ids) == 1:
            sites = sites.filter(organization_id__in=organization_ids)
        self.fields["site"].queryset = sites
        self.fields["site"].label_from_instance = lambda site: f"{site.organization} / {site}"


@admin.register(ChargingStation)
class ChargingStationAdmin(CmsModelAdmin):
    """Charging stations with their EVSEs and connectors, and the unassigned pool."""

    form = ChargingStationForm
    list_display = (
        "ocpp_id",
        "organization",
        "site",
        "connection_state",
        "status",
        "registration_status",
        "ocpp_version",
        "firmware_version",
        "last_seen",
    )
    list_filter = (
        AssignmentFilter,
        "connection_state",
        "registration_status",
        ConnectorStatusFilter,
        "ocpp_version",
        "security_profile",
        "plan",
        "organization",
        ("last_seen", admin.DateFieldListFilter),
    )
    search_fields = ("ocpp_id", "serial_number", "vendor", "model", "site__name")
    autocomplete_fields = ("organization", "site", "access_groups")
    list_select_related = ("organization", "site")
    readonly_fields = (
        *GATEWAY_OWNED_STATION_FIELDS,
        "password_state",
        "related_records",
        "created",
        "updated",
    )
    fieldsets = (
        (None, {"fields": ("ocpp_id", "serial_number", "organization", "site", "plan")}),
        (
            _("OCPP"),
            {
                "fields": (
                    "ocpp_version",
                    "registration_status",
                    "security_profile",
                    "password_state",
                    "new_password",
                    "heartbeat_interval",
                    "message_log_enabled",
                    "access_groups",
                )
            },
        ),
        (
            _("Connection"),
            {
                "fields": (
                    "connection_state",
                    "last_seen",
                    "connected_since",
                    "remote_address",
                    "last_boot",
                )
            },
        ),
        (
            _("Status"),
            {
                "fields": (
                    "status",
                    "error_code",
                    "vendor_error_code",
                    "status_at",
                    "firmware_status",
                    "firmware_status_at",
                    "diagnostics_status",
                    "diagnostics_status_at",
                )
            },
        ),
        (
            _("Hardware"),
            {
                "fields": (
                    "vendor",
                    "model",
                    "firmware_version",
                    "iccid",
                    "imsi",
                    "meter_type",
                    "meter_serial_number",
                ),
                "description": _("The station reports these at boot and overwrites them."),
            },
        ),
        (_("Records"), {"fields": ("related_records", "created", "updated")}),
    )
    inlines = (EvseInline, ConnectorInline)
    # The gateway's admin adds the remote commands (ocpp_gateway.admin).
    actions = ("assign_to_site",)

    @admin.display(description=_("Basic-auth password"))
    def password_state(self, obj):
        return _("set") if obj.password_hash else _("not set")

    @admin.display(description=_("Records of this station"))
    def related_records(self, obj):
        if obj.pk is None:
            return "-"
        links = (
            ("sessions_app", "chargingsession", _("Charging sessions")),
            ("stations", "statusevent", _("Status history")),
            ("ocpp_gateway", "ocppmessage", _("OCPP messages")),
            ("ocpp_gateway", "commandlog", _("Commands")),
            ("stations", "stationdatatransfer", _("Data transfers")),
        )
        return format_html_join(
            " · ",
            '<a href="{}?station__id__exact={}">{}</a>',
            (
                (reverse(f"admin:{app}_{model}_changelist"), obj.pk, label)
                for app, model, label in links
            ),
        )

    @admin.action(description=_("Assign to site…"), permissions=["change"])
    def assign_to_site(self, request, queryset):
        queryset = queryset.select_related("organization", "site")
        organization_ids = set(queryset.values_list("organization_id", flat=True)) - {None}
        form = AssignToSiteForm(
            request.POST if "apply" in request.POST else None, organization_ids=organization_ids
        )
        if form.is_bound and form.is_valid():
            site = form.cleaned_data["site"]
            assigned = 0
            for station in queryset:
                try:
                    assign_station(station, site)
                except StationAssignmentError as exc:
                    self.message_user(request, f"{station}: {exc}", messages.ERROR)
                else:
                    assigned += 1
                    self.log_change(request, station, f"Assigned to site {site} ({site.pk}).")
            if assigned:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d station assigned to %(site)s.",
                        "%(count)d stations assigned to %(site)s.",
                        assigned,
                    )
                    % {"count": assigned, "site": site},
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Assign stations to a site"),
            "opts": self.opts,
            "queryset": queryset,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/stations/assign_station.html", context)


@admin.register(Evse)
class EvseAdmin(CmsModelAdmin):
    """EVSEs, each with its connectors."""

    list_display = ("__str__", "station", "evse_number", "evse_id", "organization")
    list_filter = ("station__organization",)
    search_fields = ("evse_id", "station__ocpp_id")
    autocomplete_fields = ("station",)
    list_select_related = ("station__organization",)

    @admin.display(description=_("organization"), ordering="station__organization__name")
    def organization(self, obj):
        return obj.station.organization


@admin.register(Connector)
class ConnectorAdmin(CmsModelAdmin):
    """Connectors with their last reported status."""

    form = ConnectorForm
    list_display = (
        "__str__",
        "station",
        "connector_id",
        "evse",
        "connector_type",
        "max_power_kw",
        "status",
        "error_code",
        "status_at",
    )
    list_filter = (
        ConnectorStatusFilter,
        "connector_type",
        "station__organization",
        ("status_at", admin.DateFieldListFilter),
    )
    search_fields = ("station__ocpp_id", "evse__evse_id")
    autocomplete_fields = ("station", "evse")
    list_select_related = ("station", "evse__station")
    readonly_fields = GATEWAY_OWNED_CONNECTOR_FIELDS


@admin.register(StatusEvent)
class StatusEventAdmin(ReadOnlyModelAdmin):
    """Status history as reported by stations."""

    list_display = (
        "timestamp",
        "station",
        "connector_number",
        "status",
        "error_code",
        "vendor_error_code",
        "info",
        "received_at",
    )
    list_filter = (
        ConnectorStatusFilter,
        "station__organization",
        ("timestamp", admin.DateFieldListFilter),
    )
    search_fields = ("station__ocpp_id", "error_code", "vendor_error_code", "info")
    list_select_related = ("station",)


@admin.register(ConnectionEvent)
class ConnectionEventAdmin(ReadOnlyModelAdmin):
    """Connection history: when each station's socket opened and was gone."""

    list_display = ("at", "station", "state")
    list_filter = ("state", "station__organization", ("at", admin.DateFieldListFilter))
    search_fields = ("station__ocpp_id",)
    list_select_related = ("station",)


@admin.register(DiagnosticsRequest)
class DiagnosticsRequestAdmin(ReadOnlyModelAdmin):
    """Upload locations handed to stations (GetDiagnostics, GetLog); the token is not kept."""

    list_display = ("created", "station", "command", "requested_by", "expires_at")
    list_filter = ("station__organization", ("created", admin.DateFieldListFilter))
    search_fields = ("station__ocpp_id",)
    list_select_related = ("station", "requested_by")
    exclude = ("token_hash",)


@admin.register(DiagnosticsFile)
class DiagnosticsFileAdmin(ReadOnlyModelAdmin):
    """Diagnostics and log files stations uploaded; members download them on the station page."""

    list_display = ("received", "station", "original_name", "size")
    list_filter = ("station__organization", ("received", admin.DateFieldListFilter))
    search_fields = ("station__ocpp_id", "original_name")
    list_select_related = ("station",)
    # The stored file has no public URL (no MEDIA_URL): its name and size are shown instead.
    fields = ("station", "request", "original_name", "size", "received")


@admin.register(StationDataTransfer)
class StationDataTransferAdmin(ReadOnlyModelAdmin):
    """Vendor-specific DataTransfer messages with the status they were answered with."""

    list_display = ("received_at", "station", "direction", "vendor_id", "message_id", "status")
    list_filter = ("direction", "station__organization", ("received_at", admin.DateFieldListFilter))
    search_fields = ("station__ocpp_id", "vendor_id", "message_id")
    list_select_related = ("station",)


@admin.register(ChargingProfile)
class ChargingProfileAdmin(CmsModelAdmin):
    """The organization's library of smart-charging profiles."""

    list_display = (
        "name",
        "organization",
        "purpose",
        "kind",
        "stack_level",
        "charging_rate_unit",
        "updated",
    )
    list_filter = ("organization", "purpose", "kind", "charging_rate_unit")
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization",)
    list_select_related = ("organization",)
    readonly_fields = ("created", "updated")


@admin.register(StationEvent)
class StationEventAdmin(ReadOnlyModelAdmin):
    """Events and security events as stations reported them."""

    list_display = (
        "timestamp",
        "station",
        "kind",
        "type",
        "component",
        "variable",
        "trigger",
        "severity",
        "critical",
        "cleared",
        "received_at",
    )
    list_filter = (
        "kind",
        "trigger",
        "cleared",
        "critical",
        "station__organization",
        ("timestamp", admin.DateFieldListFilter),
    )
    search_fields = ("station__ocpp_id", "type", "component", "variable", "tech_code")
    list_select_related = ("station",)


@admin.register(VariableMonitor)
class VariableMonitorAdmin(ReadOnlyModelAdmin):
    """The monitors stations have on their variables, as set or reported."""

    list_display = (
        "station",
        "monitor_id",
        "component",
        "variable",
        "type",
        "value",
        "severity",
        "transaction",
        "status",
        "updated_at",
    )
    list_filter = ("type", "status", "station__organization")
    search_fields = ("station__ocpp_id", "component", "variable")
    list_select_related = ("station",)


@admin.register(CustomerInformationPart)
class CustomerInformationPartAdmin(ReadOnlyModelAdmin):
    """Customer data stations reported on request, part by part."""

    list_display = ("generated_at", "station", "request_id", "seq_no", "more_follows")
    list_filter = ("station__organization",)
    search_fields = ("station__ocpp_id",)
    list_select_related = ("station",)


@admin.register(StationVariable)
class StationVariableAdmin(ReadOnlyModelAdmin):
    """Device model variables (2.0.1) and configuration keys (1.6) as stations reported them."""

    list_display = (
        "station",
        "component",
        "evse_number",
        "connector_number",
        "variable",
        "variable_instance",
        "attribute_type",
        "value",
        "mutability",
        "source",
        "set_status",
        "reported_at",
    )
    list_filter = ("source", "attribute_type", "mutability", "station__organization")
    search_fields = ("station__ocpp_id", "component", "variable")
    list_select_related = ("station",)


@admin.register(DeviceModelReport)
class DeviceModelReportAdmin(ReadOnlyModelAdmin):
    """Device model reports asked of stations and the parts received."""

    list_display = (
        "requested_at",
        "station",
        "request_id",
        "kind",
        "status",
        "parts",
        "variables",
        "completed_at",
    )
    list_filter = ("kind", "status", "station__organization")
    search_fields = ("station__ocpp_id",)
    list_select_related = ("station",)


@admin.register(ReportedChargingProfile)
class ReportedChargingProfileAdmin(ReadOnlyModelAdmin):
    """Charging profiles a 2.0.1 station reported in answer to GetChargingProfiles."""

    list_display = (
        "reported_at",
        "station",
        "evse_number",
        "source",
        "profile_id",
        "purpose",
        "stack_level",
        "transaction_id",
    )
    list_filter = ("source", "purpose", "station__organization")
    search_fields = ("station__ocpp_id", "transaction_id")
    list_select_related = ("station",)


@admin.register(ExternalChargingLimit)
class ExternalChargingLimitAdmin(ReadOnlyModelAdmin):
    """Limits set outside the CSMS (energy manager, grid operator) that a station reported."""

    list_display = (
        "reported_at",
        "station",
        "evse_number",
        "source",
        "grid_critical",
        "cleared_at",
    )
    list_filter = ("source", "grid_critical", "station__organization")
    search_fields = ("station__ocpp_id",)
    list_select_related = ("station",)


@admin.register(EVChargingNeeds)
class EVChargingNeedsAdmin(ReadOnlyModelAdmin):
    """What cars asked for over ISO 15118 (NotifyEVChargingNeeds) and the schedules they sent."""

    list_display = (
        "reported_at",
        "station",
        "evse_number",
        "energy_transfer",
        "energy_amount",
        "departure_time",
        "schedule_status",
    )
    list_filter = ("energy_transfer", "schedule_status", "station__organization")
    search_fields = ("station__ocpp_id",)
    list_select_related = ("station",)


@admin.register(FirmwarePublication)
class FirmwarePublicationAdmin(ReadOnlyModelAdmin):
    """Firmware a local controller was asked to publish, and what it answered."""

    list_display = ("requested_at", "station", "location", "status", "status_at", "unpublished_at")
    list_filter = ("status", "station__organization")
    search_fields = ("station__ocpp_id", "location", "checksum")
    list_select_related = ("station",)
