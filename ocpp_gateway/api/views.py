"""Views of the OCPP gateway API: commands and raw calls, and the command log.

Commands sit under their objects' URLs (POST /stations/{id}/commands/, /sessions/{id}/stop/,
/reservations/{id}/cancel/): the command viewsets here serve those actions only, beside the
stations' and sessions' own viewsets, which know nothing of the gateway.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from core.api.exceptions import RETRY_AFTER_SECONDS, Conflict
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
    Actor,
    CommandForbidden,
    CommandNotAllowed,
    InvalidCommandParameters,
    available_commands,
    execute_command,
)
from ocpp_gateway.remote.charging import stop_session_billing
from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from organizations.roles import organization_roles
from sessions_app import selectors
from sessions_app.api.serializers import ChargingSessionDetailSerializer, StopBillingSerializer
from sessions_app.choices import ReservationStatus, SessionState
from sessions_app.models import ChargingSession, Reservation
from sessions_app.services import BillingStopRefused
from stations.models import ChargingStation


def requested_via(request) -> str:
    """How the caller reached us, for the command log: API key or token, or a user's session."""
    if getattr(request.user, "api_key", None) is not None:
        return RequestedVia.API_KEY
    if isinstance(request.successful_authenticator, TokenAuthentication):
        return RequestedVia.API_TOKEN
    return RequestedVia.USER


def actor_of(request, station) -> Actor:
    """The caller as the actor of a command on `station`: their role in its organization."""
    role = organization_roles(request).get(station.organization_id)
    return Actor(user=request.user, role=role, via=requested_via(request))


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


def run_command_for(request, station, name: str, params: dict) -> Response:
    """Run a command the view names for the caller: a refusal is a 409, the answer a 200."""
    try:
        log = execute_command(station, name, params, actor=actor_of(request, station))
    except CommandForbidden as error:
        raise PermissionDenied(error.reason) from None
    except CommandNotAllowed as error:
        raise Conflict(error.reason) from None
    except InvalidCommandParameters as error:
        # The parameters are ours, not the client's: when they no longer validate, the session
        # or reservation changed state since we looked, which is a conflict, not a bad body.
        messages = [str(m) for field in error.errors.values() for m in field]
        raise Conflict(messages[0] if messages else None) from None
    return outcome_response(log)


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
CONFLICT = OpenApiResponse(CommandRefusalSerializer, "Not possible in the current state.")


# The POST actions wait for the station's answer (OCPP_CALL_TIMEOUT, longer when calls queue) in
# a sync view. That is fine under ASGI: Django runs each request's sync code in a thread of the
# request's own thread-sensitive context, so the wait holds that thread, never the event loop or
# other requests, and send_call hands the socket work to the loop through the channel layer.
# They must not run inside a transaction (ATOMIC_REQUESTS): channels' database_sync_to_async,
# which writes the CommandLog, closes such a connection.


class StationCommandViewSet(TenantViewSet):
    """Remote commands and raw OCPP calls of the stations of the user's organizations."""

    queryset = ChargingStation.objects.select_related("site")
    required_role = {
        "commands": Role.VIEWER,
        "run_command": Role.OPERATOR,
        "ocpp_calls": Role.ADMIN,
    }

    @extend_schema(responses=CommandAvailabilitySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def commands(self, request, pk=None):
        """Every command with whether this user may run it on this station now, and why not."""
        station = self.get_object()
        return Response(
            [
                {
                    "command": check.spec.name,
                    "label": str(check.spec.label),
                    "allowed": check.allowed,
                    "reason": check.reason,
                }
                for check in available_commands(station, actor_of(request, station))
            ]
        )

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
        params = {key: value for key, value in request.data.items() if key != "command"}
        try:
            log = execute_command(
                station,
                serializer.validated_data["command"],
                params,
                actor=actor_of(request, station),
            )
        except CommandForbidden as error:
            raise PermissionDenied(error.reason) from None
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


class SessionCommandViewSet(TenantViewSet):
    """Stopping the sessions of the user's organizations: the charging, or their billing."""

    queryset = selectors.with_cost(
        ChargingSession.objects.select_related(
            "station__site", "connector__evse", "id_token", "billing_stopped_by", "reviewed_by"
        )
    )
    required_role = {"stop_billing": Role.OPERATOR, "stop": Role.OPERATOR}

    @extend_schema(
        request=StopBillingSerializer,
        responses={200: ChargingSessionDetailSerializer, 409: CONFLICT},
        description="Stop billing a running or finished session; who and why are kept. A "
        "running session is rated at zero when it ends. A finished session that was already "
        "priced gets a credit charge detail record cancelling its charge, so its `cost` "
        "becomes 0 and the next invoice credits what an earlier one billed.",
    )
    @action(detail=True, methods=["post"], url_path="stop-billing", filter_backends=[])
    def stop_billing(self, request, pk=None):
        """Stop billing a session; a priced one gets a credit CDR cancelling its charge."""
        session = self.get_object()
        body = StopBillingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            stop_session_billing(
                session,
                reason=body.validated_data["reason"],
                user=request.user,
                via=requested_via(request),
            )
        except BillingStopRefused as refusal:
            raise Conflict(str(refusal)) from None
        session = self.get_queryset().get(pk=session.pk)
        return Response(ChargingSessionDetailSerializer(session).data)

    @extend_schema(request=None, responses=CALL_RESPONSES)
    @action(detail=True, methods=["post"], filter_backends=[])
    def stop(self, request, pk=None):
        """Ask the station to end the running session (RemoteStopTransaction)."""
        session = self.get_object()
        if session.state != SessionState.ACTIVE:
            raise Conflict(_("The session is not running."))
        return run_command_for(
            request,
            session.station,
            "stop_charging",
            {"connector_id": session.connector.connector_id},
        )


class ReservationCommandViewSet(TenantViewSet):
    """Cancelling the reservations of the user's organizations at their station."""

    queryset = Reservation.objects.select_related("station", "connector", "id_token", "created_by")
    required_role = {"cancel": Role.OPERATOR}

    @extend_schema(request=None, responses=CALL_RESPONSES)
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request, pk=None):
        """Ask the station to drop the reservation (CancelReservation)."""
        reservation = self.get_object()
        if reservation.status != ReservationStatus.ACTIVE or reservation.expiry <= timezone.now():
            state = (
                reservation.get_status_display()
                if reservation.status != ReservationStatus.ACTIVE
                else _("expired")
            )
            raise Conflict(
                _("Only an active reservation can be cancelled; this one is %(status)s.")
                % {"status": str(state).lower()}
            )
        return run_command_for(
            request, reservation.station, "cancel_reservation", {"reservation_id": reservation.pk}
        )


class CommandLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The command log of the user's organizations' stations."""

    queryset = CommandLog.objects.select_related("station", "requested_by", "api_key")
    serializer_class = CommandLogSerializer
    filterset_class = CommandLogFilterSet
    ordering_fields = ["created"]
    ordering = ["-created"]
    required_role = Role.VIEWER
