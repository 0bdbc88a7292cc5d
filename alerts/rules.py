"""What each rule kind watches: domain events and periodic checks become alert conditions.

Event-driven kinds are evaluated by the subscribers (`alerts.subscribers`) on the batch an emit
delivered; kinds that need a clock (offline, stuck, silent, start failures, capacity, and the
delayed fault) by `evaluate_time_rules`, which Celery beat runs every minute. Both raise and
clear conditions through `alerts.services`, which keeps one live alert per condition.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property

from django.core.cache import cache
from django.db.models import CharField, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone

from alerts import services
from alerts.choices import LIVE_STATES, RuleKind, Severity
from alerts.models import Alert, AlertRule
from alerts.services import Condition
from availability.models import MaintenanceWindow
from core.events import Event
from sessions_app.choices import RemoteStartStatus, SessionState
from sessions_app.models import ChargingSession, MeterValue, RemoteStart
from stations.choices import ConnectionState, ConnectorStatus, RegistrationStatus
from stations.models import (
    ChargingStation,
    ConnectionEvent,
    Connector,
    Site,
    StationEvent,
    StationEventKind,
)

logger = logging.getLogger(__name__)

FAULTED = ConnectorStatus.FAULTED
ENERGY_REGISTER = "Energy.Active.Import.Register"
# What a station's firmware or log upload reports when it went wrong, and when it went right
# (OCPP 1.6, its security whitepaper, 2.0.1 and 2.1 spell them alike).
FIRMWARE_FAILURES = frozenset(
    {"DownloadFailed", "InstallationFailed", "InstallVerificationFailed", "InvalidSignature"}
)
FIRMWARE_SUCCESSES = frozenset({"Installed"})
DIAGNOSTICS_FAILURES = frozenset(
    {"UploadFailed", "UploadFailure", "BadMessage", "PermissionDenied", "NotSupportedOperation"}
)
DIAGNOSTICS_SUCCESSES = frozenset({"Uploaded"})
# Security events OCPP lists as critical that every healthy station sends in normal operation
# (a reboot, a firmware update, a clock set, a successful maintenance login): an alert for each
# would bury the ones that matter (tampering, invalid certificates, failed logins).
ROUTINE_SECURITY_EVENTS = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "MaintenanceLoginAccepted",
    }
)
# NotifyEvent severities 0 (danger), 1 (hardware failure) and 2 (system failure) open an alert.
SEVERE_EVENT_LEVEL = 2
# Why a known station's connection was refused (station.connection_refused): a later successful
# connection clears the alert; a rejected boot is cleared by an accepted boot instead.
CONNECTION_REASONS = ("wrong_credentials", "refused", "unknown_identity")
BOOT_REJECTED = "boot_rejected"
# A platform alert of an unknown identity resolves after this long without another attempt.
IDENTITY_QUIET = timedelta(days=1)
# Remote starts older than this are history: failures before it open nothing any more.
START_LOOKBACK = timedelta(hours=1)
# Failed authorizations are counted in one-minute buckets; no window is longer than a day.
MAX_WINDOW_MINUTES = 24 * 60
# How long a "may have live alerts" mark lives in the cache; the sweep renews it every minute.
GUARD_SECONDS = 24 * 3600
# Placed at the end of a chunk of OR-ed per-session conditions (SQL stays a sane size).
CHUNK = 500


# --- the cheap guards -----------------------------------------------------------------------
#
# Most status reports, connections and boots clear nothing: no alert of their kind is live in
# their organization. A mark in the shared cache per (kind, organization), set before an alert
# of that kind is raised and renewed by the sweep while one is live, lets those batches skip the
# database entirely. A missing mark (evicted, or Redis away when it was set) only delays a clear
# until the next sweep, which clears every condition that no longer holds; an unreadable cache
# counts as "maybe", so the check then costs one query instead of being skipped.
#
# The status write path goes further: a large organization nearly always has some connector
# faulted, so the organization's mark alone would send every batch to the database. Instead the
# cache holds, per organization, the set of subjects ("connector:12", "station:5") whose fault
# alert may be live: one cache read per batch answers for all its reports. The set is updated
# read-modify-write by the tasks that raise and resolve (two racing tasks may lose an update:
# a subject missing is a clear delayed until the sweep, a subject too many a task for nothing)
# and rewritten from the database by every sweep.


def _guard_key(kind: str, organization_id: int | None) -> str:
    return f"alerts:live:{kind}:{organization_id or 0}"


def _mark_live(pairs: Iterable[tuple[str, int | None]]) -> None:
    """Mark (kind, organization) pairs as possibly having a live alert."""
    keys = {_guard_key(kind, org) for kind, org in pairs}
    if not keys:
        return
    try:
        cache.set_many(dict.fromkeys(keys, 1), GUARD_SECONDS)
    except Exception:
        logger.warning("alert guard not stored; the sweep clears what is missed", exc_info=True)


def _maybe_live(pairs: Iterable[tuple[str, int | None]]) -> set[tuple[str, int | None]]:
    """The (kind, organization) pairs that may have a live alert."""
    keyed = {_guard_key(kind, org): (kind, org) for kind, org in pairs}
    if not keyed:
        return set()
    try:
        found = cache.get_many(list(keyed))
    except Exception:
        logger.warning("alert guard unreadable; asking the database", exc_info=True)
        return set(keyed.values())
    return {keyed[key] for key in found}


def _faults_key(organization_id: int) -> str:
    return f"alerts:faulted:{organization_id}"


# The status write path reads the fault marks for every batch: a copy this process read or
# wrote less than this long ago is used without asking the cache. A fault alert opened by
# another process (a Celery worker) within that time, whose connector recovers at once, then
# resolves at the next sweep instead of at once; every write of this process updates its copy.
MARKS_MEMO_SECONDS = 2.0
_marks_memo: dict[int, tuple[float, frozenset[str]]] = {}


def forget_marks() -> None:
    """Drop this process's copy of the fault marks (tests that clear the cache)."""
    _marks_memo.clear()


def _remember_marks(marks: dict[int, set[str]]) -> None:
    now = time.monotonic()
    for org, subjects in marks.items():
        _marks_memo[org] = (now, frozenset(subjects))


def _live_faults(organization_ids: Iterable[int], fresh: bool = False) -> dict | None:
    """Per organization, the subjects whose fault alert may be live; None: cache unreadable."""
    now = time.monotonic()
    marks, wanted = {}, []
    for org in organization_ids:
        memo = None if fresh else _marks_memo.get(org)
        if memo is not None and now - memo[0] < MARKS_MEMO_SECONDS:
            marks[org] = memo[1]
        else:
            wanted.append(org)
    if not wanted:
        return marks
    keyed = {_faults_key(org): org for org in wanted}
    try:
        found = cache.get_many(list(keyed))
    except Exception:
        logger.warning("fault marks unreadable; asking the database", exc_info=True)
        return None
    read = {org: found.get(key, frozenset()) for key, org in keyed.items()}
    _remember_marks(read)
    return marks | read


def _update_live_faults(added: Iterable[tuple[int, str]], removed=()) -> None:
    """Add (organization, subject) pairs to the fault marks, and take others away."""
    changes: dict[int, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    for org, subject in added:
        changes[org][0].add(subject)
    for org, subject in removed:
        changes[org][1].add(subject)
    if not changes:
        return
    current = _live_faults(changes, fresh=True)
    if current is None:
        return
    marks = {org: (set(current[org]) | add) - remove for org, (add, remove) in changes.items()}
    try:
        cache.set_many(
            {_faults_key(org): subjects for org, subjects in marks.items()}, GUARD_SECONDS
        )
    except Exception:
        logger.warning("fault marks not updated; the sweep clears what is missed", exc_info=True)
        return
    _remember_marks(marks)


def _fault_subject(fingerprint: str) -> str:
    """The subject of a fingerprint (organization:kind:subject)."""
    return fingerprint.split(":", 2)[2]


# --- raising and clearing -----------------------------------------------------------------------


def _raise(conditions: list[Condition], now: datetime | None = None) -> list[Alert]:
    if not conditions:
        return []
    # Marked before the alerts commit: a clear racing with the raise finds the mark.
    _mark_live((c.kind, c.organization_id) for c in conditions)
    _update_live_faults(
        (c.organization_id, c.subject)
        for c in conditions
        if c.kind == RuleKind.CONNECTOR_FAULTED and c.organization_id
    )
    return services.raise_conditions(conditions, now=now)


def _resolve(prints: Iterable[str], now: datetime | None = None) -> list[Alert]:
    resolved = services.clear_conditions(prints, now=now)
    _update_live_faults(
        (),
        (
            (alert.organization_id, _fault_subject(alert.fingerprint))
            for alert in resolved
            if alert.kind == RuleKind.CONNECTOR_FAULTED and alert.organization_id
        ),
    )
    return resolved


def _clear(subjects: Iterable[tuple[str, int | None, str]], now: datetime | None = None) -> list:
    """Resolve the live alerts of (kind, organization, subject) conditions that cleared."""
    subjects = list(subjects)
    maybe = _maybe_live((kind, org) for kind, org, _ in subjects)
    prints = [
        services.fingerprint(kind, subject, org)
        for kind, org, subject in subjects
        if (kind, org) in maybe
    ]
    if not prints:
        return []
    live = services.live_fingerprints(prints)
    return _resolve(live, now=now) if live else []


@dataclass(frozen=True, slots=True)
class _Station:
    """What rule matching and maintenance windows need of a station."""

    pk: int
    organization_id: int | None
    site_id: int | None
    in_maintenance: bool = False


def _stations(ids: Iterable[int], now: datetime | None = None) -> dict[int, _Station]:
    """The stations with their site and whether a maintenance window covers them now (1 query)."""
    now = now or timezone.now()
    windows = MaintenanceWindow.objects.filter(
        Q(station_id=OuterRef("pk"))
        | Q(station__isnull=True, site_id=OuterRef("site_id"))
        | Q(station__isnull=True, site__isnull=True),
        organization_id=OuterRef("organization_id"),
        starts_at__lte=now,
        ends_at__gt=now,
    )
    return {
        pk: _Station(pk, org, site, covered)
        for pk, org, site, covered in ChargingStation.objects.filter(pk__in=set(ids))
        .annotate(covered=Exists(windows))
        .values_list("pk", "organization_id", "site_id", "covered")
    }


@dataclass(frozen=True, slots=True)
class _Occurrence:
    """A condition seen at a station of an organization, before its rule is known."""

    organization_id: int
    station_id: int
    subject: str
    details: dict = field(default_factory=dict)
    connector_id: int | None = None
    session_id: int | None = None
    error_code: str = ""
    vendor_error_code: str = ""


def _conditions(
    kind: str,
    occurrences: list[_Occurrence],
    *,
    maintenance: bool = False,
    accept: Callable[[AlertRule, _Occurrence], bool] | None = None,
) -> list[Condition]:
    """Conditions of the occurrences whose station has a matching rule (2 queries at most)."""
    rules = services.rules_by_org(kind, {o.organization_id for o in occurrences})
    wanted = [o for o in occurrences if rules.get(o.organization_id)]
    if not wanted:
        return []
    stations = _stations({o.station_id for o in wanted})
    conditions = []
    for occurrence in wanted:
        station = stations.get(occurrence.station_id)
        # A station moved to another organization meanwhile belongs to that one's rules.
        if station is None or station.organization_id != occurrence.organization_id:
            continue
        rule = services.matching_rule(rules[occurrence.organization_id], station=station)
        if rule is None or (accept is not None and not accept(rule, occurrence)):
            continue
        if maintenance and station.in_maintenance:
            continue
        conditions.append(
            Condition(
                kind=kind,
                subject=occurrence.subject,
                organization_id=occurrence.organization_id,
                rule=rule,
                site_id=station.site_id,
                station_id=station.pk,
                connector_id=occurrence.connector_id,
                session_id=occurrence.session_id,
                details=occurrence.details,
            )
        )
    return conditions


def _latest_by_subject(pairs: Iterable[tuple[tuple, Event]]) -> dict[tuple, Event]:
    """The last event of each subject in a batch (a batch keeps the reports' order)."""
    latest: dict[tuple, Event] = {}
    for key, event in pairs:
        latest.pop(key, None)
        latest[key] = event
    return latest


# --- connector_faulted: the status write path ------------------------------------------------


def _codes_match(rule: AlertRule, error_code: str, vendor_error_code: str) -> bool:
    codes, vendor_codes = rule.codes(), rule.vendor_codes()
    return (not codes or error_code in codes) and (
        not vendor_codes or vendor_error_code in vendor_codes
    )


def _fault_accepted(rule: AlertRule, occurrence: _Occurrence) -> bool:
    # A delayed rule is the sweep's: it opens once the fault has lasted that long.
    return not rule.delay_minutes and _codes_match(
        rule, occurrence.error_code, occurrence.vendor_error_code
    )


def fault_subjects(events: list[Event]) -> tuple[list[int], list[int]]:
    """The connectors and stations of a status batch whose fault alerts need a look."""
    # The status write path (batches of up to 500 reports on the gateway's database thread)
    # only decides whether there is anything to do; `evaluate_faults` does it in a Celery task,
    # so opening or resolving an alert (its history, mails, webhooks, live counts) never delays
    # the next batch. Whatever the batch: one cache read (the fault marks of its organizations,
    # see _live_faults) and no query; the database only when the cache is unreadable.
    # One plain pass: this runs for every report the platform receives.
    last: dict[tuple[int, bool, int], str] = {}
    for event in events:
        data = event.data
        org = data["organization_id"]
        # A station in the unassigned pool belongs to nobody's rules.
        if org is not None:
            connector = data.get("connector_id")
            last[(org, bool(connector), connector or data["station_id"])] = data["status"]
    connectors, stations, recovered = set(), set(), []
    for (org, on_connector, pk), status in last.items():
        if status == FAULTED:
            (connectors if on_connector else stations).add(pk)
        else:
            recovered.append((org, on_connector, pk))
    if recovered:
        marks = _live_faults({org for org, _, _ in recovered})
        subject = "connector:{}".format, "station:{}".format
        if marks is None:
            prints = {
                services.fingerprint(
                    RuleKind.CONNECTOR_FAULTED, subject[not on_connector](pk), org
                ): (on_connector, pk)
                for org, on_connector, pk in recovered
            }
            live = [prints[p] for p in services.live_fingerprints(prints)]
        else:
            live = [
                (on_connector, pk)
                for org, on_connector, pk in recovered
                if marks.get(org) and subject[not on_connector](pk) in marks[org]
            ]
        for on_connector, pk in live:
            (connectors if on_connector else stations).add(pk)
    return sorted(connectors), sorted(stations)


def evaluate_faults(connector_ids: Iterable[int], station_ids: Iterable[int] = ()) -> int:
    """Open or resolve the fault alerts of these connectors and stations as they stand now."""
    # Read back, not taken from the events: a task may run after a later report, and the
    # stored status is the newest (a fault over before the task ran opens nothing).
    connectors = Connector.objects.filter(
        pk__in=list(connector_ids), station__organization__isnull=False
    ).values_list(
        "pk", "station_id", "station__organization_id", "status", "error_code", "vendor_error_code"
    )
    station_ids = list(station_ids)
    stations = (
        ChargingStation.objects.filter(pk__in=station_ids, organization__isnull=False).values_list(
            "pk", "id", "organization_id", "status", "error_code", "vendor_error_code"
        )
        if station_ids
        else ()
    )
    faulted, recovered = [], []
    for what, rows in (("connector", connectors), ("station", stations)):
        for pk, station_id, org, status, code, vendor_code in rows:
            subject = f"{what}:{pk}"
            if status != FAULTED:
                recovered.append((RuleKind.CONNECTOR_FAULTED, org, subject))
                continue
            faulted.append(
                _Occurrence(
                    organization_id=org,
                    station_id=station_id,
                    subject=subject,
                    connector_id=pk if what == "connector" else None,
                    error_code=code,
                    vendor_error_code=vendor_code,
                    details={
                        "status": status,
                        "error_code": code,
                        "vendor_error_code": vendor_code,
                    },
                )
            )
    changed = 0
    if recovered:
        changed += len(_clear(recovered))
        # A mark left by a clear that raced, or by a resolution by hand, costs a task per
        # report of the connector until the sweep: these conditions are over, drop them.
        _update_live_faults((), ((org, subject) for _, org, subject in recovered))
    if faulted:
        conditions = _conditions(
            RuleKind.CONNECTOR_FAULTED, faulted, maintenance=True, accept=_fault_accepted
        )
        changed += len(_raise(conditions))
    return changed


# --- station_offline, station_rejected: connections and boots ----------------------------------

_PLATFORM_IDENTITY = services.fingerprint(RuleKind.STATION_REJECTED, "identity:", None)


def evaluate_connections(events: list[Event]) -> None:
    """A station connected: its offline alert, its refused-connection alert and its identity's."""
    known = [e for e in events if e.get("organization_id") is not None]
    offline, rejected = RuleKind.STATION_OFFLINE, RuleKind.STATION_REJECTED
    # One cache read for the batch; a reconnect storm of stations without alerts stops here.
    maybe = _maybe_live(
        {(kind, e["organization_id"]) for e in known for kind in (offline, rejected)}
        | {(rejected, None)}
    )
    if not maybe:
        return
    offline_prints = [
        services.fingerprint(offline, f"station:{e['station_id']}", e["organization_id"])
        for e in known
        if (offline, e["organization_id"]) in maybe
    ]
    which = [Q(kind=offline, fingerprint__in=offline_prints)]
    ours = [e["station_id"] for e in known if (rejected, e["organization_id"]) in maybe]
    if ours:
        which.append(
            Q(kind=rejected, station_id__in=ours, details__reason__in=CONNECTION_REASONS)
            & ~Q(organization=None)
        )
    if (rejected, None) in maybe:
        # An identity that knocked unknown and now connects as a known station; its identity
        # is looked up inside the same query.
        identities = (
            ChargingStation.objects.filter(pk__in=[e["station_id"] for e in events])
            .annotate(print=Concat(Value(_PLATFORM_IDENTITY), "ocpp_id", output_field=CharField()))
            .values("print")
        )
        which.append(Q(kind=rejected, organization=None, fingerprint__in=identities))
    condition = which[0]
    for q in which[1:]:
        condition |= q
    live = list(
        Alert.objects.filter(condition, state__in=LIVE_STATES).values_list("fingerprint", flat=True)
    )
    if live:
        _resolve(live)


def evaluate_boots(events: list[Event]) -> None:
    """A rejected boot opens station_rejected; an accepted one clears it."""
    latest = _latest_by_subject(
        ((e["organization_id"], e["station_id"]), e)
        for e in events
        if e.get("organization_id") is not None
    )
    rejected, accepted = [], []
    for (org, station_id), event in latest.items():
        status = event["registration_status"]
        if status == RegistrationStatus.REJECTED:
            rejected.append(
                _Occurrence(
                    org,
                    station_id,
                    f"station:{station_id}",
                    details={"reason": BOOT_REJECTED, "registration_status": status},
                )
            )
        elif status == RegistrationStatus.ACCEPTED:
            accepted.append((RuleKind.STATION_REJECTED, org, f"station:{station_id}"))
    if accepted:
        _clear(accepted)
    if rejected:
        _raise(_conditions(RuleKind.STATION_REJECTED, rejected, maintenance=True))


def evaluate_refused_connections(events: list[Event]) -> None:
    """A refused handshake: the station's alert, or a platform alert for an unknown identity."""
    ours, platform = [], []
    for event in events:
        details = {"reason": event.get("reason") or "", "identity": event.get("identity") or ""}
        if event.get("organization_id") is not None and event.get("station_id") is not None:
            ours.append(
                _Occurrence(
                    event["organization_id"],
                    event["station_id"],
                    f"station:{event['station_id']}",
                    details=details,
                )
            )
        else:
            # Nobody's station (an unknown identity or one in the unassigned pool): support
            # staff see it in the admin, no organization is told.
            platform.append(
                Condition(
                    kind=RuleKind.STATION_REJECTED,
                    subject=f"identity:{details['identity']}",
                    organization_id=None,
                    severity=Severity.MEDIUM,
                    station_id=event.get("station_id"),
                    details=details,
                )
            )
    conditions = platform
    if ours:
        conditions += _conditions(RuleKind.STATION_REJECTED, ours, maintenance=True)
    _raise(conditions)


# --- firmware_failed, diagnostics_failed -------------------------------------------------------


def _evaluate_progress(
    kind: str, events: list[Event], failures: frozenset, successes: frozenset
) -> None:
    latest = _latest_by_subject(
        ((e["organization_id"], e["station_id"]), e)
        for e in events
        if e.get("organization_id") is not None
    )
    failed, done = [], []
    for (org, station_id), event in latest.items():
        status = event.get("status") or ""
        if status in failures:
            failed.append(
                _Occurrence(org, station_id, f"station:{station_id}", details={"status": status})
            )
        elif status in successes:
            done.append((kind, org, f"station:{station_id}"))
    if done:
        _clear(done)
    if failed:
        _raise(_conditions(kind, failed))


def evaluate_firmware_statuses(events: list[Event]) -> None:
    """A failed firmware download or installation opens firmware_failed; Installed clears it."""
    _evaluate_progress(RuleKind.FIRMWARE_FAILED, events, FIRMWARE_FAILURES, FIRMWARE_SUCCESSES)


def evaluate_diagnostics_statuses(events: list[Event]) -> None:
    """A failed diagnostics or log upload opens diagnostics_failed; Uploaded clears it."""
    _evaluate_progress(
        RuleKind.DIAGNOSTICS_FAILED, events, DIAGNOSTICS_FAILURES, DIAGNOSTICS_SUCCESSES
    )


# --- configuration_drift ---------------------------------------------------------------------


def _drift_subject(event: Event) -> str:
    return f"station:{event['station_id']}:baseline:{event['baseline_id']}"


def evaluate_drift_found(events: list[Event]) -> None:
    """A station differs from a configuration baseline: configuration_drift opens (or counts)."""
    latest = _latest_by_subject(
        ((e["organization_id"], _drift_subject(e)), e)
        for e in events
        if e.get("organization_id") is not None
    )
    found = [
        _Occurrence(
            org,
            event["station_id"],
            subject,
            details={"baseline_id": event["baseline_id"], "keys": list(event.get("keys") or ())},
        )
        for (org, subject), event in latest.items()
    ]
    if found:
        _raise(_conditions(RuleKind.CONFIGURATION_DRIFT, found))


def clear_drift(events: list[Event]) -> None:
    """The station matches the baseline again (or the baseline is gone): the alert resolves."""
    _clear(
        (RuleKind.CONFIGURATION_DRIFT, e["organization_id"], _drift_subject(e))
        for e in events
        if e.get("organization_id") is not None
    )


# --- security_event ------------------------------------------------------------------------


def _severe(event: Event) -> bool:
    severity = event.get("severity")
    return bool(event.get("critical")) or (severity is not None and severity <= SEVERE_EVENT_LEVEL)


def _variable_key(row: dict) -> str:
    """component[instance]@evse.connector/variable[instance]: one condition per variable."""
    component = row["component"] + (
        f"[{row['component_instance']}]" if row["component_instance"] else ""
    )
    variable = row["variable"] + (
        f"[{row['variable_instance']}]" if row["variable_instance"] else ""
    )
    place = f"@{row['evse_number']}.{row['connector_number']}" if row["evse_number"] else ""
    return f"{component}{place}/{variable}"


def evaluate_station_events(events: list[Event]) -> None:
    """Critical security events and severe NotifyEvents open an alert; a cleared event clears."""
    relevant = [
        e
        for e in events
        if e.get("organization_id") is not None
        and (
            (e.get("kind") == StationEventKind.SECURITY and e.get("critical"))
            or (e.get("kind") == StationEventKind.NOTIFY and (e.get("cleared") or _severe(e)))
        )
    ]
    # Periodic and harmless reports (most of them) stop here, without a query.
    if not relevant:
        return
    rows = {
        row["pk"]: row
        for row in StationEvent.objects.filter(
            pk__in=[e["station_event_id"] for e in relevant]
        ).values(
            "pk",
            "kind",
            "type",
            "component",
            "component_instance",
            "evse_number",
            "connector_number",
            "variable",
            "variable_instance",
            "actual_value",
            "tech_code",
            "severity",
            "timestamp",
        )
    }
    latest = {}
    for event in relevant:
        row = rows.get(event["station_event_id"])
        if row is None:
            continue
        if row["kind"] == StationEventKind.SECURITY:
            if row["type"] in ROUTINE_SECURITY_EVENTS:
                continue
            what, details = row["type"], {"event_type": row["type"]}
        else:
            what = _variable_key(row)
            details = {
                "component": row["component"],
                "variable": row["variable"],
                "actual_value": row["actual_value"][:100],
                "tech_code": row["tech_code"],
                "severity": row["severity"],
            }
        subject = f"station:{event['station_id']}:{what}"
        key = (event["organization_id"], subject)
        latest.pop(key, None)
        latest[key] = (event, details)
    raised, cleared = [], []
    for (org, subject), (event, details) in latest.items():
        if event.get("kind") == StationEventKind.NOTIFY and event.get("cleared"):
            cleared.append((RuleKind.SECURITY_EVENT, org, subject))
        else:
            details["occurred_at"] = rows[event["station_event_id"]]["timestamp"].isoformat()
            raised.append(_Occurrence(org, event["station_id"], subject, details=details))
    if cleared:
        _clear(cleared)
    if raised:
        _raise(_conditions(RuleKind.SECURITY_EVENT, raised))


# --- authorization_failures ---------------------------------------------------------------------
#
# Counted in the shared cache (Redis in production), not in a table: no row records a refused
# Authorize (only sessions started with a refused card are stored), the count is short-lived by
# nature, and an increment costs no database write on the station's path. One-minute buckets per
# station make the window slide; each bucket expires once no window can reach it.


def _failure_keys(station_id: int, now: datetime, window_minutes: int) -> list[str]:
    minute = int(now.timestamp() // 60)
    span = max(1, min(window_minutes, MAX_WINDOW_MINUTES))
    return [f"alerts:authfail:{station_id}:{m}" for m in range(minute - span + 1, minute + 1)]


def _failures_in_window(station_id: int, now: datetime, window_minutes: int) -> int:
    return sum(cache.get_many(_failure_keys(station_id, now, window_minutes)).values())


def count_authorization_failures(events: list[Event], now: datetime | None = None) -> None:
    """Count refused tokens per station; reaching the rule's count in its window opens an alert."""
    now = now or timezone.now()
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for event in events:
        if event.get("organization_id") is not None:
            counts[(event["organization_id"], event["station_id"])] += 1
    if not counts:
        return
    rules = services.rules_by_org(RuleKind.AUTHORIZATION_FAILURES, {o for o, _ in counts})
    wanted = {key: n for key, n in counts.items() if rules.get(key[0])}
    if not wanted:
        return
    stations = _stations({s for _, s in wanted}, now)
    conditions = []
    for (org, station_id), n in wanted.items():
        station = stations.get(station_id)
        if station is None or station.organization_id != org:
            continue
        rule = services.matching_rule(rules[org], station=station)
        if rule is None:
            continue
        keys = _failure_keys(station_id, now, rule.window_minutes)
        try:
            # add() then incr(): incr of a missing key fails, and add() never overwrites.
            cache.add(keys[-1], 0, timeout=(len(keys) + 1) * 60)
            cache.incr(keys[-1], n)
            count = sum(cache.get_many(keys).values())
        except Exception:
            logger.warning("failed authorizations not counted (cache away)", exc_info=True)
            continue
        if count >= rule.failure_count:
            conditions.append(
                Condition(
                    kind=RuleKind.AUTHORIZATION_FAILURES,
                    subject=f"station:{station_id}",
                    organization_id=org,
                    rule=rule,
                    site_id=station.site_id,
                    station_id=station_id,
                    details={"count": count, "window_minutes": len(keys)},
                )
            )
    _raise(conditions, now)


# --- sessions: implausible, stopped, started ----------------------------------------------------


def evaluate_held_sessions(events: list[Event]) -> None:
    """A session held for review opens session_implausible."""
    _raise(
        _conditions(
            RuleKind.SESSION_IMPLAUSIBLE,
            [
                _Occurrence(
                    e["organization_id"],
                    e["station_id"],
                    f"session:{e['session_id']}",
                    session_id=e["session_id"],
                    details={"reason": (e.get("reason") or "")[:255]},
                )
                for e in events
                if e.get("organization_id") is not None and e.get("station_id") is not None
            ],
        )
    )


def clear_reviewed_sessions(events: list[Event]) -> None:
    """A person settled the review: the session's implausible alert resolves."""
    _clear(
        (RuleKind.SESSION_IMPLAUSIBLE, e["organization_id"], f"session:{e['session_id']}")
        for e in events
    )


def clear_stopped_sessions(events: list[Event]) -> None:
    """A session that ended is neither stuck nor silent any more."""
    _clear(
        (kind, e["organization_id"], f"session:{e['session_id']}")
        for e in events
        for kind in (RuleKind.SESSION_STUCK, RuleKind.METER_SILENT)
    )


def clear_started_sessions(events: list[Event]) -> None:
    """A session started: the failed remote starts of its connector and station are over."""
    _clear(
        (RuleKind.START_FAILED, e["organization_id"], subject)
        for e in events
        for subject in (f"connector:{e['connector_id']}", f"station:{e['station_id']}")
    )


def install_defaults(events: list[Event]) -> None:
    """A new organization gets the default rules."""
    services.install_default_rules(e["organization_id"] for e in events)


# --- the periodic sweep -----------------------------------------------------------------------


def _fallback(kind: str) -> AlertRule:
    """The default parameters of a kind: how a condition is judged where no rule applies."""
    for default_kind, severity, extra in services.DEFAULT_RULES:
        if default_kind == kind:
            return AlertRule(kind=kind, severity=severity, **extra)
    return AlertRule(kind=kind)


class _Sweep:
    """One run of the periodic check: what every check reads, read once."""

    def __init__(self, now: datetime):
        self.now = now

    @cached_property
    def rules(self) -> dict[str, dict[int, list[AlertRule]]]:
        by_kind: dict[str, dict[int, list[AlertRule]]] = defaultdict(dict)
        for rule in AlertRule.objects.filter(enabled=True):
            by_kind[rule.kind].setdefault(rule.organization_id, []).append(rule)
        return by_kind

    @cached_property
    def rules_by_id(self) -> dict[int, AlertRule]:
        return {
            rule.pk: rule
            for by_org in self.rules.values()
            for rules in by_org.values()
            for rule in rules
        }

    @cached_property
    def live(self) -> dict[str, dict[str, dict]]:
        by_kind: dict[str, dict[str, dict]] = defaultdict(dict)
        for alert in Alert.objects.filter(state__in=LIVE_STATES).values(
            "kind", "fingerprint", "organization_id", "rule_id", "station_id", "details",
            "last_seen_at",
        ):  # fmt: skip
            by_kind[alert["kind"]][alert["fingerprint"]] = alert
        return by_kind

    @cached_property
    def windows(self) -> list[MaintenanceWindow]:
        return list(MaintenanceWindow.objects.filter(starts_at__lte=self.now, ends_at__gt=self.now))

    @cached_property
    def sessions(self) -> list[dict]:
        """The active sessions with what the session checks and the capacity check need."""
        last_reading = (
            MeterValue.objects.filter(session=OuterRef("pk"))
            .order_by("-timestamp")
            .values("timestamp")[:1]
        )
        return list(
            ChargingSession.objects.filter(state=SessionState.ACTIVE)
            .annotate(last_reading=Subquery(last_reading))
            .values(
                "pk",
                "organization_id",
                "station_id",
                "station__site_id",
                "connector_id",
                "start",
                "meter_start",
                "energy_wh",
                "last_power_w",
                "charging_state",
                "connector__status",
                "connector__status_at",
                "last_reading",
            )
        )

    def in_maintenance(self, station: _Station) -> bool:
        return any(window.covers(station) for window in self.windows)

    def rule(self, kind: str, station: _Station | None = None, site_id=None, org=None):
        """The most specific enabled rule of `kind` for a station (or a site), or None."""
        org = station.organization_id if station is not None else org
        rules = self.rules.get(kind, {}).get(org)
        if not rules:
            return None
        return services.matching_rule(rules, station=station, site_id=site_id)

    def settle(self, kind: str, holding: set[str], openable: list[Condition]) -> int:
        """Open what holds and has no live alert; resolve live alerts whose condition is over."""
        live = self.live.get(kind, {})
        raised = _raise([c for c in openable if c.fingerprint not in live], self.now)
        cleared = _resolve([p for p in live if p not in holding], now=self.now)
        return len(raised) + len(cleared)


def _check_offline(sweep: _Sweep) -> int:
    kind = RuleKind.STATION_OFFLINE
    went_offline = (
        ConnectionEvent.objects.filter(station=OuterRef("pk"), state=ConnectionState.OFFLINE)
        .order_by("-at")
        .values("at")[:1]
    )
    rows = (
        ChargingStation.objects.filter(
            organization__isnull=False, connection_state=ConnectionState.OFFLINE
        )
        .annotate(offline_at=Subquery(went_offline))
        .values_list("pk", "organization_id", "site_id", "offline_at", "last_seen")
    )
    holding, openable = set(), []
    for pk, org, site_id, offline_at, last_seen in rows:
        since = offline_at or last_seen
        # Never seen: a station being installed is not "offline".
        if since is None:
            continue
        subject = f"station:{pk}"
        holding.add(services.fingerprint(kind, subject, org))
        station = _Station(pk, org, site_id)
        rule = sweep.rule(kind, station)
        if rule is None or since > sweep.now - timedelta(minutes=rule.delay_minutes):
            continue
        if sweep.in_maintenance(station):
            continue
        openable.append(
            Condition(
                kind=kind,
                subject=subject,
                organization_id=org,
                rule=rule,
                site_id=site_id,
                station_id=pk,
                details={"offline_since": since.isoformat()},
            )
        )
    return sweep.settle(kind, holding, openable)


def _check_faults(sweep: _Sweep) -> int:
    """Faults that lasted a delayed rule's time open; faults over clear (the subscribers' net)."""
    kind = RuleKind.CONNECTOR_FAULTED
    connectors = Connector.objects.filter(
        status=FAULTED, station__organization__isnull=False
    ).values_list(
        "pk",
        "station_id",
        "station__organization_id",
        "station__site_id",
        "status_at",
        "error_code",
        "vendor_error_code",
    )
    stations = ChargingStation.objects.filter(
        status=FAULTED, organization__isnull=False
    ).values_list(
        "pk", "id", "organization_id", "site_id", "status_at", "error_code", "vendor_error_code"
    )
    holding, openable = set(), []
    for what, rows in (("connector", connectors), ("station", stations)):
        for pk, station_id, org, site_id, status_at, code, vendor_code in rows:
            subject = f"{what}:{pk}"
            holding.add(services.fingerprint(kind, subject, org))
            station = _Station(station_id, org, site_id)
            rule = sweep.rule(kind, station)
            if rule is None or not _codes_match(rule, code, vendor_code):
                continue
            since = status_at or sweep.now
            if since > sweep.now - timedelta(minutes=rule.delay_minutes):
                continue
            if sweep.in_maintenance(station):
                continue
            openable.append(
                Condition(
                    kind=kind,
                    subject=subject,
                    organization_id=org,
                    rule=rule,
                    site_id=site_id,
                    station_id=station_id,
                    connector_id=pk if what == "connector" else None,
                    details={
                        "status": FAULTED.value,
                        "error_code": code,
                        "vendor_error_code": vendor_code,
                    },
                )
            )
    return sweep.settle(kind, holding, openable)


def _session_condition(kind, session: dict, rule: AlertRule, details: dict) -> Condition:
    return Condition(
        kind=kind,
        subject=f"session:{session['pk']}",
        organization_id=session["organization_id"],
        rule=rule,
        site_id=session["station__site_id"],
        station_id=session["station_id"],
        connector_id=session["connector_id"],
        session_id=session["pk"],
        details=details,
    )


def _session_station(session: dict) -> _Station:
    return _Station(session["station_id"], session["organization_id"], session["station__site_id"])


def _check_stuck(sweep: _Sweep) -> int:
    """Active sessions without a reading for the rule's time, or running longer than its hours."""
    kind = RuleKind.SESSION_STUCK
    holding, openable = set(), []
    for session in sweep.sessions:
        rule = sweep.rule(kind, _session_station(session))
        params = rule or _fallback(kind)
        quiet_since = session["last_reading"] or session["start"]
        reasons = []
        # 0 minutes switches the check off: every session is "without a reading" at its start.
        if params.delay_minutes and quiet_since <= sweep.now - timedelta(
            minutes=params.delay_minutes
        ):
            reasons.append("no_readings")
        if params.max_session_hours and session["start"] <= sweep.now - timedelta(
            hours=params.max_session_hours
        ):
            reasons.append("too_long")
        if not reasons:
            continue
        condition = _session_condition(
            kind,
            session,
            rule,
            {
                "reasons": reasons,
                "last_reading": session["last_reading"].isoformat()
                if session["last_reading"]
                else None,
                "started": session["start"].isoformat(),
            },
        )
        holding.add(condition.fingerprint)
        if rule is not None:
            openable.append(condition)
    return sweep.settle(kind, holding, openable)


def _register_advanced(rows: list[tuple], before_at: datetime | None, meter_start: int) -> bool:
    """Whether a session's energy register rose after the cutoff (rows: that reading and later)."""
    # Compared per (phase, location, unit) as the meter sends them, never across: a per-phase
    # register and a total are different numbers. The reading at the cutoff is the baseline.
    groups: dict[tuple, dict] = {}
    for timestamp, phase, location, unit, value in rows:
        if value is None or location == "EV":
            continue
        group = groups.setdefault((phase, location, unit), {"before": None, "after": []})
        if before_at is not None and timestamp == before_at:
            group["before"] = value
        else:
            group["after"].append(value)
    for (phase, _location, unit), group in groups.items():
        after = group["after"]
        if not after:
            continue
        top = max(after)
        if group["before"] is not None:
            if top > group["before"]:
                return True
            continue
        # No reading before the cutoff: the first ones show whether it moved since the start.
        in_wh = top * (1000 if unit == "kWh" else 1)
        if top > min(after) or (not phase and in_wh > meter_start):
            return True
    return False


def _check_meter_silent(sweep: _Sweep) -> int:
    """Sessions charging for the rule's time whose energy register has not moved meanwhile."""
    kind = RuleKind.METER_SILENT
    by_cutoff: dict[datetime, list[tuple[dict, AlertRule | None]]] = defaultdict(list)
    for session in sweep.sessions:
        charging = (
            session["connector__status"] == ConnectorStatus.CHARGING
            or session["charging_state"] == "Charging"
        )
        if not charging:
            continue
        rule = sweep.rule(kind, _session_station(session))
        params = rule or _fallback(kind)
        if not params.delay_minutes:
            continue
        cutoff = sweep.now - timedelta(minutes=params.delay_minutes)
        changed_at = session["connector__status_at"]
        # Charging for less than the delay (or the session is younger): too early to say.
        if session["start"] > cutoff or (changed_at is not None and changed_at > cutoff):
            continue
        by_cutoff[cutoff].append((session, rule))
    holding, openable = set(), []
    for cutoff, sessions in by_cutoff.items():
        for start in range(0, len(sessions), CHUNK):
            chunk = sessions[start : start + CHUNK]
            for session, rule, details in _silent_sessions(chunk, cutoff):
                condition = _session_condition(kind, session, rule, details)
                holding.add(condition.fingerprint)
                if rule is not None and not sweep.in_maintenance(_session_station(session)):
                    openable.append(condition)
    return sweep.settle(kind, holding, openable)


def _silent_sessions(chunk: list[tuple[dict, AlertRule | None]], cutoff: datetime):
    """The sessions of the chunk whose register did not move after `cutoff` (2 queries)."""
    ids = [session["pk"] for session, _ in chunk]
    before = dict(
        ChargingSession.objects.filter(pk__in=ids)
        .annotate(
            before_at=Subquery(
                MeterValue.objects.filter(
                    session=OuterRef("pk"), measurand=ENERGY_REGISTER, timestamp__lte=cutoff
                )
                .order_by("-timestamp")
                .values("timestamp")[:1]
            )
        )
        .values_list("pk", "before_at")
    )
    which = Q(session_id__in=ids, timestamp__gt=cutoff)
    for pk, at in before.items():
        if at is not None:
            which |= Q(session_id=pk, timestamp=at)
    rows: dict[int, list[tuple]] = defaultdict(list)
    for session_id, *row in MeterValue.objects.filter(which, measurand=ENERGY_REGISTER).values_list(
        "session_id", "timestamp", "phase", "location", "unit", "value"
    ):
        rows[session_id].append(tuple(row))
    for session, rule in chunk:
        before_at = before.get(session["pk"])
        if _register_advanced(rows[session["pk"]], before_at, session["meter_start"]):
            continue
        yield (
            session,
            rule,
            {
                "energy_wh": session["energy_wh"],
                "since": (before_at or session["start"]).isoformat(),
            },
        )


def _check_start_failures(sweep: _Sweep) -> int:
    """Remote starts refused, unanswered, or accepted without a session in the rule's time."""
    kind = RuleKind.START_FAILED
    since = sweep.now - START_LOOKBACK
    later = ChargingSession.objects.filter(
        station_id=OuterRef("station_id"), created__gte=OuterRef("created_at")
    )
    starts = (
        RemoteStart.objects.filter(created_at__gte=since, station__organization__isnull=False)
        .filter(
            Q(status__in=[RemoteStartStatus.REJECTED, RemoteStartStatus.FAILED])
            | Q(status=RemoteStartStatus.ACCEPTED, session__isnull=True)
        )
        .annotate(
            station_later=Exists(later),
            connector_later=Exists(later.filter(connector_id=OuterRef("connector_id"))),
        )
        .values(
            "pk",
            "station_id",
            "station__organization_id",
            "station__site_id",
            "connector_id",
            "status",
            "created_at",
            "station_later",
            "connector_later",
        )
        .order_by("created_at", "pk")
    )
    failed: dict[str, dict] = {}
    for start in starts:
        # A session at the connector (or the station, for a start on any connector) since then:
        # charging works there, whatever became of this request.
        if start["connector_later"] if start["connector_id"] else start["station_later"]:
            continue
        station = _Station(
            start["station_id"], start["station__organization_id"], start["station__site_id"]
        )
        rule = sweep.rule(kind, station)
        if rule is None:
            continue
        timeout = timedelta(seconds=rule.start_timeout_seconds)
        if (
            start["status"] == RemoteStartStatus.ACCEPTED
            and start["created_at"] > sweep.now - timeout
        ):
            continue
        subject = (
            f"connector:{start['connector_id']}"
            if start["connector_id"]
            else f"station:{start['station_id']}"
        )
        entry = failed.setdefault(
            subject,
            {"station": station, "rule": rule, "connector_id": start["connector_id"], "ids": []},
        )
        entry["ids"].append(start["pk"])
        entry["status"] = start["status"]
    live = sweep.live.get(kind, {})
    conditions = []
    for subject, entry in failed.items():
        station = entry["station"]
        condition = Condition(
            kind=kind,
            subject=subject,
            organization_id=station.organization_id,
            rule=entry["rule"],
            site_id=station.site_id,
            station_id=station.pk,
            connector_id=entry["connector_id"],
            details={"remote_start_ids": entry["ids"][-50:], "status": entry["status"]},
        )
        counted = set(
            (live.get(condition.fingerprint) or {}).get("details", {}).get("remote_start_ids", ())
        )
        alive = condition.fingerprint in live
        new = [pk for pk in entry["ids"] if pk not in counted]
        # Each failed start counts once: the sweep sees it every minute for an hour.
        if alive and not new:
            continue
        if alive:
            ids = sorted(counted | set(entry["ids"]))[-50:]
            condition = replace(
                condition, details={"remote_start_ids": ids, "status": entry["status"]}
            )
        conditions.append(condition)
    # Cleared by the next session at the station (clear_started_sessions), not by the clock.
    return len(_raise(conditions, sweep.now))


def _check_authorization_failures(sweep: _Sweep) -> int:
    """Clear failed-authorization alerts whose window now holds fewer failures than the rule's."""
    kind = RuleKind.AUTHORIZATION_FAILURES
    over = []
    for fingerprint, alert in sweep.live.get(kind, {}).items():
        rule = sweep.rules_by_id.get(alert["rule_id"]) or _fallback(kind)
        if alert["station_id"] is None:
            over.append(fingerprint)
            continue
        count = _failures_in_window(alert["station_id"], sweep.now, rule.window_minutes)
        if count < rule.failure_count:
            over.append(fingerprint)
    return len(_resolve(over, now=sweep.now))


def _check_capacity(sweep: _Sweep) -> int:
    """Sites whose running sessions draw more than the site's grid capacity."""
    kind = RuleKind.SITE_OVER_CAPACITY
    drawn_w: dict[int, int] = defaultdict(int)
    for session in sweep.sessions:
        if session["station__site_id"] and session["last_power_w"]:
            drawn_w[session["station__site_id"]] += max(session["last_power_w"], 0)
    holding, openable, under = set(), [], []
    sites = Site.objects.filter(grid_capacity_kw__isnull=False).values_list(
        "pk", "organization_id", "grid_capacity_kw"
    )
    for site_id, org, capacity_kw in sites:
        drawn_kw = drawn_w.get(site_id, 0) / 1000
        if drawn_kw <= float(capacity_kw):
            under.append(f"alerts:over:{site_id}")
            continue
        subject = f"site:{site_id}"
        holding.add(services.fingerprint(kind, subject, org))
        rule = sweep.rule(kind, site_id=site_id, org=org)
        if rule is None or not _over_long_enough(site_id, rule, sweep.now):
            continue
        openable.append(
            Condition(
                kind=kind,
                subject=subject,
                organization_id=org,
                rule=rule,
                site_id=site_id,
                details={"drawn_kw": round(drawn_kw, 1), "capacity_kw": float(capacity_kw)},
            )
        )
    if under:
        try:
            cache.delete_many(under)
        except Exception:
            logger.warning("capacity marks not reset (cache away)", exc_info=True)
    return sweep.settle(kind, holding, openable)


def _over_long_enough(site_id: int, rule: AlertRule, now: datetime) -> bool:
    """Whether the site has been over its capacity for the rule's delay (a mark in the cache)."""
    if not rule.delay_minutes:
        return True
    key = f"alerts:over:{site_id}"
    try:
        cache.add(key, now.timestamp(), timeout=GUARD_SECONDS)
        since = cache.get(key, now.timestamp())
    except Exception:
        return True
    return now.timestamp() - since >= rule.delay_minutes * 60


def _check_platform_identities(sweep: _Sweep) -> int:
    """Platform alerts of unknown identities that stopped knocking a day ago resolve."""
    quiet = [
        fingerprint
        for fingerprint, alert in sweep.live.get(RuleKind.STATION_REJECTED, {}).items()
        if alert["organization_id"] is None and alert["last_seen_at"] <= sweep.now - IDENTITY_QUIET
    ]
    return len(_resolve(quiet, now=sweep.now))


CHECKS = (
    _check_offline,
    _check_faults,
    _check_stuck,
    _check_meter_silent,
    _check_start_failures,
    _check_authorization_failures,
    _check_capacity,
    _check_platform_identities,
)


def evaluate_time_rules(now: datetime | None = None) -> int:
    """Check the rules that need a clock (offline, stuck, silent, start failures, capacity)."""
    sweep = _Sweep(now or timezone.now())
    changed = 0
    for check in CHECKS:
        try:
            changed += check(sweep)
        except Exception:
            # One broken check must not stop the others (nor the escalation after them).
            logger.exception("alert check %s failed", check.__name__)
    _renew_marks(sweep)
    return changed


def _renew_marks(sweep: _Sweep) -> None:
    """Rewrite the cache marks from the live alerts as they stand after the checks."""
    live = list(
        Alert.objects.filter(state__in=LIVE_STATES).values_list(
            "kind", "organization_id", "fingerprint"
        )
    )
    _mark_live((kind, org) for kind, org, _ in live)
    # Every organization watching faults gets its exact set, an empty one included: a subject
    # left over from a lost update must not cost a task per report for long.
    faults = {org: set() for org in sweep.rules.get(RuleKind.CONNECTOR_FAULTED, {})}
    for kind, org, fingerprint in live:
        if kind == RuleKind.CONNECTOR_FAULTED and org:
            faults.setdefault(org, set()).add(_fault_subject(fingerprint))
    if not faults:
        return
    try:
        cache.set_many(
            {_faults_key(org): subjects for org, subjects in faults.items()}, GUARD_SECONDS
        )
    except Exception:
        logger.warning("fault marks not renewed (cache away)", exc_info=True)
        return
    _remember_marks(faults)
