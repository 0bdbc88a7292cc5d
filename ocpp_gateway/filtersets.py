"""Query-string filters of the command log API."""

import django_filters

from cms.api.filters import UtcDateTimeFilter
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.models import CommandLog
from stations.models import ChargingStation


def visible_stations(request):
    """Stations a filter may name: those of the user's organizations only."""
    return ChargingStation.objects.visible_to(request.user if request else None)


class CommandLogFilterSet(django_filters.FilterSet):
    """Command log rows by station, command, status and time requested."""

    station = django_filters.ModelChoiceFilter(queryset=visible_stations)
    ocpp_id = django_filters.CharFilter(field_name="station__ocpp_id")
    command = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=CommandStatus.choices)
    # A half-open interval, so consecutive windows neither overlap nor leave a gap.
    created_after = UtcDateTimeFilter(
        field_name="created", lookup_expr="gte", label="Requested at or after"
    )
    created_before = UtcDateTimeFilter(
        field_name="created", lookup_expr="lt", label="Requested before"
    )

    class Meta:
        model = CommandLog
        fields = ["station", "ocpp_id", "command", "status", "created_after", "created_before"]
