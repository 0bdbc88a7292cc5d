"""What OCPI roaming costs the status-notification write path and the authorization chain.

Run: `.venv/bin/python -m bench.roaming_cost` (SQLite, local-memory cache, Celery's in-memory
transport) or with DATABASE_URL and REDIS_URL set (PostgreSQL, Redis cache and broker).
Creates and drops a throwaway test database. Two organizations with `--stations` stations of two
connectors each (one connector per EVSE): "local" does not roam (no roaming profile, no
partner); "roaming" plays the CPO role (RoamingProfile with cpo_enabled) with two active eMSP
partners that have a locations RECEIVER endpoint, and its `--sites` sites are roaming-enabled
with coordinates, so every EVSE is published.

1. Status writes. Every batch is what one database-worker batch writes: `--reports` status
   reports (default 100) on random connectors of one organization, through
   `stations.services.record_status_reports`, its commit and the subscribers after it. Two
   variants, interleaved batch by batch:

   - baseline: roaming's status subscriber (`roaming.subscribers.push_evse_statuses`)
     unsubscribed;
   - roaming: subscribed. For an organization with receiving partners it plans an `OcpiPush`
     row per EVSE and partner, and `roaming.subscribers` enqueues `roaming.tasks.deliver_push`
     for each (to Redis with REDIS_URL, else Celery's in-memory transport; tasks are not run
     eagerly here, as in a deployment, so only the planning is on the write path).

   Other subscribers of station.status_changed (alerts, live portal updates, webhook business
   events) are unsubscribed in both, so the difference is roaming alone. Scenarios:

   - local: the organization that does not roam (one cache read per batch expected);
   - roaming: the CPO organization while its pushes are delivered: after each roaming batch,
     outside its clock, the pushes it planned are marked sent (a worker that keeps up), so every
     batch plans fresh rows;
   - roaming, owed: the same with no worker: a push still owed for an EVSE is only made newer.

2. Authorization. `sessions_app.authorization.authorize(station, uid, for_start=True)` at a
   station of the roaming organization, with the roaming authorizer unregistered (baseline)
   and registered, interleaved block by block: a local card (the chain stops before roaming),
   an unknown uid (roaming asks its one query; also at the local organization's station), and
   a partner's ALWAYS token (no real-time call; the baseline refuses it, knowing no partner).
"""

import argparse
import os
import random
import statistics
import time
from collections import Counter
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
from django.utils import timezone  # noqa: E402

from cms.celery import app as celery_app  # noqa: E402

STATUSES = (
    ("Available", 40),
    ("Preparing", 10),
    ("Charging", 30),
    ("SuspendedEV", 10),
    ("Finishing", 10),
)
CARD_UID = "BENCHCARD0001"
PARTNER_UID = "NLMS1TOKEN0001"
UNKNOWN_UID = "NOSUCHCARD0001"
WRITES = ("INSERT", "UPDATE", "DELETE")


def build(stations: int, sites: int) -> dict:
    """Both organizations with their stations; the roaming one with profile, partners, tokens."""
    from cards.models import AccessGroup, IdToken
    from organizations.models import Organization
    from roaming.choices import (
        InterfaceRole,
        Module,
        PartnerRole,
        PartnerStatus,
        TokenType,
        WhitelistType,
    )
    from roaming.models import OcpiPush, RoamingPartner, RoamingProfile, RoamingToken
    from stations.models import ChargingStation, Connector, Evse, Site

    def fleet(org, prefix: str, at: list) -> list:
        rows = ChargingStation.objects.bulk_create(
            ChargingStation(organization=org, site=at[n % len(at)], ocpp_id=f"{prefix}-{n:05d}")
            for n in range(stations)
        )
        evses = Evse.objects.bulk_create(
            Evse(station=station, evse_number=number) for station in rows for number in (1, 2)
        )
        Connector.objects.bulk_create(
            Connector(station=evse.station, evse=evse, connector_id=evse.evse_number)
            for evse in evses
        )
        return [(station, number) for station in rows for number in (1, 2)]

    local = Organization.objects.create(name="Bench local", slug="bench-local")
    local_site = Site.objects.create(
        organization=local, name="Depot", latitude="52.520008", longitude="13.404954"
    )
    roaming = Organization.objects.create(name="Bench roaming", slug="bench-roaming")
    RoamingProfile.objects.create(
        organization=roaming, country_code="DE", party_id="BEN", cpo_enabled=True
    )
    roaming_sites = [
        Site.objects.create(
            organization=roaming,
            name=f"Roaming site {n}",
            country="DE",
            latitude=f"{50 + n / 100:.6f}",
            longitude=f"{8 + n / 100:.6f}",
            roaming_enabled=True,
        )
        for n in range(sites)
    ]
    partners = [
        RoamingPartner.objects.create(
            organization=roaming,
            name=f"eMSP {n}",
            country_code="NL",
            party_id=f"MS{n}",
            role=PartnerRole.EMSP,
            version="2.2.1",
            status=PartnerStatus.ACTIVE,
            registered_at=timezone.now(),
            endpoints=[
                {
                    "identifier": Module.LOCATIONS,
                    "role": InterfaceRole.RECEIVER,
                    "url": f"https://emsp{n}.example.com/ocpi/2.2.1/locations",
                },
                {
                    "identifier": Module.TOKENS,
                    "role": InterfaceRole.SENDER,
                    "url": f"https://emsp{n}.example.com/ocpi/2.2.1/tokens",
                },
            ],
        )
        for n in (1, 2)
    ]
    local_connectors = fleet(local, "LOCAL", [local_site])
    roaming_connectors = fleet(roaming, "ROAM", roaming_sites)

    # Cards and partner tokens in numbers, so the lookups search real tables.
    group = AccessGroup.objects.create(organization=roaming, name="Everyone")
    for site in roaming_sites:
        site.access_groups.add(group)
    IdToken.objects.bulk_create(
        IdToken(organization=org, uid=f"{prefix}{n:06d}")
        for org, prefix in ((roaming, "ROAMCARD"), (local, "LOCALCARD"))
        for n in range(1000)
    )
    card = IdToken.objects.create(organization=roaming, uid=CARD_UID)
    card.access_groups.add(group)
    now = timezone.now()
    RoamingToken.objects.bulk_create(
        RoamingToken(
            organization=roaming,
            partner=partner,
            country_code="NL",
            party_id=partner.party_id,
            ocpi_id=uid,
            uid=uid,
            type=TokenType.RFID,
            contract_id=f"NL-{partner.party_id}-C{n:08d}",
            issuer=partner.name,
            whitelist=WhitelistType.ALWAYS,
            last_updated=now,
        )
        for partner in partners
        for n, uid in enumerate(
            [f"NL{partner.party_id}T{n:07d}" for n in range(2500)]
            + ([PARTNER_UID] if partner is partners[0] else [])
        )
    )
    # Whatever the set-up planned (nothing, as it happens) is not part of any batch.
    OcpiPush.objects.all().delete()
    return {
        "local": local_connectors,
        "roaming": roaming_connectors,
        "local station": local_connectors[0][0],
        "roaming station": roaming_connectors[0][0],
    }


def batch(rng: random.Random, connectors, size: int):
    """`size` reports on distinct random connectors, statuses drawn as a fleet sends them."""
    from stations.services import StatusReport

    names, weights = zip(*STATUSES, strict=True)
    return [
        StatusReport(station, number, rng.choices(names, weights)[0])
        for station, number in rng.sample(connectors, size)
    ]


@contextmanager
def subscribers(roaming: bool):
    """Only roaming's status subscriber, or none at all, listens to station.status_changed."""
    from core import events
    from roaming.subscribers import push_evse_statuses
    from stations.events import STATION_STATUS_CHANGED

    others = events.subscribers(STATION_STATUS_CHANGED)
    for subscriber in others:
        events.unsubscribe(STATION_STATUS_CHANGED, subscriber)
    if roaming:
        events.subscribe(STATION_STATUS_CHANGED, push_evse_statuses)
    try:
        yield
    finally:
        events.unsubscribe(STATION_STATUS_CHANGED, push_evse_statuses)
        for subscriber in others:
            events.subscribe(STATION_STATUS_CHANGED, subscriber)


PUBLISHED: list[float] = []


def record_enqueues():
    """Time every deliver_push sent (still sent: the publish is on the write path)."""
    from roaming import tasks

    send = tasks.deliver_push.delay

    def recording(*args):
        started = time.perf_counter()
        try:
            return send(*args)
        finally:
            PUBLISHED.append(time.perf_counter() - started)

    tasks.deliver_push.delay = recording


def timed(reports, roaming: bool) -> float:
    """Seconds for one batch: the write, its commit and the subscribers after it."""
    from stations.services import record_status_reports

    with subscribers(roaming):
        started = time.perf_counter()
        record_status_reports(reports)
        return time.perf_counter() - started


def deliver_all():
    """What a worker that keeps up leaves behind: every owed push sent (outside the clock)."""
    from roaming.choices import PushStatus
    from roaming.models import OcpiPush

    OcpiPush.objects.filter(status__in=(PushStatus.PENDING, PushStatus.RETRYING)).update(
        status=PushStatus.SENT, attempts=1
    )


def counted(reports, roaming: bool) -> tuple[int, Counter, int]:
    """Queries one batch makes (write, commit, subscribers), by kind, and its writing commits."""
    from stations.services import record_status_reports

    autocommitted = [0]

    def watch(execute, sql, params, many, context):
        # In autocommit a write outside any atomic block is a commit of its own.
        if sql.split(None, 1)[0].upper() in WRITES and not connection.in_atomic_block:
            autocommitted[0] += 1
        return execute(sql, params, many, context)

    # The log keeps the last 9,000 queries: a full one would count nothing.
    connection.queries_log.clear()
    with (
        subscribers(roaming),
        CaptureQueriesContext(connection) as queries,
        connection.execute_wrapper(watch),
    ):
        record_status_reports(reports)
    kinds = Counter(query["sql"].split(None, 1)[0].upper() for query in queries)
    return len(queries), kinds, kinds["COMMIT"] + autocommitted[0]


def scenario(rng, connectors, size: int, rounds: int, deliver: bool) -> dict:
    """Interleaved baseline and roaming batches: medians, queries, pushes planned per batch."""
    from roaming.models import OcpiPush

    def after():
        if deliver:
            deliver_all()

    for roaming in (False, True, False, True):  # warm-up: connections, caches, first queries
        timed(batch(rng, connectors, size), roaming)
        after()
    seconds = {False: [], True: []}
    created = planned = 0
    PUBLISHED.clear()
    for _ in range(rounds):
        # Built before the clock starts; the variant that goes first alternates.
        pair = [batch(rng, connectors, size) for _ in range(2)]
        order = (False, True) if len(seconds[True]) % 2 else (True, False)
        for roaming, reports in zip(order, pair, strict=True):
            rows, sent = OcpiPush.objects.count(), len(PUBLISHED)
            seconds[roaming].append(timed(reports, roaming))
            created += OcpiPush.objects.count() - rows
            planned += len(PUBLISHED) - sent
            after()
    published = sum(PUBLISHED)
    queries, kinds, commits = {}, {}, {}
    for roaming in (False, True):
        counts, mix, writes = [], Counter(), []
        for _ in range(10):
            count, by_kind, committed = counted(batch(rng, connectors, size), roaming)
            counts.append(count)
            mix.update(by_kind)
            writes.append(committed)
            after()
        queries[roaming] = statistics.mean(counts)
        kinds[roaming] = {kind: n / 10 for kind, n in mix.most_common()}
        commits[roaming] = statistics.mean(writes)
    return {
        "baseline": statistics.median(seconds[False]),
        "roaming": statistics.median(seconds[True]),
        "created": created / rounds,
        "planned": planned / rounds,
        "publish": published / rounds,
        "queries": queries,
        "kinds": kinds,
        "commits": commits,
        "rows": OcpiPush.objects.count(),
    }


@contextmanager
def chain(roaming: bool):
    """The authorization chain with or without the roaming authorizer."""
    from roaming.authorization import roaming_tokens
    from sessions_app.authorization import register_authorizer, unregister_authorizer

    if not roaming:
        unregister_authorizer(roaming_tokens)
    try:
        yield
    finally:
        register_authorizer(roaming_tokens)


def authorizations(cases: dict, rounds: int, block: int) -> dict:
    """µs per authorize call (medians), with and without roaming, and queries per call; every
    case and variant interleaved block by block."""
    from sessions_app.authorization import authorize

    answers = {}
    for roaming in (False, True):  # warm-up
        with chain(roaming):
            for name, (station, uid) in cases.items():
                for _ in range(20):
                    answers[name, roaming] = authorize(station, uid, for_start=True)
    calls = {(name, roaming): [] for name in cases for roaming in (False, True)}
    for n in range(rounds):
        order = (False, True) if n % 2 else (True, False)
        for roaming in order:
            with chain(roaming):
                for name, (station, uid) in cases.items():
                    spent = calls[name, roaming]
                    for _ in range(block):
                        started = time.perf_counter()
                        authorize(station, uid, for_start=True)
                        spent.append(time.perf_counter() - started)
    results = {}
    for name, (station, uid) in cases.items():
        queries = {}
        for roaming in (False, True):
            connection.queries_log.clear()
            with chain(roaming), CaptureQueriesContext(connection) as captured:
                authorize(station, uid, for_start=True)
            queries[roaming] = len(captured)
        results[name] = {
            "baseline": statistics.median(calls[name, False]),
            "roaming": statistics.median(calls[name, True]),
            "queries": queries,
            "answers": {roaming: answers[name, roaming].status for roaming in (False, True)},
            "partner": answers[name, True].roaming_partner_id,
        }
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=500, help="per organization (2 each)")
    parser.add_argument("--sites", type=int, default=10, help="roaming organization's sites")
    parser.add_argument("--reports", type=int, default=100, help="status reports per batch")
    parser.add_argument("--rounds", type=int, default=80, help="batches per variant")
    parser.add_argument("--calls", type=int, default=4000, help="authorize calls per variant")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args(argv)
    loads = [os.getloadavg()[0]]
    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    # As deployed: tasks go to the broker for a worker, the write path does not run them.
    celery_app.conf.task_always_eager = False
    record_enqueues()
    try:
        cache.clear()
        rng = random.Random(args.seed)
        fleet = build(args.stations, args.sites)
        statuses = {
            "local (does not roam)": scenario(
                rng, fleet["local"], args.reports, args.rounds, deliver=True
            ),
        }
        loads.append(os.getloadavg()[0])
        statuses["roaming (pushes delivered)"] = scenario(
            rng, fleet["roaming"], args.reports, args.rounds, deliver=True
        )
        loads.append(os.getloadavg()[0])
        statuses["roaming (pushes still owed)"] = scenario(
            rng, fleet["roaming"], args.reports, args.rounds, deliver=False
        )
        loads.append(os.getloadavg()[0])
        block = 25
        chains = authorizations(
            {
                "local card": (fleet["roaming station"], CARD_UID),
                "unknown uid": (fleet["roaming station"], UNKNOWN_UID),
                "unknown uid, local organization": (fleet["local station"], UNKNOWN_UID),
                "partner's ALWAYS token": (fleet["roaming station"], PARTNER_UID),
            },
            max(args.calls // block, 2),
            block,
        )
        loads.append(os.getloadavg()[0])
        version = f" {connection.pg_version // 10000}" if connection.vendor == "postgresql" else ""
        backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        broker = settings.CELERY_BROKER_URL.split(":", 1)[0]
        print(
            f"database: {connection.vendor}{version}; cache: {backend}; broker: {broker}; "
            f"{2 * args.stations} connectors per organization; batches of {args.reports} "
            f"status reports; {args.rounds} batches per variant; load average (1 min) "
            f"{' → '.join(f'{load:.2f}' for load in loads)}\n"
        )
        print(
            "| scenario | variant | median ms / batch | µs / report | extra | queries / batch "
            "| writing commits / batch | pushes planned / batch | OcpiPush rows / batch "
            "| publish ms / batch |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, result in statuses.items():
            base = result["baseline"]
            for variant, roaming in (("baseline", False), ("roaming", True)):
                value = result[variant]
                after = (
                    f"{result['planned']:.1f} | {result['created']:.1f} | "
                    f"{result['publish'] * 1000:.2f}"
                    if roaming
                    else "– | – | –"
                )
                print(
                    f"| {name} | {variant} | {value * 1000:.2f} | "
                    f"{value / args.reports * 1e6:.1f} | {(value / base - 1) * 100:+.1f} % | "
                    f"{result['queries'][roaming]:.1f} | {result['commits'][roaming]:.1f} | "
                    f"{after} |"
                )
        print("\nqueries per batch by statement, roaming variant:")
        for name, result in statuses.items():
            mix = ", ".join(f"{kind} {n:.1f}" for kind, n in result["kinds"][True].items())
            print(f"- {name}: {mix}; {result['rows']:,} OcpiPush rows in the table after it")
        print(
            "\n| authorize(for_start=True) | baseline µs / call | with roaming µs / call "
            "| extra µs | queries / call | answer |"
        )
        print("|---|---:|---:|---:|---:|---|")
        for name, result in chains.items():
            answers = result["answers"]
            answer = (
                answers[True]
                if answers[True] == answers[False]
                else f"{answers[False]} → {answers[True]}"
            )
            if result["partner"]:
                answer += " (partner's)"
            print(
                f"| {name} | {result['baseline'] * 1e6:.0f} | {result['roaming'] * 1e6:.0f} | "
                f"{(result['roaming'] - result['baseline']) * 1e6:+.0f} | "
                f"{result['queries'][False]} → {result['queries'][True]} | {answer} |"
            )
    finally:
        # Nobody consumes the tasks sent: leave no queue behind in the broker.
        celery_app.control.purge()
        teardown_databases(databases, verbosity=0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
