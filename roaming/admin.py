"""Django admin for support staff: our OCPI profiles, partners, what they sent us, pushes, module
states, roaming activity and the OCPI exchange log (every request and response, both ways)."""

import json

from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from organizations.admin import CmsModelAdmin, ReadOnlyModelAdmin, TenantAdminForm
from roaming import partners as partner_actions
from roaming.models import (
    ModuleSync,
    OcpiExchange,
    OcpiPush,
    PartnerCdr,
    PartnerLocation,
    PartnerSession,
    PartnerTariff,
    RoamingActivity,
    RoamingCommand,
    RoamingPartner,
    RoamingProfile,
    RoamingToken,
)


def pretty_json(value):
    """A JSON value indented in a <pre> block, or "-" when there is none."""
    if value in (None, "", [], {}):
        return "-"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


def pretty_body(text: str):
    """A request or response body: indented when it is JSON, as it came otherwise."""
    if not text:
        return "-"
    try:
        return pretty_json(json.loads(text))
    except ValueError:
        return format_html("<pre>{}</pre>", text)


@admin.register(RoamingProfile)
class RoamingProfileAdmin(CmsModelAdmin):
    """How each organization appears in OCPI: its party and roles."""

    list_display = (
        "organization",
        "country_code",
        "party_id",
        "name",
        "cpo_enabled",
        "emsp_enabled",
    )
    list_filter = ("cpo_enabled", "emsp_enabled", "country_code")
    search_fields = ("organization__name", "party_id", "name")
    autocomplete_fields = ("organization",)
    list_select_related = ("organization",)
    readonly_fields = ("created", "updated")


class RoamingPartnerForm(TenantAdminForm):
    """Partner form where the OCPI credentials token can be replaced but not read back."""

    new_credentials_token = forms.CharField(
        label=_("New credentials token"),
        required=False,
        max_length=RoamingPartner._meta.get_field("credentials_token").max_length,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Leave empty to keep the current token."),
    )

    class Meta:
        model = RoamingPartner
        exclude = ("credentials_token", "incoming_token_hash")

    def save(self, commit=True):
        if self.cleaned_data.get("new_credentials_token"):
            self.instance.credentials_token = self.cleaned_data["new_credentials_token"]
        return super().save(commit=commit)

    def changed_model_fields(self):
        changed = super().changed_model_fields()
        if self.cleaned_data.get("new_credentials_token"):
            return [*changed, "credentials_token"]
        return changed


# What the credentials handshake writes: support reads it, only the handshake changes it.
OCPI_REGISTRATION_FIELDS = (
    "version",
    "registered_at",
    "roles_pretty",
    "endpoints_pretty",
    "incoming_token_state",
    "last_error",
    "last_error_at",
)


@admin.register(RoamingPartner)
class RoamingPartnerAdmin(CmsModelAdmin):
    """OCPI parties an organization exchanges sessions with."""

    form = RoamingPartnerForm
    list_display = (
        "name",
        "organization",
        "country_code",
        "party_id",
        "role",
        "status",
        "version",
        "tariff",
        "versions_url",
        "updated",
    )
    list_filter = ("status", "role", "organization", "country_code")
    search_fields = ("name", "party_id", "versions_url", "organization__name")
    autocomplete_fields = ("organization", "tariff")
    list_select_related = ("organization", "tariff")
    readonly_fields = ("token_state", *OCPI_REGISTRATION_FIELDS, "created", "updated")
    fieldsets = (
        (None, {"fields": ("organization", "name", "country_code", "party_id", "role")}),
        (
            _("OCPI connection"),
            {
                "fields": (
                    "status",
                    "versions_url",
                    "token_state",
                    "new_credentials_token",
                    "rate_limit_per_minute",
                )
            },
        ),
        (_("OCPI registration"), {"fields": OCPI_REGISTRATION_FIELDS}),
        (_("Billing"), {"fields": ("tariff",)}),
        (_("History"), {"fields": ("created", "updated")}),
    )

    @admin.display(description=_("credentials token"))
    def token_state(self, obj):
        token = obj.credentials_token
        if not token:
            return _("not set")
        # The last characters of a long token let support staff compare it with the partner's
        # without exposing it; of a short one they would give away too much.
        if len(token) < 16:
            return _("set")
        return _("set, ending in …%(tail)s") % {"tail": token[-4:]}

    @admin.display(description=_("token the partner calls us with"))
    def incoming_token_state(self, obj):
        if not obj.incoming_token_hash:
            return _("not set")
        return _("set, ending in …%(tail)s") % {"tail": obj.incoming_token_hint}

    @admin.display(description=_("roles"))
    def roles_pretty(self, obj):
        return pretty_json(obj.roles)

    @admin.display(description=_("endpoints"))
    def endpoints_pretty(self, obj):
        return pretty_json(obj.endpoints)


@admin.register(RoamingActivity)
class RoamingActivityAdmin(ReadOnlyModelAdmin):
    """Daily roaming rollup; computed from sessions and CDRs, so not edited by hand."""

    list_display = (
        "date",
        "partner",
        "role",
        "location",
        "organization",
        "sessions",
        "energy_kwh",
        "revenue",
        "currency",
    )
    list_filter = ("role", "organization", ("date", admin.DateFieldListFilter))
    date_hierarchy = "date"
    search_fields = ("partner__name", "partner__party_id", "site__name", "location_name")
    list_select_related = ("organization", "partner", "site")

    @admin.display(description=_("charging location"), ordering="location_name")
    def location(self, obj):
        return obj.site.name if obj.site_id else obj.location_name or obj.location_id or "-"

    @admin.display(description=_("energy (kWh)"), ordering="energy_wh")
    def energy_kwh(self, obj):
        return f"{obj.energy_wh / 1000:.3f}"


@admin.register(OcpiExchange)
class OcpiExchangeAdmin(ReadOnlyModelAdmin):
    """Every OCPI request and its response, in and out, for support to trace a partner."""

    list_display = (
        "created",
        "direction",
        "partner",
        "organization",
        "module",
        "method",
        "short_url",
        "http_status",
        "ocpi_status",
        "duration_ms",
    )
    list_filter = (
        "direction",
        "module",
        "http_status",
        "ocpi_status",
        "partner",
        "organization",
        ("created", admin.DateFieldListFilter),
    )
    date_hierarchy = "created"
    search_fields = ("url", "request_body", "response_body", "error")
    list_select_related = ("organization", "partner")
    fields = (
        "created",
        "organization",
        "partner",
        "direction",
        "module",
        "method",
        "url",
        "http_status",
        "ocpi_status",
        "duration_ms",
        "error",
        "request_pretty",
        "response_pretty",
    )
    readonly_fields = fields

    def changelist_view(self, request, extra_context=None):
        retention = ngettext(
            "Kept for %(days)d day (OCPI_LOG_RETENTION_DAYS), then purged every hour.",
            "Kept for %(days)d days (OCPI_LOG_RETENTION_DAYS), then purged every hour.",
            settings.OCPI_LOG_RETENTION_DAYS,
        ) % {"days": settings.OCPI_LOG_RETENTION_DAYS}
        extra_context = {**(extra_context or {}), "subtitle": retention}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.display(description=_("URL"), ordering="url")
    def short_url(self, obj):
        return obj.url if len(obj.url) <= 80 else obj.url[:79] + "…"

    @admin.display(description=_("request"))
    def request_pretty(self, obj):
        return pretty_body(obj.request_body)

    @admin.display(description=_("response"))
    def response_pretty(self, obj):
        return pretty_body(obj.response_body)


@admin.register(OcpiPush)
class OcpiPushAdmin(ReadOnlyModelAdmin):
    """Objects owed to partners' receivers; failed ones can be sent again."""

    list_display = (
        "created",
        "partner",
        "organization",
        "module",
        "object_key",
        "status",
        "attempts",
        "next_attempt_at",
        "updated",
    )
    list_filter = ("status", "module", "organization")
    search_fields = ("object_key", "partner__name", "last_error")
    list_select_related = ("organization", "partner")
    date_hierarchy = "created"
    actions = ("retry_now",)
    fields = (
        "organization",
        "partner",
        "module",
        "object_key",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created",
        "updated",
    )
    readonly_fields = fields

    def has_retry_permission(self, request):
        return request.user.is_active and request.user.is_staff

    @admin.action(description=_("Retry failed pushes now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        retried = partner_actions.retry_failed_pushes(queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d failed push owed again and sent.",
                "%(count)d failed pushes owed again and sent.",
                retried,
            )
            % {"count": retried},
        )


@admin.register(ModuleSync)
class ModuleSyncAdmin(ReadOnlyModelAdmin):
    """How each OCPI module with each partner is doing."""

    list_display = (
        "partner",
        "organization",
        "module",
        "last_success_at",
        "last_failure_at",
        "healthy",
        "sent",
        "received",
    )
    list_filter = ("module", "organization")
    search_fields = ("partner__name", "partner__party_id", "last_error")
    list_select_related = ("organization", "partner")
    fields = (
        "organization",
        "partner",
        "module",
        "last_success_at",
        "last_failure_at",
        "last_error",
        "sent",
        "received",
    )
    readonly_fields = fields

    @admin.display(description=_("healthy"), boolean=True)
    def healthy(self, obj):
        return obj.healthy


class PartnerObjectAdmin(ReadOnlyModelAdmin):
    """An OCPI object a partner sent us, as last received."""

    list_filter = ("organization",)
    list_select_related = ("organization", "partner")
    search_fields = ("ocpi_id", "partner__name")
    date_hierarchy = "last_updated"
    common_fields = (
        "organization",
        "partner",
        "country_code",
        "party_id",
        "ocpi_id",
        "last_updated",
        "received",
    )
    own_fields: tuple = ()

    def get_fields(self, request, obj=None):
        return (*self.common_fields, *self.own_fields, "data_pretty")

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("OCPI object"))
    def data_pretty(self, obj):
        return pretty_json(obj.data)


@admin.register(RoamingToken)
class RoamingTokenAdmin(PartnerObjectAdmin):
    """Tokens eMSP partners published to us: their drivers may charge at our roaming sites."""

    list_display = ("uid", "type", "partner", "organization", "whitelist", "valid", "last_updated")
    list_filter = ("valid", "whitelist", "type", "organization")
    search_fields = ("uid", "contract_id", "visual_number", "partner__name")
    own_fields = ("uid", "type", "contract_id", "visual_number", "issuer", "group_id", "valid")


@admin.register(PartnerLocation)
class PartnerLocationAdmin(PartnerObjectAdmin):
    """Locations of CPO partners, where our drivers may charge."""

    list_display = ("ocpi_id", "name", "city", "country", "partner", "organization", "last_updated")
    search_fields = ("ocpi_id", "name", "city", "partner__name")
    own_fields = ("name", "address", "city", "country")


@admin.register(PartnerTariff)
class PartnerTariffAdmin(PartnerObjectAdmin):
    """Tariffs CPO partners published: what our drivers pay at their stations."""

    list_display = ("ocpi_id", "currency", "partner", "organization", "last_updated")
    own_fields = ("currency",)


@admin.register(PartnerSession)
class PartnerSessionAdmin(PartnerObjectAdmin):
    """Sessions of our drivers at CPO partners' stations, as the partners report them."""

    list_display = (
        "ocpi_id",
        "token_uid",
        "location_id",
        "status",
        "start",
        "kwh",
        "partner",
        "organization",
    )
    list_filter = ("status", "organization")
    search_fields = ("ocpi_id", "token_uid", "location_id", "partner__name")
    own_fields = (
        "id_token",
        "token_uid",
        "location_id",
        "status",
        "start",
        "end",
        "kwh",
        "currency",
        "total_cost_incl_vat",
    )


@admin.register(PartnerCdr)
class PartnerCdrAdmin(PartnerObjectAdmin):
    """CDRs CPO partners sent us: what our drivers' sessions cost, and their reconciliation."""

    list_display = (
        "ocpi_id",
        "token_uid",
        "location_name",
        "start",
        "kwh",
        "total_cost_incl_vat",
        "currency",
        "reconciliation",
        "partner",
        "organization",
    )
    list_filter = ("reconciliation", "currency", "organization")
    search_fields = ("ocpi_id", "token_uid", "session_id", "location_name", "partner__name")
    own_fields = (
        "id_token",
        "token_uid",
        "session_id",
        "location_id",
        "location_name",
        "start",
        "end",
        "kwh",
        "currency",
        "total_cost_excl_vat",
        "total_cost_incl_vat",
        "reconciliation",
        "invoiced_amount",
        "invoice_reference",
    )


@admin.register(RoamingCommand)
class RoamingCommandAdmin(ReadOnlyModelAdmin):
    """Commands eMSP partners sent us and how the station answered; commands we sent CPOs."""

    list_display = (
        "created",
        "direction",
        "command",
        "partner",
        "organization",
        "station",
        "result",
    )
    list_filter = ("direction", "command", "result", "result_sent", "organization")
    search_fields = ("partner__name", "station__ocpp_id", "message")
    list_select_related = ("organization", "partner", "station")
    date_hierarchy = "created"
    fields = (
        "organization",
        "partner",
        "direction",
        "command",
        "station",
        "connector",
        "result",
        "message",
        "result_sent",
        "response_url",
        "response_pretty",
        "timeout",
        "created",
        "completed",
        "request_pretty",
    )
    readonly_fields = fields

    @admin.display(description=_("request"))
    def request_pretty(self, obj):
        return pretty_json(obj.request)

    @admin.display(description=_("response"))
    def response_pretty(self, obj):
        return pretty_json(obj.response)
