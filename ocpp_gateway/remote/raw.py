"""The raw call: any CSMS-to-station action of the station's OCPP version, for admins."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ocpp_gateway import validation, versions
from ocpp_gateway.commands import send_call
from ocpp_gateway.exceptions import OcppError
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.registry import CommandContext, CommandSpec, register
from organizations.choices import Role

RAW_CALL = "raw_call"


class RawCallParameters(serializers.Serializer):
    """An action the station's version defines for the CSMS to send, and its payload."""

    action = serializers.CharField(max_length=64, label=_("Action"))
    payload = serializers.DictField(default=dict, label=_("Payload"))

    def validate_action(self, action):
        try:
            version = versions.for_station(self.context["station"])
        except versions.UnsupportedVersion as error:
            raise serializers.ValidationError(str(error)) from None
        if action not in validation.known_actions(version.subprotocol):
            raise serializers.ValidationError(
                _("%(action)s is not an action of %(version)s.")
                % {"action": action, "version": version.subprotocol}
            )
        if action in version.handlers:
            raise serializers.ValidationError(
                _("%(action)s is sent by stations to the CSMS, not to stations.")
                % {"action": action}
            )
        return action

    def validate(self, attrs):
        # Checked as the station will read it, so a call it must refuse never leaves.
        subprotocol = versions.for_station(self.context["station"]).subprotocol
        try:
            validation.validate(subprotocol, attrs["action"], attrs["payload"])
        except OcppError as error:
            raise serializers.ValidationError(
                {"payload": [f"{error.code}: {error.description}"]}
            ) from None
        return attrs


def raw_call(ctx: CommandContext) -> CommandLog:
    """Send the action and payload as given; the log keeps both and the station's answer."""
    return send_call(
        ctx.station,
        ctx.params["action"],
        ctx.params["payload"],
        command=RAW_CALL,
        requested_by=ctx.user,
        via=ctx.via,
    )


register(
    CommandSpec(
        name=RAW_CALL,
        label=_("Raw OCPP call"),
        run=raw_call,
        params=RawCallParameters,
        min_role=Role.ADMIN,
        description=_(
            "Send any call of the station's OCPP version as JSON, checked against the official "
            "schema first. For what no other command covers."
        ),
    )
)
