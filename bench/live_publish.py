"""What live portal updates cost the status-notification write path, against the same path without.

Run: `.venv/bin/python -m bench.live_publish` (embedded defaults) or with DATABASE_URL and
REDIS_URL set (PostgreSQL + Redis pub/sub). Creates and drops a throwaway test database.
"""

import argparse
import asyncio
import os
import statistics
import threading
import time
from contextlib import contextmanager

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")

import django

django.setup()

from channels.layers import InMemoryChannelLayer, get_channel_layer  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

from core.live import bind_serving_loop  # noqa: E402


def build(stations: int):
    from organizations.models import Organization
    from stations.models import ChargingStation, Connector

    org = Organization.objects.create(name="Bench live", slug="bench-live")
    rows = ChargingStation.objects.bulk_create(
        ChargingStation(organization=org, ocpp_id=f"LIVE-{n:05d}") for n in range(stations)
    )
    Connector.objects.bulk_create(
        Connector(station=station, connector_id=number) for station in rows for number in (1, 2)
    )
    return org, rows


def batch(stations, round_number: int):
    from stations.services import StatusReport

    status = ("Charging", "Available")[round_number % 2]
    return [StatusReport(station, number, status) for station in stations for number in (1, 2)]


def measure(stations, rounds: int, live: bool) -> list[float]:
    from stations import services

    timings = []
    for n in range(rounds):
        reports = batch(stations, n)
        with _nothing() if live else _unsubscribed():
            started = time.perf_counter()
            services.record_status_reports(reports)
            timings.append(time.perf_counter() - started)
    return timings


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


@contextmanager
def _unsubscribed():
    """The portal's status subscriber off: the write emits to nobody (no event is built)."""
    from core import events
    from portal.events import show_statuses
    from stations.events import STATION_STATUS_CHANGED

    events.unsubscribe(STATION_STATUS_CHANGED, show_statuses)
    try:
        yield
    finally:
        events.subscribe(STATION_STATUS_CHANGED, show_statuses)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stations", type=int, default=250, help="stations per batch (2 reports each)"
    )
    parser.add_argument("--rounds", type=int, default=40, help="batches per variant")
    args = parser.parse_args(argv)
    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        org, stations = build(args.stations)
        layer = get_channel_layer()
        # As in the server: events leave through the loop that serves the sockets, so the
        # writer only schedules them.
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()
        bind_serving_loop(loop)
        if isinstance(layer, InMemoryChannelLayer):
            # One open portal page of the organization, so every event is really queued.
            asyncio.run_coroutine_threadsafe(
                layer.group_add(f"portal.org.{org.pk}", "bench-page"), loop
            ).result()
        measure(stations, 4, live=True)  # warm-up: connections, caches, first queries
        with_live, without = [], []
        # Interleaved, so drift of the machine hits both variants alike.
        for _ in range(args.rounds):
            without += measure(stations, 1, live=False)
            with_live += measure(stations, 1, live=True)
        reports = args.stations * 2
        base, live = statistics.median(without), statistics.median(with_live)
        print(f"database: {connection.vendor}; channel layer: {type(layer).__name__}")
        print(f"batch: {reports} status reports; {args.rounds} batches per variant\n")
        print("| variant | median ms / batch | µs / report | ratio |")
        print("|---|---:|---:|---:|")
        for name, value in (("without live updates (baseline)", base), ("with live updates", live)):
            per_report = value / reports * 1e6
            print(f"| {name} | {value * 1000:.1f} | {per_report:.1f} | {value / base:.2f} |")
    finally:
        teardown_databases(databases, verbosity=0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
