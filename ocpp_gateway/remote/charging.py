"""Commands around charging: start, stop, unlock, reserve, cancel reservation, stop billing."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ocpp_gateway import validation
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.commands import send_call
from ocpp_gateway.exceptions import OcppError
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.registry import (
    CommandContext,
    CommandNotAllowed,
    CommandSpec,
    ConnectorField,
    register,
)
from ocpp_gateway.utils import format_ocpp_datetime
from organizations.choices import Role
from organizations.models import IdToken, normalize_uid
from organizations.services import authorize_id_tag
from sessions_app import services as session_services
from sessions_app.choices import ReservationStatus, SessionState
from sessions_app.models import ChargingSession, Reservation
from stations.choices import ConnectorStatus

# Only OCPP 1.6 is spoken today; payloads are built and checked in its terms.
OCPP_VERSION = "ocpp1.6"
STARTABLE = (ConnectorStatus.AVAILABLE, ConnectorStatus.PREPARING)
NOT_RESERVABLE = (ConnectorStatus.FAULTED, ConnectorStatus.UNAVAILABLE)


# --- parameters ------------------------------------------------------------------------------


class UnlockParameters(serializers.Serializer):
    """The connector whose cable is stuck."""

    connector_id = ConnectorField(source="connector")


class CardField(serializers.CharField):
    """The uid of a card of the station's organization, validated to the IdToken."""

    def __init__(self, **kwargs):
        # An OCPP 1.6 idTag is a CiString20.
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # After the string checks (length, blank), which a card object would not pass.
        uid = normalize_uid(super().run_validation(data))
        station = self.context["station"]
        # A card of another organization is answered exactly like one that does not exist.
        card = IdToken.objects.for_org(station.organization_id).filter(uid=uid).first()
        if card is None:
            raise serializers.ValidationError(
                _("No card with uid %(uid)s in this organization.") % {"uid": uid}
            )
        return card


class FutureDateTimeField(serializers.DateTimeField):
    """A moment in the future, given with its UTC offset (a local time would be a guess)."""

    default_error_messages = {
        "naive": _("Give the time with its UTC offset, e.g. 2030-01-01T12:00:00Z."),
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if moment <= timezone.now():
            raise serializers.ValidationError(_("The time must be in the future."))
        return moment


def _check_card_may_charge(card: IdToken, station, connector=None, *, for_start: bool):
    """Raise a field error when the CSMS would refuse the card at this station anyway."""
    authorization = authorize_id_tag(station, card.uid, for_start=for_start, connector=connector)
    if not authorization.accepted:
        raise serializers.ValidationError(
            {
                "id_tag": _("Card %(uid)s may not charge at this station (%(status)s).")
                % {"uid": card.uid, "status": authorization.status}
            }
        )


class StartChargingParameters(serializers.Serializer):
    """Whose card, optionally which connector and a TxProfile charging profile."""

    id_tag = CardField(source="card")
    connector_id = ConnectorField(source="connector", required=False)
    charging_profile = serializers.DictField(required=False)

    def validate(self, attrs):
        station = self.context["station"]
        _check_card_may_charge(attrs["card"], station, attrs.get("connector"), for_start=True)
        profile = attrs.get("charging_profile")
        if profile is not None:
            if profile.get("chargingProfilePurpose") != "TxProfile":
                raise serializers.ValidationError(
                    {"charging_profile": _("A remote start takes a TxProfile only.")}
                )
            if "transactionId" in profile:
                # The transaction does not exist yet (OCPP 1.6, RemoteStartTransaction.req).
                raise serializers.ValidationError(
                    {"charging_profile": _("A remote start's profile has no transactionId.")}
                )
            try:
                validation.validate(
                    OCPP_VERSION, "RemoteStartTransaction", _remote_start_payload(attrs)
                )
            except OcppError as error:
                raise serializers.ValidationError({"charging_profile": error.description}) from None
        return attrs


class RunningSessionParameters(serializers.Serializer):
    """Optionally the connector whose running session is meant."""

    connector_id = ConnectorField(source="connector", required=False)

    def validate(self, attrs):
        if attrs.get("connector") is None:
            running = ChargingSession.objects.active().filter(station=self.context["station"])
            if running.count() > 1:
                raise serializers.ValidationError(
                    {"connector_id": _("Several sessions are running: say which connector.")}
                )
        return attrs


class StopBillingParameters(RunningSessionParameters):
    """Why billing stops (kept with the session), optionally which connector."""

    reason = serializers.CharField(
        max_length=ChargingSession._meta.get_field("billing_stopped_reason").max_length
    )


class ReserveParameters(serializers.Serializer):
    """For whom, until when, optionally which connector (none: any of the station)."""

    id_tag = CardField(source="card")
    expiry = FutureDateTimeField()
    connector_id = ConnectorField(source="connector", required=False)
    parent_id_tag = serializers.CharField(max_length=20, required=False, allow_blank=True)

    def validate(self, attrs):
        # A reservation is for later: a card busy charging elsewhere right now may still hold one.
        _check_card_may_charge(attrs["card"], self.context["station"], for_start=False)
        return attrs


class CancelReservationParameters(serializers.Serializer):
    """Optionally which reservation (none: the station's only active one)."""

    reservation_id = serializers.IntegerField(min_value=1, required=False)

    def validate(self, attrs):
        active = _active_reservations(self.context["station"])
        if "reservation_id" in attrs:
            reservation = active.filter(pk=attrs.pop("reservation_id")).first()
            if reservation is None:
                raise serializers.ValidationError(
                    {"reservation_id": _("The station has no active reservation with this id.")}
                )
            attrs["reservation"] = reservation
        elif active.count() > 1:
            raise serializers.ValidationError(
                {"reservation_id": _("Several reservations are active: say which one.")}
            )
        return attrs


# --- lookups shared by rules and runners -----------------------------------------------------


def _active_reservations(station, connector=None):
    """Reservations the station holds now: accepted by it and not past their expiry."""
    reservations = Reservation.objects.filter(
        station=station, status=ReservationStatus.ACTIVE, expiry__gt=timezone.now()
    )
    if connector is not None:
        reservations = reservations.filter(connector=connector)
    return reservations


def _remote_start_payload(data: dict) -> dict:
    """The RemoteStartTransaction.req for validated start parameters."""
    payload = {"idTag": data["card"].uid}
    if data.get("connector") is not None:
        payload["connectorId"] = data["connector"].connector_id
    if data.get("charging_profile") is not None:
        payload["chargingProfile"] = data["charging_profile"]
    return payload


def _send(ctx: CommandContext, name: str, action: str, payload: dict) -> CommandLog:
    """Send one call through the command service on behalf of the context's user."""
    return send_call(ctx.station, action, payload, command=name, requested_by=ctx.user, via=ctx.via)


def link_session(log: CommandLog, session: ChargingSession) -> CommandLog:
    """Record on the log which session the command acted on, whatever the station answered."""
    # Support reads a session's commands from the session: a stop that timed out matters most.
    log.session = session
    log.save(update_fields=["session"])
    return log


def _running_session_or_refuse(ctx: CommandContext) -> ChargingSession:
    """The session the command is about; it may have ended since the rule allowed the command."""
    session = ctx.active_session()
    if session is None:
        raise CommandNotAllowed(_("No session is running."))
    return session


# --- start charging --------------------------------------------------------------------------


def start_charging_rule(ctx: CommandContext):
    """A connector that can take a vehicle: Available or Preparing, and not charging."""
    if ctx.connector is not None:
        if ctx.connector.status not in STARTABLE:
            return _("Connector %(number)s is %(status)s, not available or preparing.") % {
                "number": ctx.connector.connector_id,
                "status": ctx.connector.get_status_display(),
            }
        if ctx.active_session() is not None:
            return _("A session is already running on connector %(number)s.") % {
                "number": ctx.connector.connector_id
            }
        return None
    free = ctx.station.connectors.filter(status__in=STARTABLE).exclude(
        charging_sessions__state=SessionState.ACTIVE
    )
    if not free.exists():
        return _("No connector is available or preparing.")
    return None


def start_charging(ctx: CommandContext) -> CommandLog:
    """RemoteStartTransaction; the session it leads to is remote and never billed."""
    # sessions_app.services.start_session claims this accepted log row for the station's
    # StartTransaction with the same id tag (and connector), and makes that session free.
    payload = _remote_start_payload({**ctx.params, "connector": ctx.connector})
    return _send(ctx, session_services.REMOTE_START_COMMAND, "RemoteStartTransaction", payload)


# --- stop charging ---------------------------------------------------------------------------


def running_session_rule(ctx: CommandContext):
    """A session must be running (on the connector, when one is chosen)."""
    if ctx.active_session() is None:
        if ctx.connector is not None:
            return _("No session is running on connector %(number)s.") % {
                "number": ctx.connector.connector_id
            }
        return _("No session is running.")
    return None


def stop_charging(ctx: CommandContext) -> CommandLog:
    """RemoteStopTransaction of the running session."""
    session = _running_session_or_refuse(ctx)
    # OCPP 1.6 transaction ids are the integers this platform handed out.
    payload = {"transactionId": int(session.transaction_id)}
    return link_session(_send(ctx, "stop_charging", "RemoteStopTransaction", payload), session)


# --- unlock cable ----------------------------------------------------------------------------


def unlock_cable(ctx: CommandContext) -> CommandLog:
    """UnlockConnector: free a cable stuck in the car or the station."""
    # With or without a session (OCTT TC_017, TC_018): a stuck cable is the reason to call.
    payload = {"connectorId": ctx.connector.connector_id}
    return _send(ctx, "unlock_cable", "UnlockConnector", payload)


# --- reservations ----------------------------------------------------------------------------


def reserve_rule(ctx: CommandContext):
    """A chosen connector must be in service and not already reserved."""
    if ctx.connector is None:
        return None
    if ctx.connector.status in NOT_RESERVABLE:
        return _("Connector %(number)s is %(status)s.") % {
            "number": ctx.connector.connector_id,
            "status": ctx.connector.get_status_display(),
        }
    if _active_reservations(ctx.station, ctx.connector).exists():
        return _("Connector %(number)s is already reserved.") % {
            "number": ctx.connector.connector_id
        }
    return None


def reserve(ctx: CommandContext) -> CommandLog:
    """ReserveNow: hold a connector (or any connector of the station) for one card."""
    card = ctx.params["card"]
    parent_id_tag = ctx.params.get("parent_id_tag")
    if parent_id_tag is None:
        # The card's own group, so a card of the same group may use the reservation (TC_053).
        parent_id_tag = card.parent_id_tag
    expiry = ctx.params["expiry"]
    # OCPP times carry milliseconds: keep the expiry exactly as the station is told it.
    expiry = expiry.replace(microsecond=expiry.microsecond // 1000 * 1000)
    # Created first: its primary key is the reservationId the station is told.
    reservation = Reservation.objects.create(
        station=ctx.station,
        connector=ctx.connector,
        id_token=card,
        id_tag=card.uid,
        parent_id_tag=normalize_uid(parent_id_tag),
        expiry=expiry,
        created_by=ctx.person,
    )
    payload = {
        # 0 reserves any connector of the station (OCPP 1.6, TC_049).
        "connectorId": ctx.connector.connector_id if ctx.connector else 0,
        "expiryDate": format_ocpp_datetime(reservation.expiry),
        "idTag": reservation.id_tag,
        "reservationId": reservation.reservation_id,
    }
    if reservation.parent_id_tag:
        payload["parentIdTag"] = reservation.parent_id_tag
    log = _send(ctx, "reserve", "ReserveNow", payload)
    if log.status == CommandStatus.ACCEPTED:
        reservation.status = ReservationStatus.ACTIVE
    elif log.status != CommandStatus.TIMEOUT:
        # Faulted, Occupied, Unavailable or Rejected stay in the log's response as said.
        reservation.status = ReservationStatus.REJECTED
    # After a timeout the station may hold it or not: it stays pending until its expiry.
    reservation.save(update_fields=["status", "updated"])
    return log


def cancel_reservation_rule(ctx: CommandContext):
    """The station must hold an active reservation (on the connector, when one is chosen)."""
    reservation = ctx.params.get("reservation")
    if reservation is not None or _active_reservations(ctx.station, ctx.connector).exists():
        return None
    return _("The station has no active reservation.")


def cancel_reservation(ctx: CommandContext) -> CommandLog:
    """CancelReservation of the chosen or the only active reservation."""
    reservation = ctx.params.get("reservation") or _active_reservations(ctx.station).first()
    if reservation is None:
        raise CommandNotAllowed(_("The station has no active reservation."))
    log = _send(ctx, "cancel_reservation", "CancelReservation", {"reservationId": reservation.pk})
    if log.status == CommandStatus.ACCEPTED:
        reservation.status = ReservationStatus.CANCELLED
        reservation.save(update_fields=["status", "updated"])
    return log


# --- stop billing ----------------------------------------------------------------------------


def stop_billing_rule(ctx: CommandContext):
    """A running session whose billing is not stopped yet."""
    reason = running_session_rule(ctx)
    if reason:
        return reason
    running = ChargingSession.objects.active().filter(station=ctx.station)
    if ctx.connector is not None:
        running = running.filter(connector=ctx.connector)
    if not running.filter(billing_stopped=False).exists():
        return _("Billing of the running session is already stopped.")
    return None


def stop_billing(ctx: CommandContext) -> CommandLog:
    """Stop billing the running session and log who did it and why; nothing goes to the station."""
    session = _running_session_or_refuse(ctx)
    reason = ctx.params["reason"].strip()
    with transaction.atomic():
        try:
            session = session_services.stop_billing(session, user=ctx.person, reason=reason)
        except session_services.BillingStopRefused as refusal:
            raise CommandNotAllowed(str(refusal)) from None
        return CommandLog.objects.create(
            station=ctx.station,
            command="stop_billing",
            action="",
            payload={"transactionId": session.transaction_id, "reason": reason},
            requested_by=ctx.person,
            api_key=ctx.api_key,
            requested_via=ctx.via,
            status=CommandStatus.ACCEPTED,
            completed=session.billing_stopped_at,
            session=session,
        )


register(
    CommandSpec(
        name=session_services.REMOTE_START_COMMAND,
        label=_("Start charging"),
        run=start_charging,
        params=StartChargingParameters,
        rule=start_charging_rule,
        min_role=Role.OPERATOR,
        description=_(
            "Sends RemoteStartTransaction. The session it starts is never billed: "
            "a last resort when the driver cannot start."
        ),
    )
)
register(
    CommandSpec(
        name="stop_charging",
        label=_("Stop charging"),
        run=stop_charging,
        params=RunningSessionParameters,
        rule=running_session_rule,
        min_role=Role.OPERATOR,
        description=_("Sends RemoteStopTransaction for the running session."),
    )
)
register(
    CommandSpec(
        name="unlock_cable",
        label=_("Unlock cable"),
        run=unlock_cable,
        params=UnlockParameters,
        min_role=Role.OPERATOR,
        description=_("Sends UnlockConnector to free a cable stuck in the car or the station."),
    )
)
register(
    CommandSpec(
        name="reserve",
        label=_("Reserve"),
        run=reserve,
        params=ReserveParameters,
        rule=reserve_rule,
        min_role=Role.OPERATOR,
        description=_("Sends ReserveNow: holds a connector, or any connector, for one card."),
    )
)
register(
    CommandSpec(
        name="cancel_reservation",
        label=_("Cancel reservation"),
        run=cancel_reservation,
        params=CancelReservationParameters,
        rule=cancel_reservation_rule,
        min_role=Role.OPERATOR,
        description=_("Sends CancelReservation for the station's active reservation."),
    )
)
register(
    CommandSpec(
        name="stop_billing",
        label=_("Stop billing"),
        run=stop_billing,
        params=StopBillingParameters,
        rule=stop_billing_rule,
        min_role=Role.OPERATOR,
        # Billing is ours, not the station's: it can stop while the station is offline.
        needs_online=False,
        description=_(
            "Stops billing the running session, so a faulty session is not charged to the "
            "driver. No message goes to the station."
        ),
    )
)
