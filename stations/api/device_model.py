"""The stations API's device model: GET /stations/{id}/variables/ (set them with a command)."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from stations.device_model import search_variables, station_variables
from stations.models import (
    AttributeType,
    ChargingStation,
    Mutability,
    StationVariable,
    VariableSource,
)


class StationVariableSerializer(serializers.ModelSerializer):
    """One attribute of one variable of a station (a 1.6 configuration key has no component)."""

    evse_id = serializers.SerializerMethodField(help_text="The EVSE of the component, if any.")
    connector_id = serializers.SerializerMethodField(
        help_text="The connector's number on that EVSE, if the component is one connector's."
    )
    # Not `source`: other resources have fields of that name with other choices.
    value_source = serializers.ChoiceField(
        source="source",
        choices=VariableSource.choices,
        read_only=True,
        help_text="The message the value last came from.",
    )

    class Meta:
        model = StationVariable
        fields = [
            "id",
            "component",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable",
            "variable_instance",
            "attribute_type",
            "value",
            "mutability",
            "persistent",
            "constant",
            "data_type",
            "unit",
            "min_limit",
            "max_limit",
            "values_list",
            "supports_monitoring",
            "value_source",
            "reported_at",
            "set_value",
            "set_status",
            "set_status_info",
            "set_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "value": {"help_text": "The last value read or reported; empty when never read."},
            "reported_at": {"help_text": "When `value` was last read, reported or accepted."},
            "set_status": {
                "help_text": "The station's answer to the last value set (Accepted, Rejected, …)."
            },
        }

    def get_evse_id(self, variable) -> int | None:
        return variable.evse_number or None

    def get_connector_id(self, variable) -> int | None:
        return variable.connector_number or None


class StationVariableFilterSet(django_filters.FilterSet):
    """Variables by component, variable, EVSE, attribute type, access, source, or a search."""

    component = django_filters.CharFilter(lookup_expr="iexact")
    variable = django_filters.CharFilter(lookup_expr="iexact")
    evse_id = django_filters.NumberFilter(field_name="evse_number")
    attribute_type = django_filters.ChoiceFilter(choices=AttributeType.choices)
    mutability = django_filters.ChoiceFilter(choices=Mutability.choices)
    value_source = django_filters.ChoiceFilter(field_name="source", choices=VariableSource.choices)
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = StationVariable
        fields = [
            "component",
            "variable",
            "evse_id",
            "attribute_type",
            "mutability",
            "value_source",
            "search",
        ]

    def filter_search(self, queryset, name, value):
        return search_variables(queryset, value)


FILTER_PARAMETERS = [
    OpenApiParameter("component", OpenApiTypes.STR, description="Component name (any case)."),
    OpenApiParameter("variable", OpenApiTypes.STR, description="Variable or 1.6 key (any case)."),
    OpenApiParameter("evse_id", OpenApiTypes.INT, description="Components of this EVSE."),
    OpenApiParameter("attribute_type", OpenApiTypes.STR, enum=AttributeType.values),
    OpenApiParameter("mutability", OpenApiTypes.STR, enum=Mutability.values),
    OpenApiParameter("value_source", OpenApiTypes.STR, enum=VariableSource.values),
    OpenApiParameter(
        "search",
        OpenApiTypes.STR,
        description="Component, variable or either instance contains this text.",
    ),
]


class StationVariableViewSet(TenantViewSet):
    """The device model of the stations of the user's organizations."""

    queryset = ChargingStation.objects.all()
    required_role = {"variables": Role.VIEWER}
    # The station is found unfiltered; the variables' filters are the action's own.
    filter_backends = []

    @extend_schema(
        parameters=FILTER_PARAMETERS,
        responses=StationVariableSerializer(many=True),
        description="What the station reported of its components and variables (OCPP 2.0.1 "
        "NotifyReport, GetVariables, SetVariables) or its OCPP 1.6 configuration keys "
        "(GetConfiguration; no component). Set values with the `set_variables` or "
        "`change_configuration` command.",
    )
    @action(detail=True, methods=["get"])
    def variables(self, request, pk=None):
        """The station's variables, filtered, one page at a time."""
        station = self.get_object()
        filterset = StationVariableFilterSet(
            request.query_params, queryset=station_variables(station)
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(StationVariableSerializer(page, many=True).data)
