"""Django admin for support staff: access groups and id tokens (RFID cards)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cards.models import AccessGroup, IdToken, normalize_uid
from organizations.admin import CmsModelAdmin, TenantAdminForm


@admin.register(AccessGroup)
class AccessGroupAdmin(CmsModelAdmin):
    """Groups of cards authorized at sites and stations."""

    list_display = ("name", "organization", "description", "updated")
    list_filter = ("organization",)
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization",)
    list_select_related = ("organization",)
    readonly_fields = ("created", "updated")


class IdTokenAdminForm(TenantAdminForm):
    """Id token form that checks uniqueness on the uid as it will be stored."""

    def clean_uid(self):
        # The model upper-cases on save, after validation: "abc" would pass the unique check
        # against "ABC" and fail in the database.
        return normalize_uid(self.cleaned_data["uid"])


@admin.register(IdToken)
class IdTokenAdmin(CmsModelAdmin):
    """RFID cards and other tokens drivers identify with."""

    form = IdTokenAdminForm

    list_display = (
        "uid",
        "label",
        "holder_name",
        "organization",
        "type",
        "status",
        "expires_at",
        "max_concurrent_transactions",
        "roaming",
    )
    list_filter = (
        "status",
        "type",
        "roaming",
        "organization",
        ("expires_at", admin.DateFieldListFilter),
        ("created", admin.DateFieldListFilter),
    )
    search_fields = ("uid", "holder_name", "holder_email", "label", "parent_id_tag")
    autocomplete_fields = ("organization", "access_groups")
    list_select_related = ("organization",)
    readonly_fields = ("created", "updated")
    fieldsets = (
        (None, {"fields": ("organization", "uid", "type", "label", "status", "expires_at")}),
        (_("Holder"), {"fields": ("holder_name", "holder_email")}),
        (
            _("Authorization"),
            {
                "fields": (
                    "access_groups",
                    "parent_id_tag",
                    "max_concurrent_transactions",
                    "roaming",
                )
            },
        ),
        (_("History"), {"fields": ("created", "updated")}),
    )
