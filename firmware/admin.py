"""Django admin for support staff: the firmware catalogue of every organization."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from firmware.models import FirmwareImage
from firmware.services import delete_image
from organizations.admin import CmsModelAdmin


@admin.register(FirmwareImage)
class FirmwareImageAdmin(CmsModelAdmin):
    """Firmware images: read everything, change release notes; uploads go through the portal
    or the API, which compute the checksums."""

    list_display = ("__str__", "organization", "version", "size", "has_signature", "created")
    list_filter = ("organization",)
    search_fields = ("vendor", "model", "version", "sha256", "organization__name")
    list_select_related = ("organization",)
    fields = (
        "organization",
        "vendor",
        "model",
        "version",
        "release_notes",
        "original_name",
        "stored_file",
        "size",
        "sha256",
        "md5",
        "signature",
        "signing_certificate",
        "uploaded_by",
        "created",
    )
    readonly_fields = tuple(name for name in fields if name != "release_notes")

    def has_add_permission(self, request):
        return False

    @admin.display(boolean=True, description=_("signed"))
    def has_signature(self, obj):
        return obj.has_signature

    @admin.display(description=_("stored as"))
    def stored_file(self, obj):
        # The storage's name only: the file is served to stations by signed URL, never by link.
        return obj.file.name

    def delete_model(self, request, obj):
        # Through the service, so the file leaves the storage with the row.
        delete_image(obj)

    def delete_queryset(self, request, queryset):
        for image in queryset:
            delete_image(image)
