"""Query-string filters of the command log API."""

import django_filters

from core.api.filters import UtcDateTimeFilter, visible
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.models import CommandLog
from stations.models import ChargingStation


class CommandLogFilterSet(django_filters.FilterSet):
    """Command log rows by station, command, status and time requested."""

    station = django_filters.ModelChoiceFilter(queryset=visible(ChargingStation))
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
