"""Views of the baselines API: baselines (admins write), their drift per station, runs.

Applying a baseline sends commands: that action lives in the gateway's API
(ocpp_gateway/api/baselines.py), on the same /configuration-baselines/{id}/ path.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action

from baselines import services
from baselines.api.serializers import (
    BaselineRunSerializer,
    ConfigurationBaselineSerializer,
    StationDriftSerializer,
)
from baselines.filtersets import BaselineRunFilterSet, ConfigurationBaselineFilterSet
from baselines.models import BaselineRun, ConfigurationBaseline, StationDrift
from organizations.api.viewsets import TenantCreateModelMixin, TenantViewSet
from organizations.choices import Role

READ = {"list": Role.VIEWER, "retrieve": Role.VIEWER, "drift": Role.VIEWER}
ADMIN_WRITES = {
    **READ,
    "create": Role.ADMIN,
    "update": Role.ADMIN,
    "partial_update": Role.ADMIN,
    "destroy": Role.ADMIN,
}


def _person(user):
    """The user to name as author: nobody for a machine client (an organization API key)."""
    return None if getattr(user, "api_key", None) is not None else user


class ConfigurationBaselineViewSet(
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Configuration baselines: desired 1.6 keys and 2.0.1 variables per vendor and model."""

    queryset = services.with_drift_counts(ConfigurationBaseline.objects.all()).prefetch_related(
        "settings"
    )
    serializer_class = ConfigurationBaselineSerializer
    filterset_class = ConfigurationBaselineFilterSet
    ordering_fields = ["name", "vendor", "model", "created", "updated"]
    required_role = ADMIN_WRITES

    def perform_create(self, serializer):
        serializer.save(organization=self.get_organization(), user=_person(self.request.user))
        self._with_drift_count(serializer)

    def perform_update(self, serializer):
        serializer.save(user=_person(self.request.user))
        self._with_drift_count(serializer)

    def _with_drift_count(self, serializer):
        # Read again for the answer: `drifting` is an annotation, which a saved instance lacks
        # (new) or has from before its settings changed (updated).
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.delete_baseline(instance)

    @extend_schema(responses=StationDriftSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def drift(self, request, pk=None):
        """The stations the baseline matches, each setting beside the station's reported value."""
        baseline = self.get_object()
        stations = services.matching_stations(baseline).order_by("ocpp_id", "pk")
        page = self.paginate_queryset(stations)
        since = dict(
            StationDrift.objects.filter(
                baseline=baseline, station__in=[s.pk for s in page]
            ).values_list("station_id", "detected_at")
        )
        compared = services.drift_of_stations(baseline, page)
        rows = [
            {
                "station": station,
                "drifting": station.pk in since,
                "drifting_since": since.get(station.pk),
                "settings": items,
            }
            for station, items in compared
        ]
        return self.get_paginated_response(StationDriftSerializer(rows, many=True).data)


class BaselineRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Applications of baselines to stations, newest first, with the answer per setting."""

    queryset = BaselineRun.objects.select_related("station").prefetch_related("results")
    serializer_class = BaselineRunSerializer
    filterset_class = BaselineRunFilterSet
    ordering_fields = ["created", "finished"]
    required_role = Role.VIEWER
