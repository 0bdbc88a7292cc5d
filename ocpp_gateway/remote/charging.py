"""Commands around charging: start, stop, unlock, reserve, cancel reservation, stop billing."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cards.models import IdToken, normalize_uid
from ocpp_gateway import intents, validation, versions
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.commands import send_call
from ocpp_gateway.exceptions import OcppError
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.registry import (
    CommandContext,
    CommandNotAllowed,
    CommandSpec,
    ConnectorField,
    only_in_201,
    register,
    speaks_16,
)
from organizations.choices import Role
from sessions_app import services as session_services
from sessions_app.authorization import authorize
from sessions_app.choices import RemoteStartStatus
from sessions_app.models import ChargingSession
from sessions_app.selectors import active_reservations
from stations.choices import ConnectorStatus, ConnectorType

# The remote start's name: the session it leads to is remote and never billed.
START_CHARGING = "start_charging"
# Occupied is 2.0.1's word for a plugged-in connector (1.6 says Preparing); a connector busy
# charging is caught by its running session.
STARTABLE = (ConnectorStatus.AVAILABLE, ConnectorStatus.PREPARING, ConnectorStatus.OCCUPIED)
# An OCPP 1.6 idTag is a CiString20; a 2.0.1 idToken an identifierString of 36.
ID_TAG_MAX_LENGTH = {True: 20, False: 36}
# The plug types a 2.0.1 reservation can ask for (ConnectorEnumType has no "other").
RESERVABLE_TYPES = [(value, label) for value, label in ConnectorType.choices if value != "OTHER"]
NOT_RESERVABLE = (ConnectorStatus.FAULTED, ConnectorStatus.UNAVAILABLE)


# --- parameters ------------------------------------------------------------------------------


class UnlockParameters(serializers.Serializer):
    """The connector whose cable is stuck."""

    connector_id = ConnectorField(source="connector")


def check_id_length(station, value: str) -> str:
    """Refuse an id token longer than the station's OCPP version carries."""
    longest = ID_TAG_MAX_LENGTH[speaks_16(station)]
    if value and len(value) > longest:
        raise serializers.ValidationError(
            _("Ensure this field has no more than %(n)d characters.") % {"n": longest}
        )
    return value


class CardField(serializers.CharField):
    """The uid of a card of the station's organization, validated to the IdToken."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", max(ID_TAG_MAX_LENGTH.values()))
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # After the string checks (length, blank), which a card object would not pass.
        station = self.context["station"]
        uid = normalize_uid(check_id_length(station, super().run_validation(data)))
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
    authorization = authorize(station, card.uid, for_start=for_start, connector=connector)
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
                # Checked as the station's version will carry it.
                version = versions.for_station(station)
                validation.validate(
                    version.subprotocol, *version.calls.build(_start_intent(attrs), station)
                )
            except versions.UnsupportedVersion as error:
                raise serializers.ValidationError({"charging_profile": str(error)}) from None
            except intents.NotInVersion:
                # The command's own check says which versions start remotely.
                pass
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
    parent_id_tag = serializers.CharField(
        max_length=max(ID_TAG_MAX_LENGTH.values()), required=False, allow_blank=True
    )
    connector_type = serializers.ChoiceField(
        choices=RESERVABLE_TYPES, required=False, label=_("Connector type")
    )

    def validate_parent_id_tag(self, value):
        return check_id_length(self.context["station"], value)

    def validate_connector_type(self, value):
        only_in_201(self.context["station"], _("Reserving by connector type"))
        return value

    def validate(self, attrs):
        # A reservation is for later: a card busy charging elsewhere right now may still hold one.
        _check_card_may_charge(attrs["card"], self.context["station"], for_start=False)
        return attrs


class CancelReservationParameters(serializers.Serializer):
    """Optionally which reservation (none: the station's only active one)."""

    reservation_id = serializers.IntegerField(min_value=1, required=False)

    def validate(self, attrs):
        active = active_reservations(self.context["station"])
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


def _start_intent(data: dict, remote_start_id: int | None = None) -> intents.StartCharging:
    """The start-charging intent of validated start parameters."""
    connector = data.get("connector")
    return intents.StartCharging(
        id_tag=data["card"].uid,
        connector=connector.connector_id if connector is not None else None,
        profile=data.get("charging_profile"),
        remote_start_id=remote_start_id,
    )


def version_of(ctx: CommandContext) -> versions.Version:
    """The OCPP version the station speaks; a version the gateway does not is refused."""
    try:
        return versions.for_station(ctx.station)
    except versions.UnsupportedVersion as error:
        raise CommandNotAllowed(str(error)) from None


def send(ctx: CommandContext, name: str, intent) -> CommandLog:
    """Send an intent as the station's version spells it, on behalf of the context's user."""
    try:
        action, payload = version_of(ctx).calls.build(intent, ctx.station)
    except intents.NotInVersion as missing:
        raise CommandNotAllowed(str(missing)) from None
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
        running = ctx.active_session()
        # A 2.0.1 transaction that began with the cable plugged in has no card yet: a remote
        # start is how it gets one (OCTT TC_F_01).
        if running is not None and running.id_tag:
            return _("A session is already running on connector %(number)s.") % {
                "number": ctx.connector.connector_id
            }
        return None
    free = ctx.station.connectors.filter(status__in=STARTABLE).exclude(
        charging_sessions__in=ChargingSession.objects.active().exclude(id_tag="")
    )
    if not free.exists():
        return _("No connector is available or preparing.")
    return None


# What became of a remote start, from what became of its command.
_REMOTE_START_STATUS = {
    CommandStatus.ACCEPTED: RemoteStartStatus.ACCEPTED,
    CommandStatus.REJECTED: RemoteStartStatus.REJECTED,
}


def start_charging(ctx: CommandContext) -> CommandLog:
    """Start charging remotely; the session it leads to is remote and never billed."""
    version_of(ctx)  # a version the gateway does not speak is refused before anything is kept
    # Recorded before it is sent: sessions_app.services.start_session claims it for the
    # station's start with the same card (and connector), and makes that session free.
    remote_start = session_services.request_remote_start(
        ctx.station, id_tag=ctx.params["card"].uid, connector=ctx.connector, requested_by=ctx.person
    )
    intent = _start_intent({**ctx.params, "connector": ctx.connector}, remote_start.pk)
    try:
        log = send(ctx, START_CHARGING, intent)
    except Exception:
        # Never sent (the database went away mid-call): it must not make a driver's next start
        # with that card remote and free.
        session_services.record_remote_start_answer(remote_start, RemoteStartStatus.FAILED)
        raise
    session_services.record_remote_start_answer(
        remote_start, _REMOTE_START_STATUS.get(log.status, RemoteStartStatus.FAILED)
    )
    return log


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
    intent = intents.StopCharging(session.transaction_id)
    return link_session(send(ctx, "stop_charging", intent), session)


# --- unlock cable ----------------------------------------------------------------------------


def unlock_cable(ctx: CommandContext) -> CommandLog:
    """UnlockConnector: free a cable stuck in the car or the station."""
    # With or without a session (OCTT TC_017, TC_018): a stuck cable is the reason to call.
    return send(ctx, "unlock_cable", intents.UnlockConnector(ctx.connector.connector_id))


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
    if active_reservations(ctx.station, ctx.connector).exists():
        return _("Connector %(number)s is already reserved.") % {
            "number": ctx.connector.connector_id
        }
    return None


def reserve(ctx: CommandContext) -> CommandLog:
    """ReserveNow: hold a connector (or any connector of the station) for one card."""
    expiry = ctx.params["expiry"]
    # OCPP times carry milliseconds: keep the expiry exactly as the station is told it.
    expiry = expiry.replace(microsecond=expiry.microsecond // 1000 * 1000)
    # Created first: its primary key is the reservationId the station is told.
    reservation = session_services.create_reservation(
        ctx.station,
        card=ctx.params["card"],
        expiry=expiry,
        connector=ctx.connector,
        parent_id_tag=ctx.params.get("parent_id_tag"),
        created_by=ctx.person,
    )
    intent = intents.Reserve(
        reservation_id=reservation.reservation_id,
        id_tag=reservation.id_tag,
        expires_at=reservation.expiry,
        # None reserves any connector of the station (TC_049).
        connector=ctx.connector.connector_id if ctx.connector else None,
        parent_id_tag=reservation.parent_id_tag,
        connector_type=ctx.params.get("connector_type"),
    )
    log = send(ctx, "reserve", intent)
    # Faulted, Occupied, Unavailable or Rejected stay in the log's response as said. After a
    # timeout the station may hold it or not: it stays pending until its expiry.
    held = None if log.status == CommandStatus.TIMEOUT else log.status == CommandStatus.ACCEPTED
    session_services.record_reservation_answer(reservation, held=held)
    return log


def cancel_reservation_rule(ctx: CommandContext):
    """The station must hold an active reservation (on the connector, when one is chosen)."""
    reservation = ctx.params.get("reservation")
    if reservation is not None or active_reservations(ctx.station, ctx.connector).exists():
        return None
    return _("The station has no active reservation.")


def cancel_reservation(ctx: CommandContext) -> CommandLog:
    """CancelReservation of the chosen or the only active reservation."""
    reservation = ctx.params.get("reservation") or active_reservations(ctx.station).first()
    if reservation is None:
        raise CommandNotAllowed(_("The station has no active reservation."))
    log = send(ctx, "cancel_reservation", intents.CancelReservation(reservation.pk))
    if log.status == CommandStatus.ACCEPTED:
        session_services.cancel_reservation(reservation)
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


@transaction.atomic
def stop_session_billing(session: ChargingSession, *, reason: str, user, via: str) -> CommandLog:
    """Stop billing a running or finished session and log who did it and why, in one go."""
    # The command, the API's POST /sessions/{id}/stop-billing/ and the admin action all stop
    # billing here. billing_stopped_by is a User: an organization API key is none, so the
    # session keeps no one there and the log names the key. Nothing goes to the station.
    api_key = getattr(user, "api_key", None)
    person = user if api_key is None and getattr(user, "pk", None) else None
    session = session_services.stop_billing(session, user=person, reason=reason)
    return CommandLog.objects.create(
        station_id=session.station_id,
        command="stop_billing",
        action="",
        payload={"transactionId": session.transaction_id, "reason": session.billing_stopped_reason},
        requested_by=person,
        api_key=api_key,
        requested_via=via,
        status=CommandStatus.ACCEPTED,
        completed=session.billing_stopped_at,
        session=session,
    )


def stop_billing(ctx: CommandContext) -> CommandLog:
    """Stop billing the running session and log who did it and why; nothing goes to the station."""
    session = _running_session_or_refuse(ctx)
    try:
        return stop_session_billing(
            session, reason=ctx.params["reason"], user=ctx.user, via=ctx.via
        )
    except session_services.BillingStopRefused as refusal:
        raise CommandNotAllowed(str(refusal)) from None


register(
    CommandSpec(
        name=START_CHARGING,
        label=_("Start charging"),
        run=start_charging,
        params=StartChargingParameters,
        rule=start_charging_rule,
        intents=(intents.StartCharging,),
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
        intents=(intents.StopCharging,),
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
        intents=(intents.UnlockConnector,),
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
        intents=(intents.Reserve,),
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
        intents=(intents.CancelReservation,),
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
