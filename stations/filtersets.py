"""Query-string filters of the stations API."""

import django_filters
from django.db.models import Exists, OuterRef

from stations.choices import ConnectionState, ConnectorStatus
from stations.models import ChargingStation, Connector, Site


def visible_sites(request):
    """Sites a filter may name: those of the user's organizations only."""
    return Site.objects.visible_to(request.user if request else None)


class ChargingStationFilterSet(django_filters.FilterSet):
    """Stations by site, connection state, OCPP identity and connector status."""

    site = django_filters.ModelChoiceFilter(queryset=visible_sites)
    connection_state = django_filters.ChoiceFilter(choices=ConnectionState.choices)
    ocpp_id = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(
        choices=ConnectorStatus.choices,
        method="filter_connector_status",
        label="Has a connector in this status",
    )

    class Meta:
        model = ChargingStation
        fields = ["site", "connection_state", "ocpp_id", "status"]

    def filter_connector_status(self, queryset, name, value):
        # EXISTS rather than a join: a station with two matching connectors stays one row.
        in_status = Connector.objects.filter(station=OuterRef("pk"), status=value)
        return queryset.filter(Exists(in_status))
