"""Query-string filters of the stations API."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.api.filters import StrictBooleanFilter, visible
from core.ordering import Ordering
from stations.choices import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ConnectionState,
    ConnectorStatus,
    ConnectorType,
    Plan,
    SiteStatus,
)
from stations.models import (
    SEVERITY_LEVELS,
    ChargingProfile,
    ChargingStation,
    Connector,
    Site,
    StationEvent,
    StationEventKind,
    access_group_model,
)

# `?ordering=` of the stations and sites pages and of the API's lists alike. The count
# annotations are stations.services.with_station_summary's; `connector_count` is the page's.
STATION_ORDERING = Ordering(
    {
        "ocpp_id": "ocpp_id",
        "site": "site__name",
        "connection_state": "connection_state",
        "ocpp_version": "ocpp_version",
        "vendor": "vendor",
        "serial_number": "serial_number",
        "last_seen": "last_seen",
        "created": "created",
    },
    default="ocpp_id",
)
SITE_ORDERING = Ordering(
    {
        "name": "name",
        "city": "city",
        "country": "country",
        "created": "created",
        "station_count": "station_count",
        "connected_station_count": "connected_station_count",
        "connector_count": "connector_count",
        "status": "status",
    },
    default="name",
)


class SiteFilterSet(django_filters.FilterSet):
    """Sites by name, city, country, roaming, access group and status summary."""

    name = django_filters.CharFilter(lookup_expr="icontains")
    city = django_filters.CharFilter(lookup_expr="icontains")
    country = django_filters.CharFilter(lookup_expr="iexact")
    roaming_enabled = StrictBooleanFilter()
    access_group = django_filters.ModelChoiceFilter(
        field_name="access_groups",
        queryset=visible(access_group_model()),
        label="Opened to this group",
    )
    # The annotation of stations.services.with_station_summary, which the view applies.
    status = django_filters.ChoiceFilter(choices=SiteStatus.choices)

    class Meta:
        model = Site
        fields = ["name", "city", "country", "roaming_enabled", "access_group", "status"]


class ChargingStationFilterSet(django_filters.FilterSet):
    """Stations by site, connection state, OCPP identity, plan, connector status, or a search."""

    site = django_filters.ModelChoiceFilter(queryset=visible(Site))
    connection_state = django_filters.ChoiceFilter(choices=ConnectionState.choices)
    ocpp_id = django_filters.CharFilter()
    plan = django_filters.ChoiceFilter(choices=Plan.choices)
    status = django_filters.ChoiceFilter(
        choices=ConnectorStatus.choices,
        method="filter_connector_status",
        label="Has a connector in this status",
    )
    search = django_filters.CharFilter(
        method="filter_search", label="OCPP identity or serial number contains"
    )

    class Meta:
        model = ChargingStation
        fields = ["site", "connection_state", "ocpp_id", "plan", "status", "search"]

    def filter_connector_status(self, queryset, name, value):
        # EXISTS rather than a join: a station with two matching connectors stays one row.
        in_status = Connector.objects.filter(station=OuterRef("pk"), status=value)
        return queryset.filter(Exists(in_status))

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(ocpp_id__icontains=value) | Q(serial_number__icontains=value))


class ConnectorFilterSet(django_filters.FilterSet):
    """Connectors by status, station, site, station OCPP identity and connector type."""

    status = django_filters.ChoiceFilter(choices=ConnectorStatus.choices)
    station = django_filters.ModelChoiceFilter(queryset=visible(ChargingStation))
    site = django_filters.ModelChoiceFilter(field_name="station__site", queryset=visible(Site))
    ocpp_id = django_filters.CharFilter(field_name="station__ocpp_id")
    connector_type = django_filters.ChoiceFilter(choices=ConnectorType.choices)

    class Meta:
        model = Connector
        fields = ["status", "station", "site", "ocpp_id", "connector_type"]


class ChargingProfileFilterSet(django_filters.FilterSet):
    """Charging profiles by name, purpose and kind."""

    name = django_filters.CharFilter(lookup_expr="icontains")
    purpose = django_filters.ChoiceFilter(choices=ChargingProfilePurpose.choices)
    kind = django_filters.ChoiceFilter(choices=ChargingProfileKind.choices)

    class Meta:
        model = ChargingProfile
        fields = ["name", "purpose", "kind"]


class StationEventFilterSet(django_filters.FilterSet):
    """A station's events by kind, severity (this or more severe) and whether they are cleared."""

    kind = django_filters.ChoiceFilter(choices=StationEventKind.choices, empty_label=_("Any"))
    severity = django_filters.ChoiceFilter(
        choices=[
            (level, format_lazy("{} {}", level, name)) for level, name in SEVERITY_LEVELS.items()
        ],
        lookup_expr="lte",
        label=_("Severity at least"),
        empty_label=_("Any"),
    )
    cleared = StrictBooleanFilter(
        label=pgettext_lazy("event back to normal", "Cleared"),
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]),
    )

    class Meta:
        model = StationEvent
        fields = ["kind", "severity", "cleared"]
