"""Roaming partners' commands (OCPI) carried out on our stations: roaming.commands' runner.

Each command goes through the remote-control pieces operators use (the version's call,
CommandLog, RemoteStart, Reservation) and the station's answer becomes an OCPI
CommandResultType. A partner's START_SESSION is recorded as a RemoteStart of that partner,
with the partner's token uid as id tag: the session it leads to is the partner's customer's
and billable (sessions_app.services.start_session). send_call waits for the station with the
gateway's own timeout, so a run never blocks for long.
"""

from django.db import transaction
from django.utils.dateparse import parse_datetime

from cards.models import normalize_uid
from ocpp_gateway import intents
from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.charging import (
    ID_TAG_MAX_LENGTH,
    START_CHARGING,
    link_session,
    send,
    version_of,
)
from ocpp_gateway.remote.registry import CommandContext, CommandNotAllowed, speaks_16
from roaming.choices import CommandResultType as Result
from roaming.choices import CommandType
from roaming.commands import CommandOutcome
from roaming.models import RoamingCommand
from sessions_app import services as session_services
from sessions_app.choices import RemoteStartStatus, ReservationStatus
from sessions_app.models import ChargingSession, Reservation
from stations.choices import ConnectorStatus

# Connector statuses in which no new session can start.
INOPERATIVE = (ConnectorStatus.FAULTED, ConnectorStatus.UNAVAILABLE)
BUSY = (
    ConnectorStatus.CHARGING,
    ConnectorStatus.SUSPENDED_EV,
    ConnectorStatus.SUSPENDED_EVSE,
    ConnectorStatus.FINISHING,
)
# CallErrors that say the station has no such command.
UNSUPPORTED_ERRORS = ("NotImplemented", "NotSupported")
# A refusal's status word (1.6 and 2.0.1 alike) → the OCPI result, per command.
UNLOCK_REFUSALS = {
    "UnlockFailed": Result.FAILED,
    "NotSupported": Result.NOT_SUPPORTED,
    "OngoingAuthorizedTransaction": Result.REJECTED,
    "UnknownConnector": Result.REJECTED,
}
RESERVE_REFUSALS = {
    "Faulted": Result.EVSE_INOPERATIVE,
    "Unavailable": Result.EVSE_INOPERATIVE,
    "Occupied": Result.EVSE_OCCUPIED,
}
# 1.6 CancelReservation: Rejected means "no reservation with this id".
CANCEL_REFUSALS = {"Rejected": Result.UNKNOWN_RESERVATION}
OPEN_RESERVATION = (ReservationStatus.PENDING, ReservationStatus.ACTIVE)


def station_outcome(log: CommandLog, refusals: dict | None = None) -> CommandOutcome:
    """The OCPI result of what the station did with a call (the CommandLog's outcome)."""
    if log.status == CommandStatus.ACCEPTED:
        return CommandOutcome(Result.ACCEPTED)
    if log.status == CommandStatus.REJECTED:
        word = str((log.response or {}).get("status", ""))
        result = (refusals or {}).get(word, Result.REJECTED)
        return CommandOutcome(result, f"The charge point answered {word or 'no'}.")
    if log.status == CommandStatus.TIMEOUT:
        return CommandOutcome(Result.TIMEOUT, "The charge point did not answer in time.")
    if log.status == CommandStatus.OFFLINE:
        return CommandOutcome(Result.FAILED, "The charge point is offline.")
    if log.error_code in UNSUPPORTED_ERRORS:
        return CommandOutcome(Result.NOT_SUPPORTED, "The charge point does not support this.")
    described = ": ".join(part for part in (log.error_code, log.error_description) if part)
    return CommandOutcome(Result.FAILED, described or "The charge point failed.")


def _token_uid(command: RoamingCommand, ctx: CommandContext) -> str:
    """The command token's uid as the station's id tag; CommandNotAllowed if it cannot carry it."""
    uid = normalize_uid(str((command.request.get("token") or {}).get("uid", "")))
    longest = ID_TAG_MAX_LENGTH[speaks_16(ctx.station)]
    if not uid or len(uid) > longest:
        raise CommandNotAllowed(f"The charge point takes tokens of up to {longest} characters.")
    return uid


def _start_blocked(ctx: CommandContext) -> CommandOutcome | None:
    """EVSE_OCCUPIED or EVSE_INOPERATIVE when no connector meant can take a vehicle now."""
    connectors = [ctx.connector] if ctx.connector else list(ctx.station.connectors.all())
    if not connectors:
        return None  # the station has not told us its connectors: it decides
    charging = set(
        ChargingSession.objects.active()
        .filter(station=ctx.station)
        .exclude(id_tag="")
        .values_list("connector_id", flat=True)
    )
    if any(c.status not in INOPERATIVE + BUSY and c.pk not in charging for c in connectors):
        return None
    if all(c.status in INOPERATIVE for c in connectors):
        return CommandOutcome(Result.EVSE_INOPERATIVE, "The EVSE is out of service.")
    return CommandOutcome(Result.EVSE_OCCUPIED, "Another session is going on at the EVSE.")


def start_session(command: RoamingCommand, ctx: CommandContext) -> CommandOutcome:
    """RemoteStart(Transaction) for the partner's token, recorded as the partner's."""
    uid = _token_uid(command, ctx)
    blocked = _start_blocked(ctx)
    if blocked is not None:
        return blocked
    version_of(ctx)  # a version the gateway does not speak is refused before anything is kept
    # Recorded before it is sent: the station's start (which may come before its answer)
    # claims it and so becomes the partner's customer's session.
    remote_start = session_services.request_remote_start(
        ctx.station, id_tag=uid, connector=ctx.connector, roaming_partner=command.partner
    )
    intent = intents.StartCharging(
        id_tag=uid,
        connector=ctx.connector.connector_id if ctx.connector is not None else None,
        remote_start_id=remote_start.pk,
    )
    try:
        log = send(ctx, START_CHARGING, intent)
    except Exception:
        # Never sent: a driver's later start with this token must not claim it.
        session_services.record_remote_start_answer(remote_start, RemoteStartStatus.FAILED)
        raise
    answered = {
        CommandStatus.ACCEPTED: RemoteStartStatus.ACCEPTED,
        CommandStatus.REJECTED: RemoteStartStatus.REJECTED,
    }
    session_services.record_remote_start_answer(
        remote_start, answered.get(log.status, RemoteStartStatus.FAILED)
    )
    return station_outcome(log)


def stop_session(command: RoamingCommand, ctx: CommandContext) -> CommandOutcome:
    """RemoteStop(Transaction) of the partner's customer's running session."""
    session_id = str(command.request.get("session_id", ""))
    session = (
        ChargingSession.objects.active()
        .filter(station=ctx.station, roaming_partner=command.partner)
        .filter(pk=int(session_id) if session_id.isdigit() else None)
        .first()
    )
    if session is None:
        return CommandOutcome(Result.REJECTED, "The session has ended already.")
    log = send(ctx, "stop_charging", intents.StopCharging(session.transaction_id))
    return station_outcome(link_session(log, session))


def unlock_connector(command: RoamingCommand, ctx: CommandContext) -> CommandOutcome:
    """UnlockConnector of the connector the partner named."""
    if ctx.connector is None:
        return CommandOutcome(Result.REJECTED, "Unknown connector.")
    log = send(ctx, "unlock_cable", intents.UnlockConnector(ctx.connector.connector_id))
    return station_outcome(log, UNLOCK_REFUSALS)


def reserve_now(command: RoamingCommand, ctx: CommandContext) -> CommandOutcome:
    """ReserveNow under our own reservation id; the partner's id again replaces it."""
    uid = _token_uid(command, ctx)
    version_of(ctx)
    expiry = parse_datetime(str(command.request.get("expiry_date", "")))
    # OCPP times carry milliseconds: keep the expiry exactly as the station is told it.
    expiry = expiry.replace(microsecond=expiry.microsecond // 1000 * 1000)
    group = normalize_uid(str((command.request.get("token") or {}).get("group_id") or ""))
    with transaction.atomic():
        reservation = session_services.reserve_for_partner(
            ctx.station,
            roaming_partner=command.partner,
            partner_reservation_id=str(command.request.get("reservation_id", "")),
            id_tag=uid,
            expiry=expiry,
            connector=ctx.connector,
            parent_id_tag=group if len(group) <= ID_TAG_MAX_LENGTH[True] else "",
        )
    intent = intents.Reserve(
        reservation_id=reservation.reservation_id,
        id_tag=reservation.id_tag,
        expires_at=reservation.expiry,
        connector=ctx.connector.connector_id if ctx.connector is not None else None,
        parent_id_tag=reservation.parent_id_tag,
    )
    try:
        log = send(ctx, "reserve", intent)
    except Exception:
        session_services.record_reservation_answer(reservation, held=False)
        raise
    # After a timeout the station may hold it or not: pending until its expiry.
    held = None if log.status == CommandStatus.TIMEOUT else log.status == CommandStatus.ACCEPTED
    session_services.record_reservation_answer(reservation, held=held)
    return station_outcome(log, RESERVE_REFUSALS)


def cancel_reservation(command: RoamingCommand, ctx: CommandContext) -> CommandOutcome:
    """CancelReservation of the partner's reservation with that id."""
    reservation = (
        Reservation.objects.filter(
            station=ctx.station,
            roaming_partner=command.partner,
            roaming_reservation_id=str(command.request.get("reservation_id", "")),
            status__in=OPEN_RESERVATION,
        )
        .order_by("-created", "-pk")
        .first()
    )
    if reservation is None:
        return CommandOutcome(Result.UNKNOWN_RESERVATION, "Unknown reservation.")
    log = send(ctx, "cancel_reservation", intents.CancelReservation(reservation.reservation_id))
    if log.status == CommandStatus.ACCEPTED:
        session_services.cancel_reservation(reservation)
    return station_outcome(log, CANCEL_REFUSALS)


RUNNERS = {
    CommandType.START_SESSION: start_session,
    CommandType.STOP_SESSION: stop_session,
    CommandType.UNLOCK_CONNECTOR: unlock_connector,
    CommandType.RESERVE_NOW: reserve_now,
    CommandType.CANCEL_RESERVATION: cancel_reservation,
}


def run_roaming_command(command: RoamingCommand) -> CommandOutcome:
    """Carry out a partner's command on its station and say what the station answered."""
    runner = RUNNERS.get(command.command)
    if runner is None or command.station is None:
        return CommandOutcome(Result.NOT_SUPPORTED, "This command is not supported here.")
    ctx = CommandContext(
        station=command.station, user=None, via=RequestedVia.SYSTEM, connector=command.connector
    )
    try:
        return runner(command, ctx)
    except CommandNotAllowed as refused:
        # A version without the call, a token the station cannot carry.
        return CommandOutcome(Result.NOT_SUPPORTED, str(refused.reason))
