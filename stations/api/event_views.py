"""Views of what stations report about themselves: /stations/{id}/events/, .../monitors/, ..."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from stations.api.event_serializers import (
    CustomerInformationSerializer,
    StationEventSerializer,
    VariableMonitorSerializer,
)
from stations.filtersets import StationEventFilterSet
from stations.models import ChargingStation, CustomerInformationPart, VariableMonitor
from stations.station_events import events_of

EVENT_PARAMETERS = [
    OpenApiParameter(
        "kind", OpenApiTypes.STR, enum=["notify_event", "security_event"], description="Which kind."
    ),
    OpenApiParameter(
        "severity",
        OpenApiTypes.INT,
        description="Events of this severity or a more severe one (0 danger ... 9 debug).",
    ),
    OpenApiParameter("cleared", OpenApiTypes.BOOL, description="Cleared events, or the others."),
]


class StationEventViewSet(TenantViewSet):
    """The events, monitors and customer information the stations of the user's orgs reported."""

    # Actions under /stations/{id}/ beside the stations' own viewset: no list or detail route.
    queryset = ChargingStation.objects.all()
    required_role = {
        "events": Role.VIEWER,
        "monitors": Role.VIEWER,
        # Personal data a station kept about a customer: for those who may ask for it.
        "customer_information": Role.ADMIN,
    }

    @extend_schema(responses=StationEventSerializer(many=True), parameters=EVENT_PARAMETERS)
    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request, pk=None):
        """The station's events and security events, newest first, a page at a time."""
        station = self.get_object()
        filterset = StationEventFilterSet(request.query_params, queryset=events_of(station))
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(StationEventSerializer(page, many=True).data)

    @extend_schema(responses=VariableMonitorSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def monitors(self, request, pk=None):
        """The monitors the station has, as last set or reported, by id."""
        station = self.get_object()
        monitors = VariableMonitor.objects.filter(station=station).order_by("monitor_id")
        page = self.paginate_queryset(monitors)
        return self.get_paginated_response(VariableMonitorSerializer(page, many=True).data)

    @extend_schema(
        responses=CustomerInformationSerializer,
        parameters=[
            OpenApiParameter(
                "request_id",
                OpenApiTypes.INT,
                required=True,
                description="The requestId of the customer_information command.",
            )
        ],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="customer-information",
        filter_backends=[],
        pagination_class=None,
    )
    def customer_information(self, request, pk=None):
        """What the station reported for one customer information request."""
        station = self.get_object()
        raw = request.query_params.get("request_id", "")
        if not raw.lstrip("-").isdigit() or not -(2**31) <= int(raw) < 2**31:
            raise ValidationError({"request_id": [_("A whole number is required.")]})
        parts = list(
            CustomerInformationPart.objects.filter(station=station, request_id=int(raw))
            .order_by("seq_no")
            .values_list("data", "more_follows")
        )
        body = {
            "request_id": int(raw),
            "parts": len(parts),
            "complete": bool(parts) and not parts[-1][1],
            "data": "".join(data for data, _more in parts),
        }
        return Response(CustomerInformationSerializer(body).data)
