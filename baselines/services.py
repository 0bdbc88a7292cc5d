"""Baselines: which apply to a station, how far it drifts from them, and their applications."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from baselines.choices import ResultStatus, RunStatus, RunTrigger
from baselines.events import BASELINE_DRIFT_CLEARED, BASELINE_DRIFT_FOUND, BASELINE_RUN_FINISHED
from baselines.models import (
    ADDRESS_FIELDS,
    BaselineResult,
    BaselineRun,
    BaselineSetting,
    ConfigurationBaseline,
    FirstBoot,
    StationDrift,
)
from baselines.notation import ParsedSetting
from core.events import emit, emit_many
from stations.models import ChargingStation, Mutability, StationVariable

logger = logging.getLogger(__name__)

# Stations whose drift is checked per round of queries (a baseline saved for a large fleet).
CHUNK = 500
# Answers that mean the station took the value (now or after its next reboot).
TAKEN = frozenset({ResultStatus.ACCEPTED, ResultStatus.REBOOT_REQUIRED})


class DriftState:
    """How one setting of a baseline compares with what the station reported."""

    MATCHES = "matches"
    DIFFERS = "differs"
    UNKNOWN = "unknown"  # never reported (or write-only): nothing to compare


@dataclass(frozen=True)
class DriftItem:
    """One setting of a baseline next to the station's stored value."""

    setting: BaselineSetting
    reported: str | None
    reported_at: datetime | None
    last_set_status: str = ""

    @property
    def state(self) -> str:
        """DriftState of the setting."""
        if self.reported is None:
            return DriftState.UNKNOWN
        if values_match(self.setting.value, self.reported):
            return DriftState.MATCHES
        return DriftState.DIFFERS

    @property
    def differs(self) -> bool:
        """Whether the station reported another value than the desired one."""
        return self.state == DriftState.DIFFERS

    def as_dict(self) -> dict:
        """What a drift row keeps of a differing setting."""
        return {
            "key": self.setting.label,
            "desired": self.setting.value,
            "reported": self.reported,
            "reported_at": self.reported_at.isoformat() if self.reported_at else None,
        }


# --- matching ---------------------------------------------------------------------------------


def _normalized(value: str) -> tuple:
    """A value as stations spell it in many ways: true/True, 60/60.0, `a, b`/`a,b`."""
    text = value.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return ("bool", lowered == "true")
    try:
        number = Decimal(text)
    except InvalidOperation:
        pass
    else:
        if number.is_finite():
            return ("number", number)
    if "," in text:
        return ("list", tuple(part.strip() for part in text.split(",")))
    return ("text", text)


def values_match(desired: str, reported: str) -> bool:
    """Whether a reported value is the desired one (booleans, numbers and lists normalized)."""
    return _normalized(desired) == _normalized(reported)


def applies_to(baseline: ConfigurationBaseline, station: ChargingStation) -> bool:
    """Whether the baseline is for the station's organization, vendor and model."""
    return (
        baseline.organization_id == station.organization_id
        and bool(station.vendor)
        and baseline.vendor.lower() == station.vendor.lower()
        and (not baseline.model or baseline.model.lower() == station.model.lower())
    )


def settings_for(settings: Iterable[BaselineSetting], station: ChargingStation) -> list:
    """The settings the station's OCPP version has: 1.6 keys, or 2.0.1 variables."""
    ocpp2 = station.speaks_ocpp2
    return [s for s in settings if s.is_configuration_key != ocpp2]


def baselines_for(station: ChargingStation) -> QuerySet[ConfigurationBaseline]:
    """The baselines of the station's organization for its vendor and model."""
    return ConfigurationBaseline.objects.matching(station).prefetch_related("settings")


def matching_stations(baseline: ConfigurationBaseline) -> QuerySet[ChargingStation]:
    """The stations of the baseline's organization of its vendor (and model)."""
    stations = ChargingStation.objects.for_org(baseline.organization_id).filter(
        vendor__iexact=baseline.vendor
    )
    if baseline.model:
        stations = stations.filter(model__iexact=baseline.model)
    return stations


def with_drift_counts(baselines: QuerySet) -> QuerySet:
    """Baselines annotated with `drifting` (stations that differ) and `setting_count`."""
    return baselines.annotate(
        drifting=Count("drifts", distinct=True), setting_count=Count("settings", distinct=True)
    )


# --- drift ------------------------------------------------------------------------------------


def _variables_of(station_ids: Iterable[int], settings: Iterable[BaselineSetting]) -> dict:
    """Stored variables by (station id, address) for the settings' variable names (1 query)."""
    names = {s.variable for s in settings}
    if not names:
        return {}
    rows = StationVariable.objects.filter(station_id__in=list(station_ids), variable__in=names)
    return {(row.station_id, *(getattr(row, f) for f in ADDRESS_FIELDS)): row for row in rows}


def _item(setting: BaselineSetting, row: StationVariable | None) -> DriftItem:
    if row is None or row.reported_at is None or row.mutability == Mutability.WRITE_ONLY:
        return DriftItem(setting, None, None, row.set_status if row else "")
    return DriftItem(setting, row.value, row.reported_at, row.set_status)


def drift_of(station: ChargingStation, baseline: ConfigurationBaseline) -> list[DriftItem]:
    """Each setting of the baseline for the station's version, beside the stored value."""
    settings = settings_for(baseline.settings.all(), station)
    variables = _variables_of([station.pk], settings)
    return [_item(s, variables.get((station.pk, *s.address_key()))) for s in settings]


def drift_of_stations(baseline: ConfigurationBaseline, stations: list) -> list[tuple]:
    """(station, drift items) for many stations of one baseline (1 query for the values)."""
    per_station = [(s, settings_for(baseline.settings.all(), s)) for s in stations]
    variables = _variables_of([s.pk for s in stations], [x for _, ss in per_station for x in ss])
    return [
        (station, [_item(x, variables.get((station.pk, *x.address_key()))) for x in settings])
        for station, settings in per_station
    ]


def station_drift(station: ChargingStation) -> list[tuple[ConfigurationBaseline, list]]:
    """Every baseline matching the station with its drift items (the station page's panel)."""
    baselines = list(baselines_for(station))
    settings = [s for b in baselines for s in settings_for(b.settings.all(), station)]
    variables = _variables_of([station.pk], settings)
    return [
        (
            baseline,
            [
                _item(s, variables.get((station.pk, *s.address_key())))
                for s in settings_for(baseline.settings.all(), station)
            ],
        )
        for baseline in baselines
    ]


def check_drift(station_ids: Iterable[int]) -> int:
    """Compare the stations with their baselines; announce new and cleared drift. Rows changed."""
    ids = sorted(set(station_ids))
    changed = 0
    for start in range(0, len(ids), CHUNK):
        changed += _check_chunk(ids[start : start + CHUNK])
    return changed


def _check_chunk(ids: list[int]) -> int:
    stations = list(ChargingStation.objects.filter(pk__in=ids, organization__isnull=False))
    existing = {
        (row.baseline_id, row.station_id): row
        for row in StationDrift.objects.filter(station_id__in=ids).select_related("baseline")
    }
    orgs = {s.organization_id for s in stations}
    baselines = (
        list(
            ConfigurationBaseline.objects.filter(
                organization_id__in=orgs, detect_drift=True
            ).prefetch_related("settings")
        )
        if orgs
        else []
    )
    if not baselines and not existing:
        return 0
    pairs = [
        (station, baseline, settings_for(baseline.settings.all(), station))
        for station in stations
        for baseline in baselines
        if applies_to(baseline, station)
    ]
    variables = _variables_of(
        [station.pk for station, _, _ in pairs], [s for _, _, ss in pairs for s in ss]
    )
    now = timezone.now()
    found, cleared, keep = [], [], set()
    creates, updates = [], []
    for station, baseline, settings in pairs:
        items = [_item(s, variables.get((station.pk, *s.address_key()))) for s in settings]
        differing = [item.as_dict() for item in items if item.differs]
        key = (baseline.pk, station.pk)
        row = existing.get(key)
        if not differing:
            continue
        keep.add(key)
        labels = [d["key"] for d in differing]
        if row is None:
            creates.append(StationDrift(baseline=baseline, station=station, keys=differing))
            found.append(_found(station, baseline, labels))
            continue
        if set(labels) - set(row.key_names):
            # A setting differs that did not before: that is news; the same ones again are not.
            found.append(_found(station, baseline, labels))
        row.keys, row.checked_at = differing, now
        updates.append(row)
    gone = [row for key, row in existing.items() if key not in keep]
    cleared = [
        {
            "organization_id": row.baseline.organization_id,
            "station_id": row.station_id,
            "baseline_id": row.baseline_id,
        }
        for row in gone
    ]
    with transaction.atomic():
        StationDrift.objects.bulk_create(creates, ignore_conflicts=True)
        StationDrift.objects.bulk_update(updates, ["keys", "checked_at"])
        StationDrift.objects.filter(pk__in=[row.pk for row in gone]).delete()
        emit_many(BASELINE_DRIFT_FOUND, found)
        emit_many(BASELINE_DRIFT_CLEARED, cleared)
    return len(creates) + len(gone) + len(found)


def _found(station: ChargingStation, baseline: ConfigurationBaseline, labels: list) -> dict:
    return {
        "organization_id": station.organization_id,
        "station_id": station.pk,
        "baseline_id": baseline.pk,
        "keys": labels,
    }


def refresh_baseline(baseline: ConfigurationBaseline) -> int:
    """Check every station the baseline matches or was drifting from (after it changed)."""
    ids = set(matching_stations(baseline).values_list("pk", flat=True))
    ids |= set(StationDrift.objects.filter(baseline=baseline).values_list("station_id", flat=True))
    return check_drift(ids)


# --- writes ----------------------------------------------------------------------------------


def save_baseline(
    baseline: ConfigurationBaseline, settings: list[ParsedSetting] | None, *, user=None
) -> ConfigurationBaseline:
    """Save a baseline and (when given) replace its settings; then re-check drift."""
    with transaction.atomic():
        if baseline.pk is None:
            baseline.created_by = user
        baseline.updated_by = user
        baseline.save()
        if settings is not None:
            baseline.settings.all().delete()
            BaselineSetting.objects.bulk_create(
                BaselineSetting(baseline=baseline, value=s.value, **s.address) for s in settings
            )
    refresh_baseline(baseline)
    return baseline


def delete_baseline(baseline: ConfigurationBaseline) -> None:
    """Delete a baseline; the drift it found clears (its alerts resolve)."""
    with transaction.atomic():
        emit_many(
            BASELINE_DRIFT_CLEARED,
            (
                {
                    "organization_id": baseline.organization_id,
                    "station_id": station_id,
                    "baseline_id": baseline.pk,
                }
                for station_id in baseline.drifts.values_list("station_id", flat=True)
            ),
        )
        baseline.delete()


def drifting_stations(baseline: ConfigurationBaseline) -> QuerySet[ChargingStation]:
    """The stations the baseline matches (organization, vendor, model) that differ from it."""
    # A drift row alone is not enough: its station may have moved to another organization or
    # been re-registered as another model since it was checked.
    return matching_stations(baseline).filter(baseline_drifts__baseline=baseline)


def create_runs(
    baseline: ConfigurationBaseline,
    stations: Iterable[ChargingStation],
    *,
    trigger: str = RunTrigger.MANUAL,
    user=None,
    via: str = "",
) -> list[BaselineRun]:
    """One pending run per station (the gateway sends them)."""
    now = timezone.now()
    return BaselineRun.objects.bulk_create(
        BaselineRun(
            baseline=baseline,
            station=station,
            trigger=trigger,
            requested_by=user,
            requested_via=via,
            created=now,
        )
        for station in stations
    )


def start_run(run: BaselineRun) -> bool:
    """Mark a pending run running; False when another worker took it already."""
    now = timezone.now()
    taken = BaselineRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started=now
    )
    if taken:
        run.status, run.started = RunStatus.RUNNING, now
    return bool(taken)


def overall_status(statuses: list[str]) -> str:
    """A run's status from its settings' answers."""
    if not statuses:
        return RunStatus.NOTHING
    taken = [s for s in statuses if s in TAKEN]
    if len(taken) < len(statuses):
        return RunStatus.PARTIAL if taken else RunStatus.FAILED
    if ResultStatus.REBOOT_REQUIRED in taken:
        return RunStatus.REBOOT_REQUIRED
    return RunStatus.ACCEPTED


def finish_run(
    run: BaselineRun,
    results: list[BaselineResult],
    message: str = "",
    status: str = "",
    *,
    from_status: str = RunStatus.RUNNING,
) -> BaselineRun:
    """Store a run's per-setting results and its outcome (or `status`); announce it, once."""
    new_status = status or overall_status([r.status for r in results])
    finished = timezone.now()
    with transaction.atomic():
        # Conditional: the sweep may have closed the run already (or the sender may finish it
        # while the sweep does): the first one wins, the other is dropped, never announced twice.
        taken = BaselineRun.objects.filter(pk=run.pk, status=from_status).update(
            status=new_status, message=message[:255], finished=finished
        )
        if not taken:
            logger.warning(
                "baseline run %s was no longer %s: its late outcome %s is dropped",
                run.pk,
                from_status,
                new_status,
            )
            run.refresh_from_db(fields=["status", "message", "finished"])
            return run
        for result in results:
            result.run = run
        BaselineResult.objects.bulk_create(results)
        run.status, run.message, run.finished = new_status, message[:255], finished
        emit(
            BASELINE_RUN_FINISHED,
            organization_id=run.baseline.organization_id,
            station_id=run.station_id,
            baseline_id=run.baseline_id,
            run_id=run.pk,
            status=run.status,
        )
    return run


def record_first_boots(events) -> dict[int, int]:
    """Of accepted boots, those first in the station's organization: {station id: org id}."""
    accepted = {
        e["station_id"]: e["organization_id"]
        for e in events
        if e.get("organization_id") is not None and e.get("registration_status") == "Accepted"
    }
    if not accepted:
        return {}
    known = dict(
        FirstBoot.objects.filter(station_id__in=list(accepted)).values_list(
            "station_id", "organization_id"
        )
    )
    first = {pk: org for pk, org in accepted.items() if known.get(pk) != org}
    if not first:
        return {}
    now = timezone.now()
    with transaction.atomic():
        FirstBoot.objects.bulk_create(
            [
                FirstBoot(station_id=pk, organization_id=org, booted_at=now)
                for pk, org in first.items()
                if pk not in known
            ],
            ignore_conflicts=True,
        )
        for pk, org in first.items():
            if pk in known:
                # Moved to another organization: its first boot there.
                FirstBoot.objects.filter(station_id=pk).update(organization_id=org, booted_at=now)
    return first


def first_boot_runs(station_ids: Iterable[int]) -> list[BaselineRun]:
    """Pending runs of every first-boot baseline matching these stations."""
    stations = list(ChargingStation.objects.filter(pk__in=list(station_ids)))
    orgs = {s.organization_id for s in stations if s.organization_id}
    if not orgs:
        return []
    baselines = list(
        ConfigurationBaseline.objects.filter(organization_id__in=orgs, apply_at_first_boot=True)
    )
    runs = []
    for baseline in baselines:
        targets = [s for s in stations if applies_to(baseline, s)]
        if targets:
            runs += create_runs(baseline, targets, trigger=RunTrigger.FIRST_BOOT)
    return runs
