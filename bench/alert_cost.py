"""What alert rules cost the status-notification write path, against the same path without.

Run: `.venv/bin/python -m bench.alert_cost` (SQLite, local-memory cache) or with DATABASE_URL
and REDIS_URL set (PostgreSQL, Redis cache and broker). Creates and drops a throwaway test
database. One organization with the default alert rules, 500 stations with two connectors each
(1,000 connectors); every batch is what one database-worker batch writes: `--reports` status
reports (default 100) on random connectors, through `stations.services.record_status_reports`,
its commit and the subscribers that run after it. Two variants, interleaved batch by batch:

- baseline: alerting's status subscriber (`alerts.subscribers.watch_statuses`) unsubscribed;
- alerting: subscribed. On the write path it only picks the connectors whose fault alerts need
  a look and queues them for `alerts.subscribers.fault_sender`, whose thread sends one
  `alerts.tasks.evaluate_faults` (to Redis with REDIS_URL, else Celery's in-memory transport;
  tasks are not run eagerly here, as in a deployment).

Timed apart, after each alerting batch and outside its clock (the next batch starts once they
are done, so neither variant pays for them): "sender", the publish on the sender's thread, and
"worker", the task's work (opening and resolving alerts with their history, notification and
webhook planning, live counts) as a Celery worker does it, here in the same process.

Other subscribers of station.status_changed (live portal updates, webhook business events) are
unsubscribed in both, so the difference is the rules engine alone. Two scenarios:

- mixed: statuses drawn like a busy fleet's (Available, Preparing, Charging, SuspendedEV,
  Finishing) with `--faulted` of them Faulted (default 1 %); a Faulted connector recovers at its
  next report, so alerts open, count, resolve and reopen all along;
- quiet: no Faulted report and no live alert: what nearly every batch of a healthy fleet costs.
"""

import argparse
import os
import random
import statistics
import time
from contextlib import contextmanager

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

from cms.celery import app as celery_app  # noqa: E402

STATUSES = (
    ("Available", 40),
    ("Preparing", 10),
    ("Charging", 30),
    ("SuspendedEV", 10),
    ("Finishing", 10),
)
ERROR_CODES = ("GroundFailure", "OverCurrentFailure", "HighTemperature", "ConnectorLockFailure")


def build(stations: int):
    """An organization with the default rules, its stations with two connectors each."""
    from alerts.services import install_default_rules
    from organizations.models import Organization
    from stations.models import ChargingStation, Connector, Evse, Site

    org = Organization.objects.create(name="Bench alerts", slug="bench-alerts")
    install_default_rules([org.pk])
    site = Site.objects.create(organization=org, name="Depot")
    rows = ChargingStation.objects.bulk_create(
        ChargingStation(organization=org, site=site, ocpp_id=f"ALERT-{n:05d}")
        for n in range(stations)
    )
    evses = Evse.objects.bulk_create(
        Evse(station=station, evse_number=number) for station in rows for number in (1, 2)
    )
    Connector.objects.bulk_create(
        Connector(station=evse.station, evse=evse, connector_id=evse.evse_number) for evse in evses
    )
    return [(station, number) for station in rows for number in (1, 2)]


def batch(rng: random.Random, connectors, size: int, faulted: float):
    """`size` reports on distinct random connectors, statuses drawn as a fleet sends them."""
    from stations.services import StatusReport

    reports = []
    names, weights = zip(*STATUSES, strict=True)
    for station, number in rng.sample(connectors, size):
        if rng.random() < faulted:
            code = rng.choice(ERROR_CODES)
            reports.append(StatusReport(station, number, "Faulted", error_code=code))
        else:
            reports.append(StatusReport(station, number, rng.choices(names, weights)[0]))
    return reports


@contextmanager
def subscribers(alerting: bool):
    """Only alerting's status subscriber, or none at all, listens to station.status_changed."""
    from alerts.subscribers import watch_statuses
    from core import events
    from stations.events import STATION_STATUS_CHANGED

    others = events.subscribers(STATION_STATUS_CHANGED)
    for subscriber in others:
        events.unsubscribe(STATION_STATUS_CHANGED, subscriber)
    if alerting:
        events.subscribe(STATION_STATUS_CHANGED, watch_statuses)
    try:
        yield
    finally:
        events.unsubscribe(STATION_STATUS_CHANGED, watch_statuses)
        for subscriber in others:
            events.subscribe(STATION_STATUS_CHANGED, subscriber)


ENQUEUED: list[tuple] = []
PUBLISHED: list[float] = []


def record_enqueues():
    """Keep the arguments and publish time of every evaluate_faults sent (still sent)."""
    from alerts import tasks

    send = tasks.evaluate_faults.delay

    def recording(*args):
        started = time.perf_counter()
        try:
            return send(*args)
        finally:
            PUBLISHED.append(time.perf_counter() - started)
            ENQUEUED.append(args)

    tasks.evaluate_faults.delay = recording


def timed(reports, alerting: bool) -> float:
    """Seconds for one batch: the write, its commit and the subscribers after it."""
    from stations.services import record_status_reports

    with subscribers(alerting):
        started = time.perf_counter()
        record_status_reports(reports)
        return time.perf_counter() - started


def worker() -> tuple[float, int]:
    """Seconds the worker spends on the tasks the last batch sent (run here, in order), and
    how many tasks that was."""
    from alerts.rules import evaluate_faults
    from alerts.subscribers import fault_sender

    fault_sender.wait_sent()
    started, count = time.perf_counter(), len(ENQUEUED)
    while ENQUEUED:
        evaluate_faults(*ENQUEUED.pop(0))
    return time.perf_counter() - started, count


def counted(reports, alerting: bool) -> int:
    """Queries one batch makes (write, commit, subscribers)."""
    from stations.services import record_status_reports

    with subscribers(alerting), CaptureQueriesContext(connection) as queries:
        record_status_reports(reports)
    return len(queries)


def scenario(rng, connectors, size: int, faulted: float, rounds: int) -> dict:
    """Interleaved baseline and alerting batches: medians, queries per batch, alerts touched."""
    from alerts.models import Alert

    for alerting in (False, True, False, True):  # warm-up: connections, caches, first queries
        timed(batch(rng, connectors, size, faulted), alerting)
        worker()
    seconds = {False: [], True: []}
    worker_seconds, tasks = 0.0, 0
    PUBLISHED.clear()
    for _ in range(rounds):
        # Built before the clock starts; the variant that goes first alternates.
        pair = [batch(rng, connectors, size, faulted) for _ in range(2)]
        order = (False, True) if len(seconds[True]) % 2 else (True, False)
        for alerting, reports in zip(order, pair, strict=True):
            seconds[alerting].append(timed(reports, alerting))
            spent, count = worker()
            worker_seconds += spent
            tasks += count
    published = sum(PUBLISHED)
    queries = {}
    for alerting in (False, True):
        counts = []
        for _ in range(10):
            counts.append(counted(batch(rng, connectors, size, faulted), alerting))
            worker()
        queries[alerting] = statistics.mean(counts)
    return {
        "baseline": statistics.median(seconds[False]),
        "alerting": statistics.median(seconds[True]),
        "worker": worker_seconds / rounds,
        "sender": published / rounds,
        "tasks": tasks / rounds,
        "queries": queries,
        "alerts": Alert.objects.count(),
        "opened": sum(a.occurrences for a in Alert.objects.all()),
    }


def quiet_down():
    """No live alert and no guard mark: the state of a healthy fleet."""
    from alerts.choices import AlertState
    from alerts.models import Alert
    from alerts.rules import forget_marks

    Alert.objects.update(state=AlertState.RESOLVED)
    cache.clear()
    forget_marks()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=500, help="stations (2 connectors each)")
    parser.add_argument("--reports", type=int, default=100, help="status reports per batch")
    parser.add_argument("--rounds", type=int, default=60, help="batches per variant")
    parser.add_argument("--faulted", type=float, default=0.01, help="share of Faulted reports")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    # As deployed: tasks go to the broker for a worker, the write path does not run them.
    celery_app.conf.task_always_eager = False
    record_enqueues()
    try:
        cache.clear()
        rng = random.Random(args.seed)
        connectors = build(args.stations)
        results = {"mixed": scenario(rng, connectors, args.reports, args.faulted, args.rounds)}
        quiet_down()
        results["quiet"] = scenario(rng, connectors, args.reports, 0.0, args.rounds)
        version = f" {connection.pg_version // 10000}" if connection.vendor == "postgresql" else ""
        backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        print(
            f"database: {connection.vendor}{version}; cache: {backend}; "
            f"{len(connectors)} connectors; batches of {args.reports} status reports; "
            f"{args.rounds} batches per variant; {args.faulted:.1%} Faulted in the mixed "
            f"scenario; load average before {load_before:.2f}\n"
        )
        print(
            "| scenario | variant | median ms / batch | µs / report | queries / batch | extra "
            "| tasks / batch | sender ms / batch | worker ms / batch |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, result in results.items():
            base = result["baseline"]
            for variant, alerting in (("baseline", False), ("alerting", True)):
                value = result[variant]
                after = (
                    f"{result['tasks']:.2f} | {result['sender'] * 1000:.2f} | "
                    f"{result['worker'] * 1000:.2f}"
                    if alerting
                    else "– | – | –"
                )
                print(
                    f"| {name} | {variant} | {value * 1000:.2f} | "
                    f"{value / args.reports * 1e6:.1f} | {result['queries'][alerting]:.1f} | "
                    f"{(value / base - 1) * 100:+.1f} % | {after} |"
                )
        mixed = results["mixed"]
        print(
            f"\nmixed: {mixed['alerts']} alerts, {mixed['opened']} occurrences counted "
            f"(opened, repeated or reopened)"
        )
    finally:
        # Nobody consumes the tasks sent: leave no queue behind in the broker.
        celery_app.control.purge()
        teardown_databases(databases, verbosity=0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
