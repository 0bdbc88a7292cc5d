"""Planned maintenance windows on the stations: Inoperative while one runs, Operative after."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from availability.choices import CommandOutcome, WindowStationState
from availability.models import MaintenanceWindow, MaintenanceWindowStation
from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.commands import DELIVERY_TIMEOUT
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.registry import (
    Actor,
    CommandNotAllowed,
    InvalidCommandParameters,
    execute_command,
)
from organizations.choices import Role
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

# The platform acts, not a person: the operator who announced the window may have left since.
SYSTEM = Actor(user=None, role=Role.ADMIN, via=RequestedVia.SYSTEM)
# The station's latest accepted ChangeAvailability commands looked at for one set by hand.
LOOK_BACK = 20
# Outcomes after which the station may have changed its availability: it must be set back.
MAYBE_APPLIED = frozenset({CommandOutcome.ACCEPTED, CommandOutcome.TIMEOUT, CommandOutcome.ERROR})
_OUTCOMES = {
    CommandStatus.ACCEPTED: CommandOutcome.ACCEPTED,
    CommandStatus.REJECTED: CommandOutcome.REJECTED,
    CommandStatus.ERROR: CommandOutcome.ERROR,
    CommandStatus.TIMEOUT: CommandOutcome.TIMEOUT,
    CommandStatus.OFFLINE: CommandOutcome.OFFLINE,
    # Still pending when send_call returned cannot happen; counted as no answer.
    CommandStatus.PENDING: CommandOutcome.TIMEOUT,
}


@dataclass(frozen=True)
class Answer:
    """What came back for one ChangeAvailability: an outcome and a detail for the page."""

    outcome: str
    detail: str = ""


def in_flight() -> timedelta:
    """How long a send another tick started may still be waiting for its station."""
    return timedelta(seconds=settings.OCPP_CALL_TIMEOUT * 2 + DELIVERY_TIMEOUT * 2)


def send_availability(station: ChargingStation, *, operative: bool) -> Answer:
    """ChangeAvailability of the whole station (connector 0, no EVSE); Scheduled is accepted."""
    params = {"type": "Operative" if operative else "Inoperative"}
    try:
        log = execute_command(station, "change_availability", params, actor=SYSTEM)
    except CommandNotAllowed as refusal:
        # Offline, or a version without the command: nothing was sent.
        outcome = CommandOutcome.ERROR if station.is_online else CommandOutcome.OFFLINE
        return Answer(outcome, str(refusal.reason)[:255])
    except InvalidCommandParameters as invalid:
        return Answer(CommandOutcome.ERROR, str(invalid.errors)[:255])
    outcome = _OUTCOMES.get(log.status, CommandOutcome.ERROR)
    return Answer(outcome, (log.error_code or log.error_description or "")[:255])


def _claim(row: MaintenanceWindowStation, now: datetime, stamp: str) -> bool:
    """Mark the row as being sent now; False when another tick got there first."""
    claimed = MaintenanceWindowStation.objects.filter(
        pk=row.pk, attempts=row.attempts, state=row.state
    ).update(attempts=F("attempts") + 1, last_outcome="", detail="", **{stamp: now})
    if claimed:
        row.attempts += 1
        row.last_outcome = ""
        setattr(row, stamp, now)
    return bool(claimed)


def _busy(row: MaintenanceWindowStation, sent_at: datetime | None, now: datetime) -> bool:
    """Whether another tick's send of this row may still be waiting for the station's answer."""
    return not row.last_outcome and sent_at is not None and sent_at > now - in_flight()


def _save(row: MaintenanceWindowStation, **fields) -> None:
    for name, value in fields.items():
        setattr(row, name, value)
    row.save(update_fields=[*fields, "updated"])


def _active_windows(now: datetime) -> list[MaintenanceWindow]:
    """Windows that set their stations Inoperative and run now."""
    return list(
        MaintenanceWindow.objects.filter(
            set_inoperative=True, starts_at__lte=now, ends_at__gt=now
        ).order_by("starts_at", "pk")
    )


def set_inoperative_by_hand(station: ChargingStation) -> bool:
    """Whether the last whole-station ChangeAvailability a person had accepted was Inoperative."""
    # What the platform sent is certain; a status of Unavailable is not (stations also report it
    # at their own discretion, and 2.0.1 has no status of the whole station).
    accepted = CommandLog.objects.filter(
        station=station, command="change_availability", status=CommandStatus.ACCEPTED
    ).order_by("-created", "-pk")
    for log in accepted[:LOOK_BACK]:
        payload = log.payload or {}
        if payload.get("connectorId", 0) or payload.get("evse"):
            continue  # one connector or EVSE: says nothing about the whole station
        if log.requested_via == RequestedVia.SYSTEM:
            return False  # the platform's own (a window's): the windows keep track of those
        return (payload.get("type") or payload.get("operationalStatus")) == "Inoperative"
    return False


def _set_inoperative(window: MaintenanceWindow, now: datetime) -> int:
    """Send Inoperative to each covered station the window has not set yet; how many sends."""
    sent = 0
    stations = list(window.covered_stations().order_by("ocpp_id"))
    rows = {row.station_id: row for row in window.station_outcomes.all()}
    # Stations another window already holds Inoperative need no second command; those an
    # operator had set Inoperative before stay theirs in this window too.
    held = dict(
        MaintenanceWindowStation.objects.filter(
            state=WindowStationState.INOPERATIVE, station__in=stations
        )
        .exclude(window=window)
        .values_list("station_id", "last_outcome")
    )
    for station in stations:
        row = rows.get(station.pk)
        if row is None:
            row, _created = MaintenanceWindowStation.objects.get_or_create(
                window=window, station=station
            )
        if row.state == WindowStationState.RELEASED:
            # Released while the window did not hold it (moved, narrowed, switched off): the
            # window holds it again now, so it starts afresh.
            _reopen(row)
        if row.state != WindowStationState.PENDING:
            continue
        if station.pk in held:
            # Before the refusal check: a station that refused this window but accepted another's
            # Inoperative is now held by this one too, which then sets it Operative at its end.
            by_hand = held[station.pk] == CommandOutcome.ALREADY_INOPERATIVE
            _save(
                row,
                state=WindowStationState.INOPERATIVE,
                last_outcome=CommandOutcome.ALREADY_INOPERATIVE
                if by_hand
                else CommandOutcome.SHARED,
                inoperative_at=now,
            )
            continue
        if row.last_outcome == CommandOutcome.REJECTED:
            continue  # the station refused: shown on the window's page, not repeated each minute
        if not row.attempts and set_inoperative_by_hand(station):
            # Out of service on purpose already: nothing to send now, nor to undo at the end.
            _save(
                row,
                state=WindowStationState.INOPERATIVE,
                last_outcome=CommandOutcome.ALREADY_INOPERATIVE,
                inoperative_at=now,
            )
            continue
        if not station.is_online:
            if row.last_outcome != CommandOutcome.OFFLINE:
                _save(row, last_outcome=CommandOutcome.OFFLINE)
            continue  # it gets the command on the first tick after it reconnects
        if _busy(row, row.inoperative_sent_at, now) or not _claim(row, now, "inoperative_sent_at"):
            continue
        answer = send_availability(station, operative=False)
        sent += 1
        if answer.outcome == CommandOutcome.ACCEPTED:
            _save(
                row,
                state=WindowStationState.INOPERATIVE,
                last_outcome=answer.outcome,
                detail=answer.detail,
                inoperative_at=timezone.now(),
            )
        else:
            _save(row, last_outcome=answer.outcome, detail=answer.detail)
    return sent


def _reopen(row: MaintenanceWindowStation) -> None:
    """Forget a released row's sends: the next steps treat it as a station never set yet."""
    _save(
        row,
        state=WindowStationState.PENDING,
        last_outcome="",
        detail="",
        attempts=0,
        inoperative_sent_at=None,
        inoperative_at=None,
        operative_sent_at=None,
        released_at=None,
    )


def _still_covered(row: MaintenanceWindowStation, active: list[MaintenanceWindow]) -> bool:
    """Whether another running window that covers the station holds it Inoperative itself."""
    # Covering is not enough: that window's own Inoperative may have been refused or never
    # sent, and then nobody would ever set the station Operative again.
    others = [w.pk for w in active if w.pk != row.window_id and w.covers(row.station)]
    return bool(others) and (
        MaintenanceWindowStation.objects.filter(
            window__in=others, station_id=row.station_id, state=WindowStationState.INOPERATIVE
        ).exists()
    )


def _release(row: MaintenanceWindowStation, active: list[MaintenanceWindow], now) -> int:
    """Set the station Operative again, unless another window still holds it; sends made."""
    if _still_covered(row, active):
        # The other window keeps it Inoperative and will set it Operative when it ends.
        _save(
            row,
            state=WindowStationState.RELEASED,
            last_outcome=CommandOutcome.SHARED,
            released_at=now,
        )
        return 0
    if row.last_outcome == CommandOutcome.ALREADY_INOPERATIVE:
        # An operator took it out of service before the window: theirs to set Operative.
        _save(row, state=WindowStationState.RELEASED, released_at=now)
        return 0
    if row.state == WindowStationState.PENDING:
        if row.inoperative_sent_at is None or row.last_outcome not in MAYBE_APPLIED:
            # Never reached the station (offline, refused): nothing to undo.
            _save(row, state=WindowStationState.RELEASED, released_at=now)
            return 0
        _save(row, state=WindowStationState.RELEASING)
    station = row.station
    if not station.is_online:
        if row.last_outcome != CommandOutcome.OFFLINE:
            _save(row, state=WindowStationState.RELEASING, last_outcome=CommandOutcome.OFFLINE)
        return 0
    if row.state == WindowStationState.INOPERATIVE:
        _save(row, state=WindowStationState.RELEASING)
    elif _busy(row, row.operative_sent_at, now):
        return 0
    if not _claim(row, now, "operative_sent_at"):
        return 0
    answer = send_availability(station, operative=True)
    if answer.outcome == CommandOutcome.ACCEPTED:
        _save(
            row,
            state=WindowStationState.RELEASED,
            last_outcome=answer.outcome,
            detail=answer.detail,
            released_at=timezone.now(),
        )
    else:
        # Retried on the next tick: a station left Inoperative is out of service for good.
        _save(row, last_outcome=answer.outcome, detail=answer.detail)
    return 1


def _needs_release(row: MaintenanceWindowStation, now: datetime) -> bool:
    """Whether the row's window no longer holds its station: gone, over, moved or narrowed."""
    window = row.window
    if window is None or not window.set_inoperative:
        return True
    if not (window.starts_at <= now < window.ends_at):
        return True
    return not window.covers(row.station)


def apply_maintenance_windows(now: datetime | None = None) -> int:
    """Bring every station in line with the windows running now; the commands sent (idempotent)."""
    now = now or timezone.now()
    active = _active_windows(now)
    sent = 0
    for window in active:
        sent += _set_inoperative(window, now)
    open_rows = (
        MaintenanceWindowStation.objects.exclude(state=WindowStationState.RELEASED)
        .select_related("window", "station")
        .order_by("pk")
    )
    for row in open_rows:
        if row.state == WindowStationState.RELEASING or _needs_release(row, now):
            sent += _release(row, active, now)
    if sent:
        logger.info("maintenance windows: %d ChangeAvailability sent", sent)
    return sent
