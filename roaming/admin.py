"""Django admin for support staff: roaming partners and roaming activity."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from organizations.admin import CmsModelAdmin, ReadOnlyModelAdmin, TenantAdminForm
from roaming.models import RoamingActivity, RoamingPartner


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
        exclude = ("credentials_token",)

    def save(self, commit=True):
        if self.cleaned_data.get("new_credentials_token"):
            self.instance.credentials_token = self.cleaned_data["new_credentials_token"]
        return super().save(commit=commit)

    def changed_model_fields(self):
        changed = super().changed_model_fields()
        if self.cleaned_data.get("new_credentials_token"):
            return [*changed, "credentials_token"]
        return changed


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
        "tariff",
        "versions_url",
        "updated",
    )
    list_filter = ("status", "role", "organization", "country_code")
    search_fields = ("name", "party_id", "versions_url", "organization__name")
    autocomplete_fields = ("organization", "tariff")
    list_select_related = ("organization", "tariff")
    readonly_fields = ("token_state", "created", "updated")
    fieldsets = (
        (None, {"fields": ("organization", "name", "country_code", "party_id", "role")}),
        (
            _("OCPI connection"),
            {"fields": ("status", "versions_url", "token_state", "new_credentials_token")},
        ),
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


@admin.register(RoamingActivity)
class RoamingActivityAdmin(ReadOnlyModelAdmin):
    """Daily roaming rollup; computed from sessions, so not edited by hand."""

    list_display = (
        "date",
        "partner",
        "site",
        "organization",
        "sessions",
        "energy_kwh",
        "revenue",
        "currency",
    )
    list_filter = ("organization", ("date", admin.DateFieldListFilter))
    date_hierarchy = "date"
    search_fields = ("partner__name", "partner__party_id", "site__name")
    list_select_related = ("organization", "partner", "site")

    @admin.display(description=_("energy (kWh)"), ordering="energy_wh")
    def energy_kwh(self, obj):
        return f"{obj.energy_wh / 1000:.3f}"
