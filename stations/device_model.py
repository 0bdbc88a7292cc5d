"""A station's device model: what it reports of its components and variables, in no version's terms.

OCPP 2.0.1 stations report components and variables (NotifyReport, GetVariables, SetVariables);
OCPP 1.6 stations have configuration keys (GetConfiguration, ChangeConfiguration), stored here
as variables without a component. Every write is a bulk upsert on the variable's full address,
so a report of thousands of variables costs a few statements.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone

from core.events import emit
from stations.events import STATION_VARIABLES_STORED
from stations.models import (
    AttributeType,
    ChargingStation,
    DeviceModelReport,
    Mutability,
    StationVariable,
    VariableSource,
)

# The address of one attribute: the unique constraint of StationVariable.
KEY_FIELDS = (
    "component",
    "component_instance",
    "evse_number",
    "connector_number",
    "variable",
    "variable_instance",
    "attribute_type",
)
# What a report says of a variable besides its value.
CHARACTERISTIC_FIELDS = (
    "mutability",
    "persistent",
    "constant",
    "data_type",
    "unit",
    "min_limit",
    "max_limit",
    "values_list",
    "supports_monitoring",
)
SET_RESULT_FIELDS = ("set_value", "set_status", "set_status_info", "set_at")
# Rows per INSERT: PostgreSQL takes 65,535 parameters a statement (25 columns here).
BATCH_SIZE = 1000
# The longest value OCPP 2.0.1 carries (attributeValue is a string of up to 2,500 characters).
MAX_VALUE_LENGTH = 2500
# Set results that mean the station uses the new value now.
APPLIED_SET_STATUSES = frozenset({"Accepted"})
# Where a 2.0.1 station says how many variables one GetVariables/SetVariables may carry.
DEVICE_DATA_CONTROLLER = "DeviceDataCtrlr"
ITEMS_PER_MESSAGE = "ItemsPerMessage"


@dataclass(frozen=True, slots=True)
class VariableAddress:
    """Where an attribute sits: component (instance, EVSE, connector), variable (instance), type."""

    component: str
    variable: str
    component_instance: str = ""
    evse_number: int = 0  # 0: not on an EVSE
    connector_number: int = 0  # 0: not on a connector; else its number on the EVSE
    variable_instance: str = ""
    attribute_type: str = AttributeType.ACTUAL

    def key(self) -> tuple:
        """The values of KEY_FIELDS, in order."""
        return tuple(getattr(self, name) for name in KEY_FIELDS)


@dataclass(slots=True)
class ReportedVariable:
    """One attribute of one variable as a report describes it."""

    address: VariableAddress
    value: str | None = None  # None: not reported (a write-only variable)
    mutability: str = Mutability.READ_WRITE
    persistent: bool = False
    constant: bool = False
    data_type: str = ""
    unit: str = ""
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: str = ""
    supports_monitoring: bool = False


@dataclass(frozen=True, slots=True)
class ReadValue:
    """A value the station gave when asked for it (GetVariables, GetConfiguration)."""

    address: VariableAddress
    value: str
    # Known only from a 1.6 GetConfiguration (its `readonly`); None keeps what is stored.
    mutability: str | None = None


@dataclass(frozen=True, slots=True)
class SetResult:
    """The station's answer for one value it was asked to take."""

    address: VariableAddress
    value: str
    status: str
    status_info: str = ""


@dataclass(frozen=True, slots=True)
class ReportPart:
    """One NotifyReport: which request, which part, whether more follow, its variables."""

    request_id: int
    seq_no: int
    more_follow: bool
    variables: list[ReportedVariable] = field(default_factory=list)


def configuration_key(key: str) -> VariableAddress:
    """The address of an OCPP 1.6 configuration key: a variable without a component."""
    return VariableAddress(component="", variable=key)


def _clip(value: str | None) -> str:
    return (value or "")[:MAX_VALUE_LENGTH]


def _unique(rows: list[StationVariable]) -> list[StationVariable]:
    """One row per address, the last one winning (an upsert may touch a row only once)."""
    by_key = {}
    for row in rows:
        by_key[tuple(getattr(row, name) for name in ("station_id", *KEY_FIELDS))] = row
    return list(by_key.values())


def _upsert(rows: list[StationVariable], update_fields: list[str]) -> int:
    rows = _unique(rows)
    if rows:
        StationVariable.objects.bulk_create(
            rows,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["station", *KEY_FIELDS],
            update_fields=update_fields,
        )
    return len(rows)


def _announce(station: ChargingStation, source: str) -> None:
    """Tell subscribers (configuration baselines' drift check) that values were stored."""
    emit(
        STATION_VARIABLES_STORED,
        organization_id=station.organization_id,
        station_id=station.pk,
        source=source,
    )


def _row(station: ChargingStation, address: VariableAddress, **values) -> StationVariable:
    return StationVariable(
        station=station,
        **{name: getattr(address, name) for name in KEY_FIELDS},
        **values,
    )


# --- reports -------------------------------------------------------------------------------------


def next_request_id(station: ChargingStation) -> int:
    """A requestId the station has not had from us yet."""
    highest = DeviceModelReport.objects.filter(station=station).aggregate(top=Max("request_id"))
    return (highest["top"] or 0) + 1


def start_report(station: ChargingStation, kind: str) -> DeviceModelReport:
    """Record a report request under a fresh requestId (sent right after)."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return DeviceModelReport.objects.create(
                    station=station, request_id=next_request_id(station), kind=kind
                )
        except IntegrityError:
            # Two requests for the same station at once took the same number: take the next.
            continue
    raise RuntimeError(f"no free report request id for station {station.pk}")


def record_report_answer(report: DeviceModelReport, status: str) -> None:
    """Keep what the station answered to the report request (Accepted, EmptyResultSet, ...)."""
    report.status = status[:24]
    update = ["status"]
    if status != "Accepted":
        # Nothing will follow: the request is over.
        report.completed_at = timezone.now()
        update.append("completed_at")
    report.save(update_fields=update)


def record_report_part(station: ChargingStation, part: ReportPart) -> int:
    """Store one part of a report; the last part of a full inventory drops what it left out."""
    now = timezone.now()
    rows = [
        _row(
            station,
            reported.address,
            value=_clip(reported.value),
            **{name: getattr(reported, name) for name in CHARACTERISTIC_FIELDS},
            source=VariableSource.REPORT,
            reported_at=now,
        )
        for reported in part.variables
    ]
    stored = _upsert(rows, ["value", *CHARACTERISTIC_FIELDS, "source", "reported_at"])
    report = _report_of(station, part, now)
    changes = {
        "parts": F("parts") + 1,
        "last_seq_no": part.seq_no,
        "variables": F("variables") + stored,
    }
    if not part.more_follow:
        changes["completed_at"] = now
    DeviceModelReport.objects.filter(pk=report.pk).update(**changes)
    if not part.more_follow:
        report.refresh_from_db()
        _drop_what_a_full_inventory_left_out(report)
        # Once per report, at its last part: the values are then complete.
        _announce(station, VariableSource.REPORT)
    return stored


def _report_of(station: ChargingStation, part: ReportPart, now: datetime) -> DeviceModelReport:
    """The request this part answers; a report nobody here asked for is recorded as it comes."""
    report, created = DeviceModelReport.objects.get_or_create(
        station=station,
        request_id=part.request_id,
        defaults={"kind": "", "status": "Accepted", "requested_at": now},
    )
    if not created and part.seq_no == 0 and report.parts:
        # The same requestId again (asked for by a raw call, or the station restarted its
        # numbering): a new report, counted from its first part; only its kind is unknown.
        DeviceModelReport.objects.filter(pk=report.pk).update(
            kind="", requested_at=now, parts=0, variables=0, last_seq_no=None, completed_at=None
        )
        report.refresh_from_db()
    return report


def _drop_what_a_full_inventory_left_out(report: DeviceModelReport) -> None:
    """A complete FullInventory lists every variable: one it did not list is gone."""
    complete = report.last_seq_no is not None and report.parts == report.last_seq_no + 1
    if report.kind != "FullInventory" or not complete:
        # A partial report, or one with a part missing, proves nothing about the others.
        return
    StationVariable.objects.filter(station_id=report.station_id).exclude(component="").filter(
        Q(reported_at__isnull=True) | Q(reported_at__lt=report.requested_at)
    ).delete()


# --- values read and set ---------------------------------------------------------------------


def record_read_values(station: ChargingStation, values: list[ReadValue], source: str) -> int:
    """Store values the station answered with, keeping what a report said about them."""
    stored = _store_read_values(station, values, source)
    _announce(station, source)
    return stored


def _store_read_values(station: ChargingStation, values: list[ReadValue], source: str) -> int:
    now = timezone.now()
    plain = [v for v in values if v.mutability is None]
    with_mutability = [v for v in values if v.mutability is not None]
    update = ["value", "source", "reported_at"]
    stored = _upsert(
        [
            _row(station, v.address, value=_clip(v.value), source=source, reported_at=now)
            for v in plain
        ],
        update,
    )
    stored += _upsert(
        [
            _row(
                station,
                v.address,
                value=_clip(v.value),
                mutability=v.mutability,
                source=source,
                reported_at=now,
            )
            for v in with_mutability
        ],
        [*update, "mutability"],
    )
    return stored


def record_set_results(station: ChargingStation, results: list[SetResult], source: str) -> int:
    """Store the station's answer per value set; an accepted value becomes the stored one."""
    now = timezone.now()

    def row(result: SetResult, **values) -> StationVariable:
        return _row(
            station,
            result.address,
            set_value=_clip(result.value),
            set_status=result.status[:24],
            set_status_info=result.status_info,
            set_at=now,
            **values,
        )

    applied = [r for r in results if r.status in APPLIED_SET_STATUSES]
    others = [r for r in results if r.status not in APPLIED_SET_STATUSES]
    stored = _upsert(
        [row(r, value=_clip(r.value), source=source, reported_at=now) for r in applied],
        [*SET_RESULT_FIELDS, "value", "source", "reported_at"],
    )
    # Rejected, RebootRequired, Unknown…: the station keeps (or does not have) its old value.
    # A variable first heard of here is stored with no value (reported_at stays empty).
    stored += _upsert([row(r, source=source) for r in others], list(SET_RESULT_FIELDS))
    _announce(station, source)
    return stored


def record_configuration(
    station: ChargingStation, values: list[ReadValue], *, complete: bool
) -> int:
    """Store a 1.6 station's configuration keys; a complete list drops the keys it left out."""
    stored = _store_read_values(station, values, VariableSource.CONFIGURATION)
    if complete:
        keys = [v.address.variable for v in values]
        StationVariable.objects.filter(station=station, component="").exclude(
            variable__in=keys
        ).delete()
    _announce(station, VariableSource.CONFIGURATION)
    return stored


# --- reads ------------------------------------------------------------------------------------


def station_variables(station: ChargingStation) -> QuerySet[StationVariable]:
    """The station's variables in the order the portal and the API list them."""
    return StationVariable.objects.filter(station=station).order_by(*KEY_FIELDS, "pk")


def search_variables(variables: QuerySet, text: str) -> QuerySet:
    """Variables whose component, variable or either instance contains `text`."""
    text = text.strip()
    if not text:
        return variables
    return variables.filter(
        Q(component__icontains=text)
        | Q(variable__icontains=text)
        | Q(component_instance__icontains=text)
        | Q(variable_instance__icontains=text)
    )


def items_per_message(station: ChargingStation, action: str) -> int | None:
    """How many variables the station takes in one GetVariables/SetVariables, if it said so."""
    value = (
        StationVariable.objects.filter(
            station=station,
            component=DEVICE_DATA_CONTROLLER,
            variable=ITEMS_PER_MESSAGE,
            variable_instance=action,
            attribute_type=AttributeType.ACTUAL,
        )
        .values_list("value", flat=True)
        .first()
    )
    try:
        limit = int(value)
    except (TypeError, ValueError):
        return None
    return limit if limit > 0 else None


def latest_report(station: ChargingStation) -> DeviceModelReport | None:
    """The station's most recent report request."""
    return (
        DeviceModelReport.objects.filter(station=station).order_by("-requested_at", "-pk").first()
    )
