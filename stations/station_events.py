"""What a station reports about itself: events, security events, its monitors, customer data.

Services store what the gateway's handlers hand them in version-neutral terms (2.0.1 is the
only version with these messages today); selectors answer the pages and the API.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from core.events import emit_many
from stations.events import STATION_EVENT_REPORTED
from stations.models import (
    ChargingStation,
    CustomerInformationPart,
    EventTrigger,
    MonitorSource,
    StationEvent,
    StationEventKind,
    VariableMonitor,
)

# The SecurityEventNotification types OCPP 2.0.1 marks critical (Part 2, Appendix 1): a station
# pushes them to the CSMS as they happen. Types outside the list are the vendor's own.
CRITICAL_SECURITY_EVENTS = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
        "InvalidFirmwareSignature",
        "InvalidFirmwareSigningCertificate",
        "InvalidCsmsCertificate",
        "InvalidChargingStationCertificate",
        "InvalidTLSVersion",
        "InvalidTLSCipherSuite",
        "MaintenanceLoginAccepted",
        "MaintenanceLoginFailed",
    }
)
# The address of a variable in the device model, as stored on events and monitors.
_TARGET_FIELDS = (
    "component",
    "component_instance",
    "evse_number",
    "connector_number",
    "variable",
    "variable_instance",
)


@dataclass(frozen=True, slots=True)
class Target:
    """A variable of a component, on an EVSE and connector (0: not on one) or not."""

    component: str
    variable: str
    component_instance: str = ""
    variable_instance: str = ""
    evse: int = 0
    connector: int = 0

    def fields(self) -> dict:
        """The model fields of this address."""
        return {
            "component": self.component,
            "component_instance": self.component_instance,
            "evse_number": self.evse,
            "connector_number": self.connector,
            "variable": self.variable,
            "variable_instance": self.variable_instance,
        }


@dataclass(frozen=True, slots=True)
class ReportedEvent:
    """One event a monitored (or hard-wired) variable raised."""

    event_id: int
    timestamp: datetime
    trigger: str
    actual_value: str
    notification_type: str
    target: Target
    cause: int | None = None
    tech_code: str = ""
    tech_info: str = ""
    cleared: bool = False
    transaction_id: str = ""
    monitor_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReportedMonitor:
    """One monitor a station has (or was set) on a variable."""

    monitor_id: int
    target: Target
    type: str
    value: float
    severity: int
    transaction: bool = False


# --- services -------------------------------------------------------------------------------


@transaction.atomic
def record_station_events(
    station: ChargingStation, events: Iterable[ReportedEvent]
) -> list[StationEvent]:
    """Store the events not stored yet (a retransmission adds nothing); the new rows."""
    events = list(events)
    if not events:
        return []
    known = set(
        StationEvent.objects.filter(
            station=station,
            kind=StationEventKind.NOTIFY,
            event_id__in={event.event_id for event in events},
        ).values_list("event_id", "timestamp")
    )
    # The severity of the monitor as it is now: a monitor replaced later must not rewrite history.
    severities = dict(
        VariableMonitor.objects.filter(
            station=station,
            monitor_id__in={event.monitor_id for event in events if event.monitor_id is not None},
        ).values_list("monitor_id", "severity")
    )
    rows = []
    for event in events:
        key = (event.event_id, event.timestamp)
        if key in known:
            continue
        known.add(key)
        rows.append(
            StationEvent(
                station=station,
                kind=StationEventKind.NOTIFY,
                timestamp=event.timestamp,
                event_id=event.event_id,
                trigger=event.trigger,
                cause=event.cause,
                actual_value=event.actual_value,
                tech_code=event.tech_code,
                tech_info=event.tech_info,
                cleared=event.cleared,
                transaction_id=event.transaction_id,
                variable_monitoring_id=event.monitor_id,
                event_notification_type=event.notification_type,
                severity=severities.get(event.monitor_id),
                **event.target.fields(),
            )
        )
    created = StationEvent.objects.bulk_create(rows)
    _announce(station, created)
    return created


@transaction.atomic
def record_security_event(
    station: ChargingStation, event_type: str, timestamp: datetime, tech_info: str = ""
) -> StationEvent | None:
    """Store a security event once (a retransmission adds nothing); the new row, or None."""
    stored = StationEvent.objects.filter(
        station=station, kind=StationEventKind.SECURITY, type=event_type, timestamp=timestamp
    )
    if stored.exists():
        return None
    event = StationEvent.objects.create(
        station=station,
        kind=StationEventKind.SECURITY,
        timestamp=timestamp,
        type=event_type,
        tech_info=tech_info,
        critical=event_type in CRITICAL_SECURITY_EVENTS,
    )
    _announce(station, [event])
    return event


def _announce(station: ChargingStation, events: list[StationEvent]) -> None:
    emit_many(
        STATION_EVENT_REPORTED,
        (
            {
                "organization_id": station.organization_id,
                "station_id": station.pk,
                "station_event_id": event.pk,
                "kind": event.kind,
                "critical": event.critical,
                "severity": event.severity,
                "cleared": event.cleared,
            }
            for event in events
        ),
    )


@transaction.atomic
def record_monitors(
    station: ChargingStation, monitors: Iterable[ReportedMonitor], source: str
) -> int:
    """Store monitors by their id, replacing what was known of each; how many."""
    now = timezone.now()
    rows = {
        # The last of two entries with one id wins, as it would on the station.
        monitor.monitor_id: VariableMonitor(
            station=station,
            monitor_id=monitor.monitor_id,
            transaction=monitor.transaction,
            type=monitor.type,
            value=monitor.value,
            severity=monitor.severity,
            status=source,
            updated_at=now,
            **monitor.target.fields(),
        )
        for monitor in monitors
    }
    if rows:
        VariableMonitor.objects.bulk_create(
            rows.values(),
            update_conflicts=True,
            unique_fields=["station", "monitor_id"],
            update_fields=[
                *_TARGET_FIELDS,
                "transaction",
                "type",
                "value",
                "severity",
                "status",
                "updated_at",
            ],
        )
    return len(rows)


def forget_monitors(station: ChargingStation, monitor_ids: Iterable[int] | None = None) -> int:
    """Forget monitors the station no longer has (None: all of them); how many."""
    monitors = VariableMonitor.objects.filter(station=station)
    if monitor_ids is not None:
        monitors = monitors.filter(monitor_id__in=set(monitor_ids))
    return monitors.delete()[0]


def forget_monitors_before(station: ChargingStation, moment: datetime) -> int:
    """Forget the monitors last heard of before `moment` (a full report then left them out)."""
    return VariableMonitor.objects.filter(station=station, updated_at__lt=moment).delete()[0]


def forget_custom_monitors(station: ChargingStation) -> int:
    """Forget the monitors the platform set (the station dropped them); how many."""
    return VariableMonitor.objects.filter(station=station, status=MonitorSource.SET).delete()[0]


def record_customer_information(
    station: ChargingStation,
    *,
    request_id: int,
    seq_no: int,
    data: str,
    more_follows: bool,
    generated_at: datetime,
) -> bool:
    """Store one part of a customer information report once; whether it was new."""
    _part, created = CustomerInformationPart.objects.get_or_create(
        station=station,
        request_id=request_id,
        seq_no=seq_no,
        defaults={"data": data, "more_follows": more_follows, "generated_at": generated_at},
    )
    return created


# --- selectors ------------------------------------------------------------------------------


def events_of(
    station: ChargingStation,
    *,
    kind: str | None = None,
    max_severity: int | None = None,
    cleared: bool | None = None,
) -> QuerySet[StationEvent]:
    """The station's events, newest first, narrowed by kind, severity (this or worse), cleared."""
    events = StationEvent.objects.filter(station=station).order_by("-timestamp", "-id")
    if kind:
        events = events.filter(kind=kind)
    if max_severity is not None:
        events = events.filter(severity__lte=max_severity)
    if cleared is not None:
        events = events.filter(cleared=cleared)
    return events


def open_alerts(station: ChargingStation) -> QuerySet[StationEvent]:
    """Alerting events of the station that no later event of the same variable cleared."""
    cleared_since = StationEvent.objects.filter(
        station=OuterRef("station"),
        kind=StationEventKind.NOTIFY,
        cleared=True,
        timestamp__gte=OuterRef("timestamp"),
        **{field: OuterRef(field) for field in _TARGET_FIELDS},
    )
    return (
        StationEvent.objects.filter(
            station=station,
            kind=StationEventKind.NOTIFY,
            trigger=EventTrigger.ALERTING,
            cleared=False,
        )
        .exclude(Exists(cleared_since))
        .order_by("-timestamp", "-id")
    )


def customer_information(station: ChargingStation, request_id: int) -> str:
    """The text a station reported for one customer information request, its parts joined."""
    parts = CustomerInformationPart.objects.filter(station=station, request_id=request_id)
    return "".join(parts.order_by("seq_no").values_list("data", flat=True))
