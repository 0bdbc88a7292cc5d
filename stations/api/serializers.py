"""Serializers of the stations API."""

from rest_framework import serializers

from stations.models import ChargingStation, Connector


class ConnectorSerializer(serializers.ModelSerializer):
    """A connector as listed inside its station."""

    evse_id = serializers.CharField(source="evse_identity", read_only=True)

    class Meta:
        model = Connector
        fields = [
            "connector_id",
            "evse_id",
            "connector_type",
            "max_power_kw",
            "status",
            "error_code",
            "status_at",
        ]
        read_only_fields = fields


class ChargingStationSerializer(serializers.ModelSerializer):
    """A station with its connectors (read-only for now)."""

    site_name = serializers.CharField(source="site.name", read_only=True, default=None)
    connectors = ConnectorSerializer(many=True, read_only=True)

    class Meta:
        model = ChargingStation
        fields = [
            "id",
            "ocpp_id",
            "site",
            "site_name",
            "organization",
            "serial_number",
            "vendor",
            "model",
            "firmware_version",
            "ocpp_version",
            "connection_state",
            "last_seen",
            "registration_status",
            "status",
            "plan",
            "firmware_status",
            "firmware_status_at",
            "diagnostics_status",
            "diagnostics_status_at",
            "connectors",
        ]
        read_only_fields = fields
