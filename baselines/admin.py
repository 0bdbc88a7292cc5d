"""Django admin of configuration baselines: baselines with settings; drift, runs, first boots."""

from django.contrib import admin

from baselines import services
from baselines.models import (
    BaselineResult,
    BaselineRun,
    BaselineSetting,
    ConfigurationBaseline,
    FirstBoot,
    StationDrift,
)
from organizations.admin import (
    CmsModelAdmin,
    CmsTabularInline,
    ReadOnlyModelAdmin,
    ReadOnlyTabularInline,
)


class BaselineSettingInline(CmsTabularInline):
    """The desired values of a baseline."""

    model = BaselineSetting
    fields = (
        "component",
        "component_instance",
        "evse_number",
        "connector_number",
        "variable",
        "variable_instance",
        "attribute_type",
        "value",
    )


@admin.register(ConfigurationBaseline)
class ConfigurationBaselineAdmin(CmsModelAdmin):
    """Desired configuration per vendor and model of an organization's stations."""

    list_display = (
        "name",
        "organization",
        "vendor",
        "model",
        "apply_at_first_boot",
        "detect_drift",
    )
    list_filter = ("apply_at_first_boot", "detect_drift", "organization")
    search_fields = ("name", "vendor", "model", "organization__name")
    autocomplete_fields = ("organization",)
    list_select_related = ("organization",)
    readonly_fields = ("created", "updated", "created_by", "updated_by")
    inlines = (BaselineSettingInline,)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Settings changed: the stations' drift is judged anew.
        services.refresh_baseline(form.instance)

    def delete_model(self, request, obj):
        services.delete_baseline(obj)


@admin.register(StationDrift)
class StationDriftAdmin(ReadOnlyModelAdmin):
    """Stations that differ from a baseline now (kept up to date by the drift check)."""

    list_display = ("station", "baseline", "detected_at", "checked_at")
    list_filter = ("baseline__organization",)
    search_fields = ("station__ocpp_id", "baseline__name")
    list_select_related = ("station", "baseline")


class BaselineResultInline(ReadOnlyTabularInline):
    """The station's answer per setting."""

    model = BaselineResult
    fields = ("variable", "component", "attribute_type", "value", "status", "message")
    show_change_link = False


@admin.register(BaselineRun)
class BaselineRunAdmin(ReadOnlyModelAdmin):
    """Applications of baselines to stations."""

    list_display = ("created", "baseline", "station", "trigger", "status", "finished")
    list_filter = ("status", "trigger", "baseline__organization")
    search_fields = ("station__ocpp_id", "baseline__name")
    list_select_related = ("station", "baseline")
    date_hierarchy = "created"
    inlines = (BaselineResultInline,)


@admin.register(FirstBoot)
class FirstBootAdmin(ReadOnlyModelAdmin):
    """When each station first booted accepted in its organization."""

    list_display = ("station", "organization", "booted_at")
    search_fields = ("station__ocpp_id",)
    list_select_related = ("station", "organization")


@admin.register(BaselineSetting)
class BaselineSettingAdmin(ReadOnlyModelAdmin):
    """Desired values of every baseline (changed on their baseline's page)."""

    list_display = ("baseline", "component", "variable", "attribute_type", "value")
    search_fields = ("variable", "component", "baseline__name")
    list_select_related = ("baseline",)


@admin.register(BaselineResult)
class BaselineResultAdmin(ReadOnlyModelAdmin):
    """The stations' answers per setting of every run."""

    list_display = ("run", "component", "variable", "value", "status")
    list_filter = ("status",)
    search_fields = ("variable", "component", "run__station__ocpp_id")
    list_select_related = ("run__station", "run__baseline")
