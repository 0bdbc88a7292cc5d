"""Query-string filters of the maintenance windows and maintenance records API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from availability.choices import MaintenanceKind
from availability.models import MaintenanceRecord, MaintenanceWindow
from core.api.filters import UtcDateTimeFilter, visible
from organizations.models import Organization
from stations.models import ChargingStation, Site


class MaintenanceWindowFilterSet(django_filters.FilterSet):
    """Maintenance windows by scope and by the time they cover."""

    site = django_filters.ModelChoiceFilter(queryset=visible(Site))
    station = django_filters.ModelChoiceFilter(queryset=visible(ChargingStation))
    active_at = UtcDateTimeFilter(method="filter_active_at", label=_("Covering this moment"))
    ends_after = UtcDateTimeFilter(field_name="ends_at", lookup_expr="gt")
    starts_before = UtcDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = MaintenanceWindow
        fields = ["site", "station", "active_at", "ends_after", "starts_before"]

    def filter_active_at(self, queryset, name, value):
        # Half-open, as the report counts them: the end itself is outside.
        return queryset.filter(starts_at__lte=value, ends_at__gt=value)


class MaintenanceRecordFilterSet(django_filters.FilterSet):
    """Maintenance records by station, site, kind and when they were done or are due."""

    station = django_filters.ModelChoiceFilter(queryset=visible(ChargingStation))
    site = django_filters.ModelChoiceFilter(field_name="station__site", queryset=visible(Site))
    kind = django_filters.ChoiceFilter(choices=MaintenanceKind.choices)
    performed_after = UtcDateTimeFilter(field_name="performed_at", lookup_expr="gte")
    performed_before = UtcDateTimeFilter(field_name="performed_at", lookup_expr="lt")
    due_before = django_filters.DateFilter(
        field_name="next_due", lookup_expr="lte", label=_("Next due on or before this day")
    )

    class Meta:
        model = MaintenanceRecord
        fields = ["station", "site", "kind", "performed_after", "performed_before", "due_before"]


class MaintenanceDueFilterSet(django_filters.FilterSet):
    """The stations of the overview of what is due: by site or organization."""

    site = django_filters.ModelChoiceFilter(queryset=visible(Site))
    organization = django_filters.ModelChoiceFilter(queryset=visible(Organization))

    class Meta:
        model = ChargingStation
        fields = ["site", "organization"]
