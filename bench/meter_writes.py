"""What skipping retransmitted meter values costs the meter-value write path, against plain COPY.

Run: `.venv/bin/python -m bench.meter_writes` (SQLite) or with DATABASE_URL set (PostgreSQL).
Creates and drops a throwaway test database. Each batch is what one database-worker batch
writes: `--messages` MeterValues messages (500, the worker's MAX_BATCH), one per station in a
transaction, with the gateway's ten sampled values each, in one transaction with its commit.
Four variants, interleaved batch by batch on the same rows (only the timestamps move on):
- before: `core.bulk.insert_rows` into a copy of the meter-value table as it was before the
  unique constraint (same columns, foreign keys and indexes);
- `insert_rows` into the meter-value table with its unique constraint;
- `core.bulk.insert_rows_ignoring_conflicts`, every row new (what the service does now);
- `insert_rows_ignoring_conflicts` of a batch written already: a retransmission, all conflicts.
"""

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")

import django

django.setup()

from django.db import connection, models, transaction  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

from core.bulk import insert_rows, insert_rows_ignoring_conflicts  # noqa: E402
from sessions_app.models import MeterValue  # noqa: E402
from sessions_app.services import METER_COLUMNS  # noqa: E402

START = datetime(2026, 1, 16, 18, 0, tzinfo=UTC)
# The ten sampled values of the load generator's MeterValues (bench/frames.py), as the
# gateway turns them into rows: measurand, phase, unit, location, value.
SAMPLES = [
    ("Energy.Active.Import.Register", "", "Wh", "Outlet", None),
    ("Power.Active.Import", "", "W", "Outlet", Decimal("11040")),
    ("Current.Import", "L1", "A", "Outlet", Decimal("16.0")),
    ("Current.Import", "L2", "A", "Outlet", Decimal("15.9")),
    ("Current.Import", "L3", "A", "Outlet", Decimal("16.1")),
    ("Voltage", "L1-N", "V", "Outlet", Decimal("230.1")),
    ("Voltage", "L2-N", "V", "Outlet", Decimal("229.8")),
    ("Voltage", "L3-N", "V", "Outlet", Decimal("231.0")),
    ("SoC", "", "Percent", "EV", Decimal("57")),
    ("Temperature", "", "Celsius", "Body", Decimal("31.5")),
]
VARIANTS = {
    "before": "before: `insert_rows` (COPY / bulk_create), no unique constraint",
    "plain": "`insert_rows` into the table with the unique constraint",
    "new": "now: `insert_rows_ignoring_conflicts`, all rows new",
    "retransmitted": "now: `insert_rows_ignoring_conflicts`, all rows stored already",
}


def before_model() -> type[models.Model]:
    """MeterValue before the unique constraint: same columns, foreign keys and indexes."""
    attrs = {"__module__": __name__}
    for field in MeterValue._meta.local_fields:
        if field.primary_key:
            continue
        if field.is_relation:
            attrs[field.name] = models.ForeignKey(
                field.related_model, on_delete=models.CASCADE, null=field.null, related_name="+"
            )
        else:
            attrs[field.name] = field.clone()
    attrs["Meta"] = type(
        "Meta",
        (),
        {
            "app_label": "sessions_app",
            "db_table": "bench_metervalue_before",
            "indexes": [
                models.Index(fields=["session", "timestamp"], name="bench_before_session_time"),
                models.Index(fields=["station", "timestamp"], name="bench_before_station_time"),
            ],
        },
    )
    model = type("BenchMeterValueBefore", (models.Model,), attrs)
    with connection.schema_editor() as editor:
        editor.create_model(model)
    return model


def build(messages: int) -> list[tuple[int, int]]:
    """One station per message, each in a running session: (station id, session id) pairs."""
    from cards.models import IdToken
    from organizations.models import Organization
    from sessions_app.models import ChargingSession
    from stations.models import ChargingStation, Connector, Site

    org = Organization.objects.create(name="Bench meter", slug="bench-meter")
    site = Site.objects.create(organization=org, name="Site")
    stations = ChargingStation.objects.bulk_create(
        ChargingStation(organization=org, site=site, ocpp_id=f"METER-{n:05d}")
        for n in range(messages)
    )
    connectors = Connector.objects.bulk_create(
        Connector(station=station, connector_id=1) for station in stations
    )
    card = IdToken.objects.create(organization=org, uid="04METER01")
    sessions = ChargingSession.objects.bulk_create(
        ChargingSession(
            organization=org,
            station=station,
            connector=connector,
            id_token=card,
            id_tag=card.uid,
            transaction_id=str(n),
            start=START,
            meter_start=0,
        )
        for n, (station, connector) in enumerate(zip(stations, connectors, strict=True))
    )
    return [(session.station_id, session.pk) for session in sessions]


def batch_rows(pairs: list[tuple[int, int]], minute: int) -> list[tuple]:
    """One MeterValues message per station at START + `minute`, in METER_COLUMNS order."""
    timestamp = START + timedelta(minutes=minute)
    energy = Decimal(minute * 180)
    samples = [
        (measurand, phase, unit, "Sample.Periodic", location, energy if value is None else value)
        for measurand, phase, unit, location, value in SAMPLES
    ]
    return [
        (station_id, session_id, 1, timestamp, measurand, phase, unit, context, location, value, "")
        for station_id, session_id in pairs
        for measurand, phase, unit, context, location, value in samples
    ]


def timed(write, model, rows) -> float:
    """Seconds for one batch in one transaction, commit included, as the database worker does."""
    started = time.perf_counter()
    with transaction.atomic():
        write(model, METER_COLUMNS, rows)
    return time.perf_counter() - started


def measure(pairs, before, batches: int, repeat: int) -> dict[str, list[list[float]]]:
    """Per variant, per repetition, the seconds of each batch; variants alternate per batch."""
    minute = 0
    # Warm-up: connections, the staging table, query compilation.
    for write, model in ((insert_rows, before), (insert_rows, MeterValue)):
        timed(write, model, batch_rows(pairs, minute := minute + 1))
    rows = batch_rows(pairs, minute := minute + 1)
    timed(insert_rows_ignoring_conflicts, MeterValue, rows)
    timed(insert_rows_ignoring_conflicts, MeterValue, rows)
    seconds = {name: [] for name in VARIANTS}
    for _ in range(repeat):
        for timings in seconds.values():
            timings.append([])
        for _ in range(batches):
            # Same rows for every variant but the timestamps, built before the clock starts.
            fresh = [batch_rows(pairs, minute := minute + 1) for _ in range(3)]
            seconds["before"][-1].append(timed(insert_rows, before, fresh[0]))
            seconds["plain"][-1].append(timed(insert_rows, MeterValue, fresh[1]))
            seconds["new"][-1].append(timed(insert_rows_ignoring_conflicts, MeterValue, fresh[2]))
            seconds["retransmitted"][-1].append(
                timed(insert_rows_ignoring_conflicts, MeterValue, fresh[2])
            )
    return seconds


def check(pairs, before, seconds) -> None:
    """Every batch is stored exactly once: the retransmissions added no row."""
    batches = sum(len(timings) for timings in seconds["new"])
    per_batch = len(pairs) * len(SAMPLES)
    # Warm-up: one batch into the copy, two into the meter-value table (plain and new).
    assert before.objects.count() == (1 + batches) * per_batch
    assert MeterValue.objects.count() == (2 + 2 * batches) * per_batch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500, help="MeterValues per batch")
    parser.add_argument("--batches", type=int, default=8, help="batches per variant and repetition")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (min and median)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        before = before_model()
        pairs = build(args.messages)
        seconds = measure(pairs, before, args.batches, args.repeat)
        check(pairs, before, seconds)
        rows = args.messages * len(SAMPLES)
        version = f" {connection.pg_version // 10000}" if connection.vendor == "postgresql" else ""
        print(f"database: {connection.vendor}{version}; batches of {args.messages} MeterValues "
              f"× {len(SAMPLES)} sampled values = {rows:,} rows, one transaction each; "
              f"{args.batches} batches per variant × {args.repeat} repetitions")  # fmt: skip
        print("ms / batch: min and median over the repetitions of each one's median batch\n")
        print("| variant | ms / batch, min | ms / batch, median | rows / s | ratio |")
        print("|---|---:|---:|---:|---:|")
        medians = {
            name: [statistics.median(timings) for timings in runs] for name, runs in seconds.items()
        }
        base = statistics.median(medians["before"])
        for name, label in VARIANTS.items():
            median = statistics.median(medians[name])
            print(f"| {label} | {min(medians[name]) * 1000:.1f} | {median * 1000:.1f} | "
                  f"{rows / median:,.0f} | {median / base:.2f} |")  # fmt: skip
    finally:
        teardown_databases(databases, verbosity=0)
    print(f"\n(load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
          f"{time.perf_counter() - began:.1f} s in all)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
