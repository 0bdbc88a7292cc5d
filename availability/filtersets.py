"""Query-string filters of the maintenance windows API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from availability.models import MaintenanceWindow
from core.api.filters import UtcDateTimeFilter, visible
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
