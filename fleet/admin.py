"""Django admin of fleet: firmware campaigns, read-mostly, with their stations inline."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from fleet import services
from fleet.models import CAMPAIGN_SETTINGS, Campaign, CampaignStation
from organizations.admin import CmsModelAdmin, ReadOnlyModelAdmin, ReadOnlyTabularInline


class CampaignStationInline(ReadOnlyTabularInline):
    """Each station's progress (written by the tick and the stations' reports)."""

    model = CampaignStation
    fields = (
        "station",
        "wave",
        "state",
        "firmware_status",
        "firmware_status_at",
        "attempts",
        "version_before",
        "version_after",
        "error",
        "command_log",
        "sent_at",
        "finished_at",
    )
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        # Each row shows its station and command and is named by its campaign: fetched with
        # it, not one query per row.
        return (
            super()
            .get_queryset(request)
            .select_related("campaign", "station", "command_log__station")
        )


@admin.register(Campaign)
class CampaignAdmin(CmsModelAdmin):
    """Firmware campaigns; created and launched in the portal or the API, which target them."""

    list_display = ("name", "organization", "image", "state", "current_wave", "created")
    list_filter = ("state", "organization")
    search_fields = ("name", "organization__name", "image__version")
    list_select_related = ("organization", "image")
    fields = (
        "organization",
        "name",
        "image",
        "state",
        "current_wave",
        "pause_reason",
        *CAMPAIGN_SETTINGS,
        "created_by",
        "created",
        "launched_at",
        "finished_at",
    )
    # Only the name changes here: the rest is what the campaign was targeted and launched with.
    readonly_fields = tuple(name for name in fields if name != "name")
    inlines = [CampaignStationInline]
    actions = ["pause_selected", "resume_selected", "cancel_selected"]

    def has_add_permission(self, request):
        return False

    def _run(self, request, queryset, service, done):
        changed = 0
        for campaign in queryset:
            try:
                service(campaign, user=request.user)
            except services.CampaignRefused as refusal:
                self.message_user(request, f"{campaign}: {refusal.reason}", messages.WARNING)
            else:
                changed += 1
        if changed:
            self.message_user(request, done % {"n": changed}, messages.SUCCESS)

    @admin.action(description=_("Pause selected campaigns"), permissions=["change"])
    def pause_selected(self, request, queryset):
        self._run(request, queryset, services.pause_campaign, _("%(n)d campaigns paused."))

    @admin.action(description=_("Resume selected campaigns"), permissions=["change"])
    def resume_selected(self, request, queryset):
        self._run(request, queryset, services.resume_campaign, _("%(n)d campaigns resumed."))

    @admin.action(description=_("Cancel selected campaigns"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        self._run(request, queryset, services.cancel_campaign, _("%(n)d campaigns cancelled."))


@admin.register(CampaignStation)
class CampaignStationAdmin(ReadOnlyModelAdmin):
    """Each campaign station's progress (written by the tick and the stations' reports)."""

    list_display = (
        "station",
        "campaign",
        "wave",
        "state",
        "firmware_status",
        "attempts",
        "updated",
    )
    list_filter = ("state",)
    search_fields = ("station__ocpp_id", "campaign__name")
    list_select_related = ("station", "campaign")
    fields = CampaignStationInline.fields
    readonly_fields = fields
