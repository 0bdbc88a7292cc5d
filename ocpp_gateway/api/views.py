"""Views of the OCPP gateway API: a station's commands and raw calls, and the command log."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from cms.api.exceptions import RETRY_AFTER_SECONDS, Conflict
from cms.api.permissions import organization_roles, required_role_message, role_at_least
from cms.api.viewsets import TenantViewSet
from ocpp_gateway.api.serializers import (
    CommandAvailabilitySerializer,
    CommandLogSerializer,
    CommandOutcomeSerializer,
    CommandRefusalSerializer,
    CommandRequestSerializer,
    OcppCallSerializer,
)
from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.commands import DELIVERY_FAILED, send_call
from ocpp_gateway.filtersets import CommandLogFilterSet
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import (
    CommandNotAllowed,
    InvalidCommandParameters,
    available_commands,
    execute_command,
    get_command,
)
from organizations.choices import Role


def requested_via(request) -> str:
    """How the caller reached us, for the command log: API key or token, or a user's session."""
    if getattr(request.user, "api_key", None) is not None:
        return RequestedVia.API_KEY
    if isinstance(request.successful_authenticator, TokenAuthentication):
        return RequestedVia.API_TOKEN
    return RequestedVia.USER


def outcome_response(log: CommandLog) -> Response:
    """A finished call's answer: 200 as the station said, 409 offline, 504 silent, 503 lost."""
    body = CommandOutcomeSerializer(log).data
    if log.status == CommandStatus.OFFLINE:
        return Response(
            {"detail": log.error_description or "The station is offline.", **body},
            status=status.HTTP_409_CONFLICT,
        )
    if log.status == CommandStatus.TIMEOUT:
        return Response(
            {"detail": log.error_description or "The station did not answer in time.", **body},
            status=status.HTTP_504_GATEWAY_TIMEOUT,
        )
    if log.error_code == DELIVERY_FAILED:
        # Our message bus failed, not the station: the client may try again later.
        return Response(
            {"detail": log.error_description, **body},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return Response(body)


CALL_RESPONSES = {
    200: OpenApiResponse(CommandOutcomeSerializer, "The station answered (accepted or not)."),
    409: OpenApiResponse(
        CommandRefusalSerializer,
        "The station is offline, or the command is not possible in its current state "
        "(then only `detail`).",
    ),
    503: OpenApiResponse(
        CommandRefusalSerializer, "The command could not be delivered (message bus down)."
    ),
    504: OpenApiResponse(CommandRefusalSerializer, "The station did not answer in time."),
}


class StationCommandActions:
    """Remote commands and raw OCPP calls, as actions of the station viewset."""

    # The POST actions wait for the station's answer (OCPP_CALL_TIMEOUT, longer when calls
    # queue) in a sync view. That is fine under ASGI: Django runs each request's sync code in
    # a thread of the request's own thread-sensitive context, so the wait holds that thread,
    # never the event loop or other requests, and send_call hands the socket work to the loop
    # through the channel layer. They must not run inside a transaction (ATOMIC_REQUESTS):
    # channels' database_sync_to_async, which writes the CommandLog, closes such a connection.

    @extend_schema(responses=CommandAvailabilitySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def commands(self, request, pk=None):
        """Every command with whether this user may run it on this station now, and why not."""
        station = self.get_object()
        role = organization_roles(request).get(station.organization_id)
        listed = []
        for spec, reason in available_commands(station, user=request.user):
            # A role shortfall comes first: going online would not lift it.
            if not role_at_least(role, spec.min_role):
                reason = required_role_message(spec.min_role)
            listed.append(
                {
                    "command": spec.name,
                    "label": str(spec.label),
                    "allowed": reason is None,
                    "reason": reason,
                }
            )
        return Response(listed)

    @extend_schema(
        request=inline_serializer(
            "CommandRequest",
            {"command": serializers.CharField()},
        ),
        responses=CALL_RESPONSES,
        description="Run a remote command. Parameters of the command sit beside `command`, "
        'e.g. `{"command": "unlock_cable", "connector_id": 1}`.',
    )
    @commands.mapping.post
    def run_command(self, request, pk=None):
        """Run a remote command: `{"command": name, ...parameters}`."""
        station = self.get_object()
        serializer = CommandRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        name = serializer.validated_data["command"]
        spec = get_command(name)
        if spec is None:
            raise ValidationError({"command": [f"Unknown command {name!r}."]})
        role = organization_roles(request).get(station.organization_id)
        if not role_at_least(role, spec.min_role):
            raise PermissionDenied(required_role_message(spec.min_role))
        params = {key: value for key, value in request.data.items() if key != "command"}
        try:
            log = execute_command(
                station, name, params, user=request.user, via=requested_via(request)
            )
        except InvalidCommandParameters as error:
            raise ValidationError(error.errors) from None
        except CommandNotAllowed as error:
            raise Conflict(error.reason) from None
        return outcome_response(log)

    @extend_schema(request=OcppCallSerializer, responses=CALL_RESPONSES)
    @action(detail=True, methods=["post"], url_path="ocpp-calls", filter_backends=[])
    def ocpp_calls(self, request, pk=None):
        """Send any CSMS-to-station OCPP call: `{"action": ..., "payload": {...}}`."""
        station = self.get_object()
        serializer = OcppCallSerializer(data=request.data, context={"station": station})
        serializer.is_valid(raise_exception=True)
        log = send_call(
            station,
            serializer.validated_data["action"],
            serializer.validated_data["payload"],
            command="ocpp_call",
            requested_by=request.user,
            via=requested_via(request),
        )
        return outcome_response(log)


class CommandLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The command log of the user's organizations' stations."""

    queryset = CommandLog.objects.select_related("station", "requested_by", "api_key")
    serializer_class = CommandLogSerializer
    filterset_class = CommandLogFilterSet
    ordering_fields = ["created"]
    ordering = ["-created"]
    required_role = Role.VIEWER
