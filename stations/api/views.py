"""Views of the stations API."""

from django.db.models import Prefetch
from rest_framework import mixins

from cms.api.viewsets import TenantViewSet
from ocpp_gateway.api.views import StationCommandActions
from organizations.choices import Role
from stations.api.serializers import ChargingStationSerializer
from stations.filtersets import ChargingStationFilterSet
from stations.models import ChargingStation, Connector


class ChargingStationViewSet(
    StationCommandActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Stations of the user's organizations, their remote commands and raw OCPP calls."""

    queryset = ChargingStation.objects.select_related("site").prefetch_related(
        Prefetch("connectors", queryset=Connector.objects.select_related("evse"))
    )
    serializer_class = ChargingStationSerializer
    filterset_class = ChargingStationFilterSet
    ordering_fields = ["ocpp_id", "last_seen"]
    ordering = ["ocpp_id"]
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "commands": Role.VIEWER,
        "run_command": Role.OPERATOR,
        "ocpp_calls": Role.ADMIN,
    }
