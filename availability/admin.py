"""Django admin of availability: maintenance windows and the maintenance log."""

from django.contrib import admin

from availability.models import (
    MaintenanceAttachment,
    MaintenanceRecord,
    MaintenanceWindow,
    MaintenanceWindowStation,
)
from organizations.admin import CmsModelAdmin, ReadOnlyModelAdmin, ReadOnlyTabularInline


class MaintenanceWindowStationInline(ReadOnlyTabularInline):
    """What the window's ChangeAvailability did to each station (written by the task)."""

    model = MaintenanceWindowStation
    fields = (
        "station",
        "state",
        "last_outcome",
        "detail",
        "attempts",
        "inoperative_sent_at",
        "inoperative_at",
        "operative_sent_at",
        "released_at",
    )
    readonly_fields = fields
    show_change_link = False


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(CmsModelAdmin):
    """Announced maintenance of an organization, a site or a station."""

    list_display = (
        "starts_at",
        "ends_at",
        "organization",
        "site",
        "station",
        "set_inoperative",
        "reason",
    )
    list_filter = ("organization", "set_inoperative")
    search_fields = ("reason", "organization__name", "site__name", "station__ocpp_id")
    autocomplete_fields = ("organization", "site", "station")
    list_select_related = ("organization", "site", "station")
    readonly_fields = ("created_by", "created")
    date_hierarchy = "starts_at"
    inlines = [MaintenanceWindowStationInline]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class MaintenanceAttachmentInline(ReadOnlyTabularInline):
    """The record's files: listed; removed (with the stored file) by staff who may delete."""

    model = MaintenanceAttachment
    fields = ("original_name", "content_type", "size", "uploaded_by", "created")
    readonly_fields = fields
    show_change_link = False
    can_delete = True

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("availability.delete_maintenanceattachment")


@admin.register(MaintenanceRecord)
class MaintenanceRecordAdmin(CmsModelAdmin):
    """Maintenance done to stations; files are uploaded in the portal or the API."""

    list_display = ("performed_at", "station", "kind", "performed_by", "technician", "next_due")
    list_filter = ("kind", "organization")
    search_fields = ("station__ocpp_id", "technician", "notes", "part_replaced")
    autocomplete_fields = ("organization", "station", "performed_by")
    list_select_related = ("station", "performed_by")
    readonly_fields = ("created_by", "created", "updated")
    date_hierarchy = "performed_at"
    inlines = [MaintenanceAttachmentInline]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(MaintenanceAttachment)
class MaintenanceAttachmentAdmin(ReadOnlyModelAdmin):
    """Photos and documents of maintenance records; deleting one removes its stored file."""

    list_display = ("original_name", "record", "content_type", "size", "created")
    search_fields = ("original_name", "record__station__ocpp_id")
    list_select_related = ("record__station",)
    # The stored file has no public URL (no MEDIA_URL): members download it in the portal.
    fields = ("record", "original_name", "content_type", "size", "uploaded_by", "created")
    readonly_fields = fields


@admin.register(MaintenanceWindowStation)
class MaintenanceWindowStationAdmin(ReadOnlyModelAdmin):
    """What each window's ChangeAvailability did to each station (written by the task)."""

    list_display = ("station", "window", "state", "last_outcome", "attempts", "updated")
    list_filter = ("state", "last_outcome")
    search_fields = ("station__ocpp_id",)
    list_select_related = ("station", "window")
