"""API of our eMSP role's commands: `POST /roaming-partners/{id}/commands/` (admins).

An admin sends a CPO partner a command for one of our drivers (START_SESSION with one of our
roaming cards, STOP_SESSION, RESERVE_NOW, CANCEL_RESERVATION, UNLOCK_CONNECTOR); the answer is
the stored command with the partner's CommandResponse. The final result arrives later, posted
by the partner to our OCPI endpoint (roaming.ocpi.v221.emsp.commands).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cards.models import IdToken
from core.api.exceptions import Conflict
from core.api.schema import DETAIL
from organizations.api.fields import TenantRelatedField
from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from roaming.choices import CommandType
from roaming.models import RoamingCommand, RoamingPartner, RoamingProfile
from roaming.ocpi.v221.emsp.commands import CommandNotSent, command_request, send_command

# What each command needs, in this API's field names.
NEEDED = {
    CommandType.START_SESSION: ("id_token", "location_id"),
    CommandType.STOP_SESSION: ("session_id",),
    CommandType.RESERVE_NOW: ("id_token", "location_id", "reservation_id", "expiry_date"),
    CommandType.CANCEL_RESERVATION: ("reservation_id",),
    CommandType.UNLOCK_CONNECTOR: ("location_id", "evse_uid", "connector_id"),
}
REQUIRED = _("Required for %(command)s.")


def ocpi_id(help_text: str):
    """An OCPI id of the partner's (CiString(36))."""
    return serializers.CharField(
        max_length=36, required=False, allow_blank=True, default="", help_text=help_text
    )


class SendCommandSerializer(serializers.Serializer):
    """A command for a CPO partner: what it is and the fields it needs."""

    command = serializers.ChoiceField(choices=CommandType.choices)
    location_id = ocpi_id("The partner's location (START_SESSION, RESERVE_NOW, UNLOCK_CONNECTOR).")
    evse_uid = ocpi_id("The EVSE's uid at that location (needed to unlock, or with a connector).")
    connector_id = ocpi_id("The connector of that EVSE.")
    id_token = TenantRelatedField(
        queryset=IdToken.objects.filter(roaming=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="Our card (its id) the session or reservation is for: a card of this "
        "organization flagged for roaming (START_SESSION, RESERVE_NOW).",
        error_messages={
            "does_not_exist": _('No card "{pk_value}" of this organization flagged for roaming.')
        },
    )
    session_id = ocpi_id("The partner's session to stop (STOP_SESSION).")
    reservation_id = ocpi_id("Our reservation id (RESERVE_NOW, CANCEL_RESERVATION).")
    expiry_date = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When the reservation ends (RESERVE_NOW).",
    )

    def validate(self, attrs):
        command = attrs["command"]
        missing = {
            name: REQUIRED % {"command": command}
            for name in NEEDED[command]
            if attrs.get(name) in (None, "")
        }
        if command == CommandType.START_SESSION and attrs["connector_id"] and not attrs["evse_uid"]:
            missing["evse_uid"] = _("Required with a connector_id.")
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class SentCommandSerializer(serializers.ModelSerializer):
    """A command we sent a partner: the OCPI object, the partner's answer, the result."""

    class Meta:
        model = RoamingCommand
        fields = [
            "id",
            "partner",
            "direction",
            "command",
            "request",
            "result",
            "message",
            "response",
            "timeout",
            "created",
            "completed",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "result": {
                "help_text": "PENDING until the partner posts the result; a refusal, or a "
                "partner that could not be reached (FAILED), ends it at once."
            },
            "response": {"help_text": "The partner's CommandResponse."},
            "timeout": {"help_text": "Seconds the partner said the result may take."},
        }


class PartnerCommandViewSet(TenantViewSet):
    """Commands for our drivers sent to a CPO partner (admins)."""

    queryset = RoamingPartner.objects.all()
    required_role = {"commands": Role.ADMIN}
    filter_backends = []
    pagination_class = None

    @extend_schema(
        request=SendCommandSerializer,
        responses={
            200: SentCommandSerializer,
            409: OpenApiResponse(
                response=DETAIL,
                description="The command cannot be sent: the partner is not registered or "
                "takes no commands, or the organization does not play the eMSP role.",
            ),
        },
        description="Send the partner a command for one of our drivers (admin): the OCPI "
        "object is built (a START_SESSION or RESERVE_NOW carries our card as its Token), "
        "stored and POSTed to the partner's commands receiver. The answer is the stored "
        "command: `result` stays PENDING after the partner accepted it, until the partner "
        "posts the result to us; a refusal (REJECTED, NOT_SUPPORTED) or a partner that "
        "could not be reached (FAILED, `message` says why) ends it at once.",
    )
    @action(detail=True, methods=["post"])
    def commands(self, request, pk=None):
        """Send a command to this partner."""
        partner = self.get_object()
        body = SendCommandSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        profile = RoamingProfile.objects.filter(organization_id=partner.organization_id).first()
        if profile is None:
            raise Conflict(_("Set up the organization's roaming profile first."))
        ocpi_request = command_request(
            data["command"],
            profile,
            card=data["id_token"],
            location_id=data["location_id"],
            evse_uid=data["evse_uid"],
            connector_id=data["connector_id"],
            session_id=data["session_id"],
            reservation_id=data["reservation_id"],
            expiry_date=data["expiry_date"],
        )
        try:
            sent = send_command(partner, data["command"], ocpi_request)
        except CommandNotSent as refusal:
            raise Conflict(refusal.message) from None
        return Response(SentCommandSerializer(sent).data)
