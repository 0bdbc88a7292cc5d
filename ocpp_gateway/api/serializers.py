"""Serializers of the OCPP gateway API."""

from rest_framework import serializers

from ocpp_gateway import validation
from ocpp_gateway.exceptions import OcppError
from ocpp_gateway.models import CommandLog
from ocpp_gateway.versions import handlers_for
from stations.choices import OcppVersion


class CommandLogSerializer(serializers.ModelSerializer):
    """One command sent to a station, who asked for it and what the station answered."""

    ocpp_id = serializers.CharField(source="station.ocpp_id", read_only=True)
    requested_by = serializers.CharField(
        source="requested_by.username", read_only=True, default=None, allow_null=True
    )
    api_key = serializers.CharField(
        source="api_key.prefix",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Prefix of the organization API key that asked, if a machine client did.",
    )

    class Meta:
        model = CommandLog
        fields = [
            "id",
            "station",
            "ocpp_id",
            "command",
            "action",
            "payload",
            "requested_by",
            "api_key",
            "requested_via",
            "status",
            "response",
            "error_code",
            "error_description",
            "created",
            "completed",
        ]
        read_only_fields = fields


class CommandOutcomeSerializer(serializers.ModelSerializer):
    """What a command or OCPP call came back with."""

    class Meta:
        model = CommandLog
        fields = ["id", "command", "status", "response", "error_code", "error_description"]
        read_only_fields = fields


class CommandRequestSerializer(serializers.Serializer):
    """`{"command": name, ...parameters}`: only the name is checked here, the rest by the spec."""

    command = serializers.CharField(
        help_text="A command name from GET .../commands/; its parameters sit beside it."
    )


class CommandAvailabilitySerializer(serializers.Serializer):
    """One command, and whether this caller may run it on this station now."""

    command = serializers.CharField()
    label = serializers.CharField()
    allowed = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True, help_text="Why not, when not allowed.")


class CommandRefusalSerializer(serializers.Serializer):
    """Why a command did not run; with its log entry when it reached the command service."""

    detail = serializers.CharField()
    id = serializers.IntegerField(required=False)
    command = serializers.CharField(required=False)
    status = serializers.CharField(required=False)
    response = serializers.JSONField(required=False, allow_null=True)
    error_code = serializers.CharField(required=False)
    error_description = serializers.CharField(required=False)


def station_version(station) -> str:
    """The OCPP version to validate against: a station that never connected is taken as 1.6."""
    return station.ocpp_version or OcppVersion.V16


class OcppCallSerializer(serializers.Serializer):
    """A raw CSMS-to-station call, checked against the schema of the station's OCPP version."""

    action = serializers.CharField()
    payload = serializers.DictField(default=dict)

    def validate_action(self, action):
        version = station_version(self.context["station"])
        if action not in validation.known_actions(version):
            raise serializers.ValidationError(f"{action} is not an action of {version}.")
        try:
            sent_by_stations = handlers_for(version)
        except ValueError:
            raise serializers.ValidationError(
                f"The gateway does not send calls over {version} yet."
            ) from None
        if action in sent_by_stations:
            raise serializers.ValidationError(
                f"{action} is sent by stations to the CSMS, not to stations."
            )
        return action

    def validate(self, attrs):
        version = station_version(self.context["station"])
        try:
            validation.validate(version, attrs["action"], attrs["payload"])
        except OcppError as error:
            raise serializers.ValidationError(
                {"payload": [f"{error.code}: {error.description}"]}
            ) from None
        return attrs
