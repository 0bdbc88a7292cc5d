"""/stations/{id}/smart-charging/: what a station reported of its profiles, limits, EV needs."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from stations.models import (
    ChargingStation,
    EVChargingNeeds,
    ExternalChargingLimit,
    FirmwarePublication,
    ReportedChargingProfile,
)
from stations.smart_charging import (
    active_limits,
    latest_ev_needs,
    recent_publications,
    reported_profiles,
)


class ReportedChargingProfileSerializer(serializers.ModelSerializer):
    """A profile installed on the station, as its latest GetChargingProfiles answer said."""

    class Meta:
        model = ReportedChargingProfile
        fields = [
            "evse_number",
            "profile_id",
            "purpose",
            "stack_level",
            "kind",
            "source",
            "transaction_id",
            "profile",
            "request_id",
            "reported_at",
        ]


class ExternalChargingLimitSerializer(serializers.ModelSerializer):
    """A limit in force that a system beside the CSMS set (NotifyChargingLimit)."""

    class Meta:
        model = ExternalChargingLimit
        fields = ["evse_number", "source", "grid_critical", "schedules", "reported_at"]


class EVChargingNeedsSerializer(serializers.ModelSerializer):
    """The last needs an EV reported on an EVSE, and the schedule it proposed."""

    class Meta:
        model = EVChargingNeeds
        fields = [
            "evse_number",
            "energy_transfer",
            "energy_amount",
            "departure_time",
            "max_schedule_tuples",
            "needs",
            "reported_at",
            "schedule",
            "schedule_time_base",
            "schedule_status",
            "schedule_reported_at",
        ]


class FirmwarePublicationSerializer(serializers.ModelSerializer):
    """Firmware the station, a local controller, was asked to publish."""

    class Meta:
        model = FirmwarePublication
        fields = [
            "request_id",
            "location",
            "checksum",
            "status",
            "status_at",
            "published_locations",
            "requested_at",
            "unpublished_at",
        ]


class SmartChargingSerializer(serializers.Serializer):
    """Everything a station reported about smart charging, and its firmware publications."""

    charging_profiles = ReportedChargingProfileSerializer(many=True)
    external_limits = ExternalChargingLimitSerializer(many=True)
    ev_charging_needs = EVChargingNeedsSerializer(many=True)
    firmware_publications = FirmwarePublicationSerializer(many=True)


class StationSmartChargingViewSet(TenantViewSet):
    """What the stations of the user's organizations reported of their smart charging."""

    # An action under /stations/{id}/ beside the stations' own viewset: no list or detail route.
    queryset = ChargingStation.objects.all()
    required_role = {"smart_charging": Role.VIEWER}

    @extend_schema(responses=SmartChargingSerializer)
    @action(
        detail=True,
        methods=["get"],
        url_path="smart-charging",
        filter_backends=[],
        pagination_class=None,
    )
    def smart_charging(self, request, pk=None):
        """Installed profiles (latest report), limits in force, EV needs per EVSE, publications."""
        station = self.get_object()
        body = {
            "charging_profiles": reported_profiles(station),
            "external_limits": active_limits(station),
            "ev_charging_needs": latest_ev_needs(station),
            "firmware_publications": recent_publications(station),
        }
        return Response(SmartChargingSerializer(body).data)
