"""What rating a finished session costs: a time-of-use tariff on 100 readings against a flat one.

Run: `.venv/bin/python -m bench.rate_sessions` (SQLite) or with DATABASE_URL set (PostgreSQL).
Creates and drops a throwaway test database. Two parts, both against a baseline in the same run:
- `billing.services.rate_session` per session, in the database: (a) baseline, one ENERGY element
  and a session with its start and stop readings only; (b) four elements with clock, duration
  and energy restrictions and 100 energy readings per session. Batches of the two alternate.
- `billing.engine.price_session` alone on a 24-hour session with a reading every minute
  (1,440), with the same two tariffs, and the baseline tariff without readings.
"""

import argparse
import os
import statistics
import time
import timeit
from datetime import UTC, datetime, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

FLAT_ENERGY = [{"price_components": [{"type": "ENERGY", "price": "0.39"}]}]
TIME_OF_USE = [
    {
        "price_components": [{"type": "ENERGY", "price": "0.29"}],
        "restrictions": {"start_time": "22:00", "end_time": "06:00"},
    },
    {
        "price_components": [{"type": "ENERGY", "price": "0.59"}],
        "restrictions": {"min_kwh": "40", "day_of_week": ["SATURDAY", "SUNDAY"]},
    },
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.39"},
            {"type": "FLAT", "price": "0.49"},
            {"type": "TIME", "price": "1.20", "step_size": 60},
        ]
    },
    {
        "price_components": [{"type": "PARKING_TIME", "price": "6.00", "step_size": 60}],
        "restrictions": {"min_duration": 4 * 3600},
    },
]
START = datetime(2026, 1, 16, 18, 0, tzinfo=UTC)
SESSION = timedelta(hours=5)
READINGS = 100


def build(name: str, elements: list, sessions: int, readings: int) -> list[int]:
    """An organization whose default tariff has `elements`, and its finished sessions' ids."""
    from billing.models import Tariff, TariffAssignment
    from cards.models import AccessGroup, IdToken
    from organizations.models import Organization
    from sessions_app.choices import SessionState
    from sessions_app.models import ChargingSession, MeterValue
    from stations.models import ChargingStation, Connector, Site

    org = Organization.objects.create(name=f"Bench {name}", slug=f"bench-rate-{name}")
    site = Site.objects.create(organization=org, name="Site")
    station = ChargingStation.objects.create(organization=org, site=site, ocpp_id=f"RATE-{name}")
    connector = Connector.objects.create(station=station, connector_id=1)
    card = IdToken.objects.create(organization=org, uid=f"04{name.upper()}01")
    # A priced access group the card is not in: the lookup considers it, as in real use.
    AccessGroup.objects.create(organization=org, name="Fleet")
    tariff = Tariff.objects.create(organization=org, name=name, elements=elements, tax_rate=19)
    TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
    energy_wh = 45_000
    rows = ChargingSession.objects.bulk_create(
        ChargingSession(
            organization=org,
            station=station,
            connector=connector,
            id_token=card,
            id_tag=card.uid,
            transaction_id=f"{name}-{n}",
            start=START + timedelta(minutes=n),
            stop=START + timedelta(minutes=n) + SESSION,
            meter_start=0,
            meter_stop=energy_wh,
            energy_wh=energy_wh,
            state=SessionState.COMPLETED,
        )
        for n in range(sessions)
    )
    step = SESSION / (readings + 1)
    MeterValue.objects.bulk_create(
        (
            MeterValue(
                station=station,
                session=session,
                connector_number=1,
                timestamp=session.start + step * k,
                # Charging for the first 80 % of the time, then standing.
                value=min(energy_wh, round(energy_wh * k / (readings * 0.8))),
            )
            for session in rows
            for k in range(1, readings + 1)
        ),
        batch_size=5000,
    )
    return [session.pk for session in rows]


def rate_batch(session_ids: list[int]) -> float:
    """Seconds to rate these sessions one after the other, as the task does."""
    from billing.services import rate_session

    started = time.perf_counter()
    for session_id in session_ids:
        rate_session(session_id)
    return time.perf_counter() - started


def database_part(sessions: int, batch: int) -> list[tuple[str, float]]:
    baseline = build("flat", FLAT_ENERGY, sessions + batch, 0)
    tou = build("tou", TIME_OF_USE, sessions + batch, READINGS)
    # Warm-up: connections, query compilation, imports.
    rate_batch(baseline[:batch])
    rate_batch(tou[:batch])
    per_session = {"flat": [], "tou": []}
    # Interleaved, so drift of the machine hits both variants alike.
    for start in range(batch, sessions + batch, batch):
        per_session["flat"].append(rate_batch(baseline[start : start + batch]) / batch)
        per_session["tou"].append(rate_batch(tou[start : start + batch]) / batch)
    return [(name, statistics.median(values)) for name, values in per_session.items()]


def engine_part(repeat: int) -> list[tuple[str, float]]:
    from billing.engine import TariffDefinition, Usage, parse_elements, price_session

    start = START
    day = timedelta(hours=24)
    readings = tuple((start + timedelta(minutes=m), min(60_000, m * 60)) for m in range(1, 24 * 60))
    with_readings = Usage(start, start + day, 0, 60_000, readings, "Europe/Berlin")
    bare = Usage(start, start + day, 0, 60_000, (), "Europe/Berlin")
    flat = TariffDefinition("EUR", 19, parse_elements(FLAT_ENERGY))
    tou = TariffDefinition("EUR", 19, parse_elements(TIME_OF_USE))
    cases = [
        ("flat tariff, no readings", flat, bare),
        ("flat tariff, 1,440 readings", flat, with_readings),
        ("time-of-use tariff, 1,440 readings", tou, with_readings),
    ]
    results = []
    for name, definition, usage in cases:
        timer = timeit.Timer(lambda d=definition, u=usage: price_session(d, u))
        runs, _ = timer.autorange()
        best = min(timer.repeat(repeat=repeat, number=runs)) / runs
        results.append((name, best))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=300, help="rated sessions per variant")
    parser.add_argument("--batch", type=int, default=20, help="sessions per timed batch")
    parser.add_argument("--repeat", type=int, default=5, help="engine timings, best of")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        rows = database_part(args.sessions, args.batch)
        print(f"database: {connection.vendor}; {args.sessions} sessions per variant, "
              f"batches of {args.batch}, medians\n")  # fmt: skip
        print("| rate_session | ms / session | sessions / s | ratio |")
        print("|---|---:|---:|---:|")
        base = rows[0][1]
        labels = {
            "flat": "baseline: one ENERGY element, start and stop only",
            "tou": f"time of use: 4 elements with restrictions, {READINGS} readings",
        }
        for name, seconds in rows:
            print(f"| {labels[name]} | {seconds * 1000:.2f} | {1 / seconds:,.0f} | "
                  f"{seconds / base:.2f} |")  # fmt: skip
    finally:
        teardown_databases(databases, verbosity=0)
    engine = engine_part(args.repeat)
    print(f"\nengine alone: price_session on a 24 h session, best of {args.repeat}\n")
    print("| price_session | ms / session | ratio |")
    print("|---|---:|---:|")
    for name, seconds in engine:
        print(f"| {name} | {seconds * 1000:.2f} | {seconds / engine[0][1]:.1f} |")
    print(f"\n({time.perf_counter() - began:.1f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
