"""Django admin of availability: the maintenance windows operators announced."""

from django.contrib import admin

from availability.models import MaintenanceWindow
from organizations.admin import CmsModelAdmin


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(CmsModelAdmin):
    """Announced maintenance of an organization, a site or a station."""

    list_display = ("starts_at", "ends_at", "organization", "site", "station", "reason")
    list_filter = ("organization",)
    search_fields = ("reason", "organization__name", "site__name", "station__ocpp_id")
    autocomplete_fields = ("organization", "site", "station")
    list_select_related = ("organization", "site", "station")
    readonly_fields = ("created_by", "created")
    date_hierarchy = "starts_at"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
