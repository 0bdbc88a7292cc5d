"""Views of the stations API."""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.exceptions import Conflict
from core.api.schema import DETAIL
from organizations.api.viewsets import TenantCreateModelMixin, TenantViewSet
from organizations.choices import Role
from stations import services
from stations.api.serializers import (
    ChargingProfileSerializer,
    ChargingStationSerializer,
    ConnectorSerializer,
    NewConnectorSerializer,
    SiteSerializer,
)
from stations.exceptions import DeletionRefused
from stations.filtersets import (
    SITE_ORDERING,
    STATION_ORDERING,
    ChargingProfileFilterSet,
    ChargingStationFilterSet,
    ConnectorFilterSet,
    SiteFilterSet,
)
from stations.models import ChargingProfile, ChargingStation, Connector, Site

ADMIN_WRITES = {
    "list": Role.VIEWER,
    "retrieve": Role.VIEWER,
    "create": Role.ADMIN,
    "update": Role.ADMIN,
    "partial_update": Role.ADMIN,
    "destroy": Role.ADMIN,
}


def conflict_response(description: str) -> dict:
    """The 204 of a delete and the 409 it answers when the object's state forbids it."""
    return {
        204: OpenApiResponse(description="Deleted."),
        409: OpenApiResponse(response=DETAIL, description=description),
    }


def destroy_or_conflict(delete, obj) -> None:
    """Run a delete service; a refusal is a 409 with its reason."""
    try:
        delete(obj)
    except DeletionRefused as refusal:
        raise Conflict(str(refusal)) from None


@extend_schema_view(
    destroy=extend_schema(responses=conflict_response("The site still has stations.")),
)
class SiteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantCreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Sites of the user's organizations with their station counts and status summary."""

    queryset = Site.objects.prefetch_related("access_groups")
    serializer_class = SiteSerializer
    filterset_class = SiteFilterSet
    # The sites page's keys, but its connector count (an annotation the API does not make).
    sorting = SITE_ORDERING.subset("connector_count")
    ordering_fields = sorting.keys
    ordering = ["name"]
    required_role = ADMIN_WRITES

    def get_queryset(self):
        return services.with_station_summary(super().get_queryset())

    def perform_create(self, serializer):
        super().perform_create(serializer)
        # Read back with the annotations (counts, status) the answer shows.
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        destroy_or_conflict(services.delete_site, instance)


@extend_schema_view(
    destroy=extend_schema(
        responses=conflict_response("The station has charging sessions, or is connected.")
    ),
)
class ChargingStationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantCreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Stations of the user's organizations, their connectors, remote commands and OCPP calls."""

    # The API documentation shows this for the stations' operations, the commands' included:
    # those (/stations/{id}/commands/, .../ocpp-calls/) are the gateway's StationCommandViewSet.

    queryset = ChargingStation.objects.select_related("site").prefetch_related(
        "access_groups", Prefetch("connectors", queryset=Connector.objects.select_related("evse"))
    )
    serializer_class = ChargingStationSerializer
    filterset_class = ChargingStationFilterSet
    sorting = STATION_ORDERING
    ordering_fields = sorting.keys
    ordering = ["ocpp_id"]
    required_role = {**ADMIN_WRITES, "add_connector": Role.ADMIN}

    def perform_destroy(self, instance):
        destroy_or_conflict(services.delete_station, instance)

    @extend_schema(request=NewConnectorSerializer, responses={201: ConnectorSerializer})
    @action(detail=True, methods=["post"], url_path="connectors", url_name="connectors")
    def add_connector(self, request, pk=None):
        """Add a connector by hand (stations also add theirs by reporting its status)."""
        station = self.get_object()
        serializer = NewConnectorSerializer(
            data=request.data, context={**self.get_serializer_context(), "station": station}
        )
        serializer.is_valid(raise_exception=True)
        connector = serializer.save()
        return Response(ConnectorSerializer(connector).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    destroy=extend_schema(responses=conflict_response("The connector has charging sessions.")),
)
class ConnectorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Connectors of the user's organizations' stations, with their live status."""

    queryset = Connector.objects.select_related("station", "evse")
    serializer_class = ConnectorSerializer
    filterset_class = ConnectorFilterSet
    ordering_fields = ["station__ocpp_id", "connector_id", "status", "status_at"]
    ordering = ["station__ocpp_id", "connector_id"]
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
    }

    def perform_destroy(self, instance):
        destroy_or_conflict(services.delete_connector, instance)


class ChargingProfileViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantCreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Smart-charging profiles of the user's organizations, sent with set_charging_profile."""

    # Changing or deleting a profile does not touch the stations it was sent to: they keep it
    # until it is sent again or cleared (clear_charging_profile by purpose or stack level).
    queryset = ChargingProfile.objects.all()
    serializer_class = ChargingProfileSerializer
    filterset_class = ChargingProfileFilterSet
    ordering_fields = ["name", "purpose", "stack_level", "created"]
    ordering = ["name"]
    required_role = ADMIN_WRITES
