"""OCPI 2.2.1 cpo/commands: a partner's START_SESSION, STOP_SESSION, … at our stations.

`POST {commands}/{command}` is checked here and answered at once with a CommandResponse:
ACCEPTED with the time the result may take, or why not (NOT_SUPPORTED, REJECTED with a
message, UNKNOWN_SESSION; an unknown location or EVSE is 2003). An accepted command is stored
(RoamingCommand) and, after the commit, COMMAND_RECEIVED has roaming.commands carry it out on
the station and post the CommandResult to the partner's response_url.

What the partner may reach: a location is one of our sites with roaming switched on (id: the
site's key); an EVSE is one of its stations' EVSEs as mapping.evse_uid names them, a connector
as mapping.connector_ocpi_id does. Without evse_uid, a location of one charging station means
that station; at a location of several the EVSE must be given. STOP_SESSION reaches only a
session of the partner's own customer; CANCEL_RESERVATION only the partner's own reservation.
The token of a START_SESSION or RESERVE_NOW is stored like a pushed one (it must be the
partner's own): the station's start with it is then the partner's customer's.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import re_path
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.events import emit
from roaming.choices import CommandType, Module
from roaming.models import RoamingCommand
from roaming.ocpi.events import COMMAND_RECEIVED
from roaming.ocpi.server import Answer, OcpiView
from roaming.ocpi.status import INVALID_PARAMETERS, UNKNOWN_LOCATION, OcpiError, invalid
from roaming.ocpi.v221 import mapping, schemas
from roaming.ocpi.v221.cpo.tokens import save_token
from sessions_app.choices import ReservationStatus, SessionState
from sessions_app.models import ChargingSession, Reservation
from stations.models import ChargingStation, Connector, Site

# The OCPI object each command carries.
OBJECTS = {
    CommandType.START_SESSION: "StartSession",
    CommandType.STOP_SESSION: "StopSession",
    CommandType.RESERVE_NOW: "ReserveNow",
    CommandType.CANCEL_RESERVATION: "CancelReservation",
    CommandType.UNLOCK_CONNECTOR: "UnlockConnector",
}
# CommandResponseType
ACCEPTED = "ACCEPTED"
REJECTED = "REJECTED"
NOT_SUPPORTED = "NOT_SUPPORTED"
UNKNOWN_SESSION = "UNKNOWN_SESSION"
# Beyond the station's own wait (an OCPP call waits at most twice OCPP_CALL_TIMEOUT behind
# the calls queued before it): time for the task to be picked up and the result to be posted.
QUEUE_MARGIN_SECONDS = 60


def command_timeout() -> int:
    """Seconds within which the partner gets the CommandResult of an accepted command."""
    return int(settings.OCPP_CALL_TIMEOUT * 2) + QUEUE_MARGIN_SECONDS


def command_response(result: str, message: str = "") -> dict:
    """An OCPI CommandResponse."""
    response = {"result": result, "timeout": command_timeout()}
    if message:
        response["message"] = [{"language": "en", "text": message}]
    return response


class Refused(Exception):
    """The command cannot be carried out; answered synchronously with this result."""

    def __init__(self, result: str, message: str):
        super().__init__(message)
        self.result = result
        self.message = message


@dataclass
class Target:
    """Where a command goes: the station, the connector if one is meant."""

    station: ChargingStation
    connector: Connector | None = None


def _unknown_location(message: str) -> OcpiError:
    # The spec's own example answers 2003 with a REJECTED CommandResponse.
    return OcpiError(
        UNKNOWN_LOCATION, message, http_status=404, data=command_response(REJECTED, message)
    )


class CommandView(OcpiView):
    """POST: a command of the partner for one of our roaming locations."""

    module = Module.COMMANDS
    http_method_names = ["post"]

    def post(self, request, command):
        if command not in OBJECTS:
            raise OcpiError(
                INVALID_PARAMETERS,
                f"Unknown command {command!r}.",
                data=command_response(NOT_SUPPORTED, f"Unknown command {command!r}."),
            )
        body = schemas.check(OBJECTS[command], self.body)
        if not isinstance(body, dict) or not isinstance(body.get("response_url"), str):
            raise invalid(f"{OBJECTS[command]} needs a response_url.")
        if self.profile is None or not self.profile.cpo_enabled:
            return command_response(NOT_SUPPORTED, "We do not operate charge points here.")
        try:
            with transaction.atomic():
                target = getattr(self, f"_{command.lower()}")(body)
                stored = RoamingCommand.objects.create(
                    organization=self.organization,
                    partner=self.partner,
                    command=command,
                    request=body,
                    response_url=body["response_url"],
                    station=target.station,
                    connector=target.connector,
                )
                emit(
                    COMMAND_RECEIVED,
                    organization_id=self.organization.pk,
                    command_id=stored.pk,
                )
        except Refused as refusal:
            return command_response(refusal.result, refusal.message)
        return Answer(command_response(ACCEPTED))

    # --- one resolver per command: the target, or Refused / OcpiError -----------------------

    def _start_session(self, body: dict) -> Target:
        self._keep_token(body)
        return self._reachable(self._target(body, evse_needed=False))

    def _reserve_now(self, body: dict) -> Target:
        expiry = parse_datetime(str(body.get("expiry_date", "")))
        if expiry is None or not body.get("reservation_id"):
            raise invalid("ReserveNow needs expiry_date and reservation_id.")
        if timezone.is_naive(expiry):
            expiry = timezone.make_aware(expiry, timezone.get_fixed_timezone(0))
        if expiry <= timezone.now():
            raise Refused(REJECTED, "The reservation would have expired already.")
        self._keep_token(body)
        return self._reachable(self._target(body, evse_needed=False))

    def _unlock_connector(self, body: dict) -> Target:
        target = self._target(body, evse_needed=True)
        if target.connector is None:
            raise _unknown_location("Unknown connector.")
        return self._reachable(target)

    def _stop_session(self, body: dict) -> Target:
        session_id = str(body.get("session_id", ""))
        # Only the partner's own customer's sessions exist for it: another partner's session,
        # or one of another organization, is unknown alike.
        session = (
            ChargingSession.objects.filter(
                organization=self.organization, roaming_partner=self.partner
            )
            .filter(pk=int(session_id) if session_id.isdigit() else None)
            .select_related("station", "connector")
            .first()
        )
        if session is None:
            raise Refused(UNKNOWN_SESSION, "Unknown session.")
        if session.state != SessionState.ACTIVE:
            raise Refused(REJECTED, "The session has ended already.")
        return self._reachable(Target(session.station, session.connector))

    def _cancel_reservation(self, body: dict) -> Target:
        reservation = (
            Reservation.objects.filter(
                station__organization=self.organization,
                roaming_partner=self.partner,
                roaming_reservation_id=str(body.get("reservation_id", "")),
                status__in=(ReservationStatus.PENDING, ReservationStatus.ACTIVE),
            )
            .select_related("station", "connector")
            .order_by("-created", "-pk")
            .first()
        )
        if reservation is None:
            raise Refused(REJECTED, "Unknown reservation.")
        return self._reachable(Target(reservation.station, reservation.connector))

    # --- lookups ---------------------------------------------------------------------------

    def _keep_token(self, body: dict) -> None:
        """Store the command's token; it must be one of the partner's own (OCPI)."""
        token = body.get("token")
        if not isinstance(token, dict):
            raise invalid("The command needs a token.")
        party = (str(token.get("country_code", "")).upper(), str(token.get("party_id", "")).upper())
        if party not in self.partner.parties():
            raise Refused(REJECTED, "The token is not one of yours.")
        save_token(self.partner, token, country_code=party[0], party_id=party[1])

    def _site(self, location_id: str) -> Site:
        site = (
            Site.objects.filter(organization=self.organization, roaming_enabled=True)
            .filter(pk=int(location_id) if location_id.isdigit() else None)
            .first()
        )
        if site is None:
            raise _unknown_location("Unknown location.")
        return site

    def _stations(self, site: Site):
        return ChargingStation.objects.filter(organization=self.organization, site=site)

    def _target(self, body: dict, *, evse_needed: bool) -> Target:
        """The station (and connector) of location_id / evse_uid / connector_id."""
        site = self._site(str(body.get("location_id", "")))
        evse_uid = str(body.get("evse_uid") or "")
        if not evse_uid:
            if evse_needed:
                raise invalid("evse_uid is required.")
            stations = list(self._stations(site)[:2])
            if len(stations) != 1:
                raise Refused(REJECTED, "Say which EVSE: this location has several.")
            return Target(stations[0])
        connectors = list(self._evse_connectors(site, evse_uid))
        if not connectors:
            raise _unknown_location("Unknown EVSE.")
        connector_id = body.get("connector_id")
        if connector_id is not None:
            chosen = [c for c in connectors if mapping.connector_ocpi_id(c) == str(connector_id)]
            if not chosen:
                raise _unknown_location("Unknown connector.")
            return Target(chosen[0].station, chosen[0])
        # An EVSE of one connector is that connector; of several, the station picks.
        return Target(connectors[0].station, connectors[0] if len(connectors) == 1 else None)

    def _evse_connectors(self, site: Site, evse_uid: str):
        """The connectors of one EVSE of the site, named as mapping.evse_uid names them."""
        connectors = Connector.objects.filter(
            station__site=site, station__organization=self.organization
        ).select_related("station", "evse")
        if evse_uid.startswith("C") and evse_uid[1:].isdigit():
            connectors = connectors.filter(pk=int(evse_uid[1:]), evse__isnull=True)
        elif evse_uid.isdigit():
            connectors = connectors.filter(evse_id=int(evse_uid))
        else:
            return Connector.objects.none()
        return connectors.order_by("connector_id")

    @staticmethod
    def _reachable(target: Target) -> Target:
        if not target.station.is_online:
            raise Refused(REJECTED, "The charge point is offline.")
        return target


urlpatterns = [
    re_path(r"^(?P<command>[^/]+)/?$", CommandView.as_view(), name="cpo-command"),
]
