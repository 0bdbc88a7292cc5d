"""Writes and business rules for sites and stations."""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Case, Count, ProtectedError, Q, Value, When
from django.utils import timezone

from core.bulk import insert_rows, update_from_values
from core.events import emit, emit_many
from stations.choices import (
    ConnectionState,
    ConnectorStatus,
    DataTransferDirection,
    RegistrationStatus,
    SiteStatus,
)
from stations.events import (
    STATION_BOOTED,
    STATION_DIAGNOSTICS_STATUS,
    STATION_FIRMWARE_STATUS,
    STATION_STATUS_CHANGED,
)
from stations.exceptions import DeletionRefused, StationAssignmentError
from stations.models import (
    ChargingStation,
    Connector,
    Evse,
    Site,
    StationDataTransfer,
    StatusEvent,
)

logger = logging.getLogger(__name__)


@transaction.atomic
def assign_station(station: ChargingStation, site: Site) -> ChargingStation:
    """Move a station (typically from the unassigned pool) to a site and accept it."""
    if station.organization_id and station.organization_id != site.organization_id:
        raise StationAssignmentError("The station already belongs to another organization.")
    station.organization_id = site.organization_id
    station.site = site
    station.registration_status = RegistrationStatus.ACCEPTED
    station.save(update_fields=["organization", "site", "registration_status", "updated"])
    return station


@dataclass(frozen=True)
class BootResult:
    """What a booting station is told: its registration status and the interval to use."""

    registration_status: str
    interval: int


# Station properties a boot may report, mapped to their fields; None means "not reported".
BOOT_FIELDS = (
    "vendor",
    "model",
    "serial_number",
    "firmware_version",
    "iccid",
    "imsi",
    "meter_type",
    "meter_serial_number",
    "boot_reason",
)


@dataclass(frozen=True, slots=True)
class BootReport:
    """What a booting station reports about itself; None means "not reported"."""

    station: ChargingStation
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None
    # 2.0.1's BootReasonEnumType (PowerUp, FirmwareUpdate, Watchdog, …); 1.6 sends none.
    boot_reason: str | None = None
    booted_at: datetime | None = None


def record_boot(station: ChargingStation, **reported) -> BootResult:
    """Store what a booting station reports about itself and decide its registration status."""
    return record_boots([BootReport(station, **reported)])[0]


@transaction.atomic
def record_boots(reports: list[BootReport]) -> list[BootResult]:
    """Record many stations' boots in a few queries; each one's registration status, in order."""
    ids = [r.station.pk for r in reports]
    # Lock and reload: support staff may have assigned or rejected a station since it
    # connected, and the consumer's instance must learn that now.
    fresh = {
        s.pk: s for s in ChargingStation.objects.select_for_update(no_key=True).filter(pk__in=ids)
    }
    # The station restarted: sessions it still had running are lost on its side unless its
    # queue reports them (StopTransaction after a power failure), so they stay open here.
    open_sessions = dict(
        ChargingStation.objects.filter(pk__in=ids, charging_sessions__state="active")
        .annotate(n=Count("charging_sessions"))
        .values_list("pk", "n")
    )
    now = timezone.now()
    updates, results = [], []
    for report in reports:
        station = report.station
        for field in ChargingStation._meta.concrete_fields:
            setattr(station, field.attname, getattr(fresh[station.pk], field.attname))
        values = []
        for name in BOOT_FIELDS:
            value = getattr(report, name)
            # A property the boot leaves out tells us nothing: keep what staff may have entered.
            if value is not None:
                value = value.strip()[: ChargingStation._meta.get_field(name).max_length]
                setattr(station, name, value)
            values.append(value)
        station.last_boot = report.booted_at or now
        updates.append((station.pk, *values, station.last_boot, now))
        if open_sessions.get(station.pk):
            logger.info(
                "Station %s booted with %d session(s) still active.",
                station.ocpp_id,
                open_sessions[station.pk],
            )
        results.append(
            BootResult(
                registration_status=_registration(station), interval=station.heartbeat_interval
            )
        )
    reported = ", ".join(f"{name} = COALESCE(v.{name}, t.{name})" for name in BOOT_FIELDS)
    update_from_values(
        ChargingStation,
        [
            ("id", "bigint"),
            *((name, "varchar") for name in BOOT_FIELDS),
            ("last_boot", "timestamptz"),
            ("now", "timestamptz"),
        ],
        updates,
        f"{reported}, last_boot = v.last_boot, updated = v.now",
    )
    emit_many(
        STATION_BOOTED,
        (
            {
                "organization_id": report.station.organization_id,
                "station_id": report.station.pk,
                "registration_status": str(result.registration_status),
            }
            for report, result in zip(reports, results, strict=True)
        ),
    )
    return results


def _registration(station: ChargingStation) -> RegistrationStatus:
    """What a booting station is told: pending in the pool, else what staff decided."""
    if station.organization_id is None:
        return RegistrationStatus.PENDING
    if station.registration_status in (RegistrationStatus.PENDING, RegistrationStatus.REJECTED):
        return RegistrationStatus(station.registration_status)
    return RegistrationStatus.ACCEPTED


def get_or_create_connector(station: ChargingStation, connector_number: int) -> Connector:
    """The station's connector with that number, created on its own EVSE if we do not know it."""
    try:
        return Connector.objects.get(station=station, connector_id=connector_number)
    except Connector.DoesNotExist:
        pass
    # get_or_create survives a concurrent creation (it catches the unique-constraint error).
    evse, _ = Evse.objects.get_or_create(station=station, evse_number=connector_number)
    connector, _ = Connector.objects.get_or_create(
        station=station, connector_id=connector_number, defaults={"evse": evse}
    )
    return connector


def connector_on_evse(station: ChargingStation, evse_number: int, number_on_evse: int) -> Connector:
    """The connector a 2.0.1 station calls (evseId, connectorId), created if we do not know it."""
    connector = Connector.objects.filter(
        station=station, evse__evse_number=evse_number, evse_connector_id=number_on_evse
    ).first()
    if connector is not None:
        return connector
    evse, _ = Evse.objects.get_or_create(station=station, evse_number=evse_number)
    # The station-wide number is the EVSE's for its first connector (what a 1.6 station with
    # one connector per EVSE calls it too), else the next free one.
    taken = set(Connector.objects.filter(station=station).values_list("connector_id", flat=True))
    number = evse_number if number_on_evse == 1 and evse_number not in taken else None
    for _attempt in range(3):
        if number is None or number in taken:
            number = max(taken | {0}) + 1
        try:
            with transaction.atomic():
                return Connector.objects.create(
                    station=station,
                    evse=evse,
                    connector_id=number,
                    evse_connector_id=number_on_evse,
                )
        except IntegrityError:
            # Created concurrently (the same connector, or another took the number): look again.
            connector = Connector.objects.filter(
                station=station, evse__evse_number=evse_number, evse_connector_id=number_on_evse
            ).first()
            if connector is not None:
                return connector
            taken = set(
                Connector.objects.filter(station=station).values_list("connector_id", flat=True)
            )
    raise IntegrityError(f"no free connector number on station {station.pk}")


def evse_address(connector: Connector) -> tuple[int, int]:
    """(evseId, connectorId) of a connector as a 2.0.1 station numbers it."""
    evse_number = connector.evse.evse_number if connector.evse_id else connector.connector_id
    return evse_number, connector.evse_connector_id


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A status report of a station (connector 0) or one of its connectors, version-neutral."""

    station: ChargingStation
    connector_number: int
    status: str
    error_code: str = ""
    info: str = ""
    vendor_error_code: str = ""
    timestamp: datetime | None = None


def record_status(
    station: ChargingStation,
    connector_number: int,
    status: str,
    error_code: str = "",
    info: str = "",
    vendor_error_code: str = "",
    timestamp: datetime | None = None,
) -> bool:
    """Record one status report, newest wins; whether it became the current status."""
    report = StatusReport(
        station, connector_number, status, error_code, info, vendor_error_code, timestamp
    )
    return record_status_reports([report])[0]


_STATUS_COLUMNS = (
    ("id", "bigint"),
    ("status", "varchar"),
    ("error_code", "varchar"),
    ("vendor_error_code", "varchar"),
    ("info", "varchar"),
    ("status_at", "timestamptz"),
    ("now", "timestamptz"),
)
_EVENT_COLUMNS = (
    "station_id",
    "connector_id",
    "connector_number",
    "status",
    "error_code",
    "vendor_error_code",
    "info",
    "timestamp",
    "received_at",
)


@transaction.atomic
def record_status_reports(reports: list[StatusReport]) -> list[bool]:
    """Record many status reports in a few queries; True where one became the current status."""
    now = timezone.now()
    connectors = _connectors_of(reports)
    station_ids = {r.station.pk for r in reports if r.connector_number == 0}
    station_status_at = dict(
        ChargingStation.objects.filter(pk__in=station_ids).values_list("pk", "status_at")
    )
    station_updates, connector_updates, events, applied = [], [], [], []
    for report in reports:
        timestamp = report.timestamp or now
        if report.connector_number == 0:
            current, connector = station_status_at.get(report.station.pk), None
        else:
            connector = connectors[(report.station.pk, report.connector_number)]
            current = connector.status_at
        # A queued notification older than the current status is history, not the present.
        newest = current is None or current <= timestamp
        applied.append(newest)
        if not newest:
            logger.info(
                "Station %s connector %d: status %s of %s is older than the current one; "
                "history only.",
                report.station.ocpp_id,
                report.connector_number,
                report.status,
                timestamp.isoformat(),
            )
        elif connector is None:
            station_status_at[report.station.pk] = timestamp
            station_updates.append(
                (report.station.pk, report.status, report.error_code, report.vendor_error_code, "",
                 timestamp, now)
            )  # fmt: skip
            station = report.station
            station.status, station.error_code = report.status, report.error_code
            station.vendor_error_code, station.status_at = report.vendor_error_code, timestamp
        else:
            connector.status_at = timestamp
            connector_updates.append(
                (connector.pk, report.status, report.error_code, report.vendor_error_code,
                 report.info, timestamp, now)
            )  # fmt: skip
        events.append(
            (
                report.station.pk,
                connector.pk if connector else None,
                report.connector_number,
                report.status,
                report.error_code,
                report.vendor_error_code,
                report.info,
                timestamp,
                now,
            )
        )
    # The condition repeats the newest-wins rule, so a concurrent writer is never overtaken.
    newest = "t.status_at IS NULL OR t.status_at <= v.status_at"
    update_from_values(
        ChargingStation,
        _STATUS_COLUMNS,
        station_updates,
        "status = v.status, error_code = v.error_code, vendor_error_code = v.vendor_error_code, "
        "status_at = v.status_at, updated = v.now",
        newest,
    )
    update_from_values(
        Connector,
        _STATUS_COLUMNS,
        connector_updates,
        "status = v.status, error_code = v.error_code, vendor_error_code = v.vendor_error_code, "
        "info = v.info, status_at = v.status_at",
        newest,
    )
    insert_rows(StatusEvent, _EVENT_COLUMNS, events)
    # A generator: with nobody subscribed the batch builds no event at all.
    emit_many(
        STATION_STATUS_CHANGED,
        (
            {
                "organization_id": report.station.organization_id,
                "station_id": report.station.pk,
                "connector_id": event[1],
                "status": report.status,
                "error_code": report.error_code,
                "vendor_error_code": report.vendor_error_code,
            }
            for report, event, newest in zip(reports, events, applied, strict=True)
            if newest
        ),
    )
    return applied


def _connectors_of(reports: list[StatusReport]) -> dict[tuple[int, int], Connector]:
    """The reports' connectors by (station id, number), in one query; unknown ones created."""
    wanted = {(r.station.pk, r.connector_number) for r in reports if r.connector_number}
    if not wanted:
        return {}
    found = {
        (c.station_id, c.connector_id): c
        for c in Connector.objects.filter(
            station_id__in={station for station, _ in wanted},
            connector_id__in={number for _, number in wanted},
        ).only("pk", "station_id", "connector_id", "status_at")
    }
    for report in reports:
        key = (report.station.pk, report.connector_number)
        if report.connector_number and key not in found:
            found[key] = get_or_create_connector(report.station, report.connector_number)
    return found


@transaction.atomic
def record_firmware_status(
    station: ChargingStation, status: str, timestamp: datetime | None = None
) -> None:
    """Store the station's latest firmware update status."""
    timestamp = timestamp or timezone.now()
    ChargingStation.objects.filter(pk=station.pk).update(
        firmware_status=status, firmware_status_at=timestamp, updated=timezone.now()
    )
    station.firmware_status, station.firmware_status_at = status, timestamp
    emit(
        STATION_FIRMWARE_STATUS,
        organization_id=station.organization_id,
        station_id=station.pk,
        status=status,
    )


@transaction.atomic
def record_diagnostics_status(
    station: ChargingStation, status: str, timestamp: datetime | None = None
) -> None:
    """Store the station's latest diagnostics upload status."""
    timestamp = timestamp or timezone.now()
    ChargingStation.objects.filter(pk=station.pk).update(
        diagnostics_status=status, diagnostics_status_at=timestamp, updated=timezone.now()
    )
    station.diagnostics_status, station.diagnostics_status_at = status, timestamp
    emit(
        STATION_DIAGNOSTICS_STATUS,
        organization_id=station.organization_id,
        station_id=station.pk,
        status=status,
    )


@transaction.atomic
def record_data_transfer(
    station: ChargingStation,
    *,
    vendor_id: str,
    message_id: str = "",
    data: Any = None,
    status: str = "",
    response_data: Any = None,
    direction: str = DataTransferDirection.IN,
    received_at: datetime | None = None,
) -> StationDataTransfer:
    """Keep one vendor-specific DataTransfer message with the status it was answered with."""
    return StationDataTransfer.objects.create(
        station=station,
        direction=direction,
        vendor_id=vendor_id,
        message_id=message_id or "",
        data=data,
        status=status,
        response_data=response_data,
        received_at=received_at or timezone.now(),
    )


def record_local_list(station: ChargingStation, version: int, entries: dict[str, dict]) -> bool:
    """Keep the local list a station accepted, unless a newer accepted one is already stored."""
    # Conditional: of two lists accepted in quick succession, a late answer to the older one
    # must not overwrite the newer version and snapshot.
    stored = (
        ChargingStation.objects.filter(pk=station.pk, local_list_version__lt=version).update(
            local_list_version=version, local_list_snapshot=entries, updated=timezone.now()
        )
        > 0
    )
    if stored:
        station.local_list_version, station.local_list_snapshot = version, entries
    return stored


# --- Writes of the API ---------------------------------------------------------------------


@transaction.atomic
def save_site(site: Site, access_groups=None) -> Site:
    """Save a site and, when given, replace the access groups that may charge there."""
    site.save()
    if access_groups is not None:
        site.access_groups.set(access_groups)
    return site


@transaction.atomic
def delete_site(site: Site) -> None:
    """Delete a site that holds no station any more."""
    if site.stations.exists():
        raise DeletionRefused(
            "The site still has stations: move them to another site or delete them first."
        )
    try:
        site.delete()
    except ProtectedError:
        # A station moved here since the check above.
        raise DeletionRefused("The site still has stations.") from None


@transaction.atomic
def save_station(
    station: ChargingStation, password: str | None = None, access_groups=None
) -> ChargingStation:
    """Save a station, hashing a new Basic-auth password and replacing its access groups."""
    if password:
        station.set_password(password)
    station.save()
    if access_groups is not None:
        station.access_groups.set(access_groups)
    return station


@transaction.atomic
def delete_station(station: ChargingStation) -> None:
    """Delete a station with its EVSEs, connectors and history, unless it was ever charged at."""
    # Sessions protect their station (on_delete=PROTECT): they are billing records.
    if station.charging_sessions.exists():
        raise DeletionRefused(
            "The station has charging sessions, which are kept for billing: it cannot be deleted."
        )
    if station.is_online:
        raise DeletionRefused(
            "The station is connected: delete it once it is offline, or it keeps writing "
            "status and meter values to a station that no longer exists."
        )
    try:
        station.delete()
    except ProtectedError:
        raise DeletionRefused("The station has charging sessions.") from None


@transaction.atomic
def add_connector(
    station: ChargingStation, connector_id: int, evse_id: str = "", **fields
) -> Connector:
    """Add a connector by hand, on an EVSE of its own numbered like it (as the gateway does)."""
    evse = Evse.objects.get_or_create(station=station, evse_number=connector_id)[0]
    if evse_id and evse.evse_id != evse_id:
        evse.evse_id = evse_id
        evse.save(update_fields=["evse_id"])
    return Connector.objects.create(station=station, evse=evse, connector_id=connector_id, **fields)


@transaction.atomic
def update_connector(connector: Connector, evse_id: str | None = None) -> Connector:
    """Save a connector's own fields and, when given, its EVSE identity."""
    connector.save()
    if evse_id is not None and (evse_id or connector.evse is not None):
        if connector.evse is None:
            connector.evse = Evse.objects.get_or_create(
                station=connector.station, evse_number=connector.connector_id
            )[0]
            connector.save(update_fields=["evse"])
        connector.evse.evse_id = evse_id
        connector.evse.save(update_fields=["evse_id"])
    return connector


@transaction.atomic
def delete_connector(connector: Connector) -> None:
    """Delete a connector no session ever used, and its EVSE when no other connector is on it."""
    sessions = connector.charging_sessions.all()
    if sessions.active().exists():
        raise DeletionRefused("A charging session is running on this connector.")
    # Sessions protect their connector (on_delete=PROTECT): they are billing records.
    if sessions.exists():
        raise DeletionRefused(
            "The connector has charging sessions, which are kept for billing: it cannot be deleted."
        )
    evse = connector.evse
    try:
        connector.delete()
    except ProtectedError:
        raise DeletionRefused("The connector has charging sessions.") from None
    if evse is not None and not evse.connectors.exists():
        evse.delete()


# --- The status summary of a site, as the portal shows it ----------------------------------


# A vehicle is plugged in: the connector is taken, whatever the charging state.
CONNECTOR_IN_USE = (
    ConnectorStatus.PREPARING,
    ConnectorStatus.CHARGING,
    ConnectorStatus.SUSPENDED_EVSE,
    ConnectorStatus.SUSPENDED_EV,
    ConnectorStatus.FINISHING,
    ConnectorStatus.OCCUPIED,
)


def with_station_summary(sites):
    """Sites annotated with station counts and their SiteStatus, in the same query."""
    # A disconnected station's last status is stale, so only connected stations count for
    # Load; distinct counts, because the join yields one row per connector (and per access
    # group when a filter joins those too).
    online = Q(stations__connection_state=ConnectionState.ONLINE)
    in_use = Q(stations__connectors__status__in=CONNECTOR_IN_USE)
    return sites.annotate(
        station_count=Count("stations", distinct=True),
        connected_station_count=Count("stations", filter=online, distinct=True),
        connectors_in_use=Count("stations__connectors", filter=online & in_use, distinct=True),
        connectors_free=Count("stations__connectors", filter=online & ~in_use, distinct=True),
    ).annotate(
        status=Case(
            When(connected_station_count=0, then=Value(SiteStatus.UNKNOWN)),
            When(connectors_free=0, connectors_in_use__gt=0, then=Value(SiteStatus.LOAD)),
            default=Value(SiteStatus.AVAILABLE),
            output_field=models.CharField(),
        )
    )
