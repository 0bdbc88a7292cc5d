"""The bench database: created, migrated, filled with N stations, reset between runs."""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import frames

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cms_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"
BATCH = 2000
# Above this a hash per station would make provisioning 20,000 stations take minutes.
PER_STATION_HASH_LIMIT = 0.002


@dataclass(frozen=True)
class Fleet:
    """The provisioned stations: how many, and the password they all share if hashing is slow."""

    stations: int
    shared_password: str | None
    seconds: float


def database_name(url: str) -> str:
    """The database of a DATABASE_URL: the path of a SQLite file, or the PostgreSQL name."""
    parts = urlsplit(url)
    return parts.path if parts.scheme == "sqlite" else parts.path.lstrip("/")


def check_bench_database(url: str) -> None:
    """Refuse to run on a database whose name does not say it is for benchmarks."""
    # Provisioning wipes every station, card and session it finds: never a real database.
    if "bench" not in Path(database_name(url)).name:
        raise SystemExit(f"refusing to use {url}: the bench wipes its database; use a *bench* name")


def server_env(database_url: str, redis_url: str) -> dict:
    """The environment of every Django process of a run: servers, drivers and the harness."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="cms.settings",
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        PYTHONPATH=str(BASE_DIR),
    )
    return env


def ensure_database(database_url: str) -> None:
    """Create the PostgreSQL database (or the SQLite file's folder) if it does not exist."""
    parts = urlsplit(database_url)
    name = database_name(database_url)
    if parts.scheme == "sqlite":
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def migrate(env: dict) -> None:
    """manage.py migrate in a subprocess, as a deployment would."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )


def setup_django(env: dict) -> None:
    """Configure Django in this process with the run's environment."""
    import django

    os.environ.update(env)
    django.setup()


def flush_redis(redis_url: str) -> None:
    """Empty the run's Redis database: no group membership or queued task survives a run."""
    if not redis_url:
        return
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


def _wipe_everything() -> None:
    from django.db import connection

    tables = [
        t
        for t in connection.introspection.django_table_names(only_existing=True)
        if not t.startswith(("django_", "auth_permission"))
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in tables:
                cursor.execute(f'DELETE FROM "{table}"')
            cursor.execute("PRAGMA foreign_keys = ON")


def _password_hashes(count: int) -> tuple[list[str], str | None]:
    """One hash per station, or one shared hash (and its password) when hashing is slow."""
    from stations.models import ChargingStation

    probe = ChargingStation()
    began = time.perf_counter()
    probe.set_password(frames.password(1))
    if time.perf_counter() - began > PER_STATION_HASH_LIMIT:
        return [probe.password_hash] * count, frames.password(1)
    hashes = [probe.password_hash]
    for index in range(2, count + 1):
        probe.set_password(frames.password(index))
        hashes.append(probe.password_hash)
    return hashes, None


def provision(count: int) -> Fleet:
    """Wipe the bench database and create N accepted stations with two connectors and a card."""
    from django.db import transaction

    from cards.models import AccessGroup, IdToken
    from organizations.models import Organization
    from stations.choices import ConnectionState, RegistrationStatus, SecurityProfile
    from stations.models import ChargingStation, Connector, Evse, Site

    began = time.monotonic()
    hashes, shared_password = _password_hashes(count)
    with transaction.atomic():
        _wipe_everything()
        org = Organization.objects.create(name="Bench", slug="bench")
        group = AccessGroup.objects.create(organization=org, name="Bench drivers")
        site = Site.objects.create(organization=org, name="Bench site", city="Berlin", country="DE")
        site.access_groups.add(group)
        stations = ChargingStation.objects.bulk_create(
            [
                ChargingStation(
                    organization=org,
                    site=site,
                    ocpp_id=frames.identity(index),
                    serial_number=f"SN-BENCH-{index:06d}",
                    security_profile=SecurityProfile.BASIC,
                    password_hash=hashes[index - 1],
                    registration_status=RegistrationStatus.ACCEPTED,
                    connection_state=ConnectionState.OFFLINE,
                )
                for index in range(1, count + 1)
            ],
            batch_size=BATCH,
        )
        evses = Evse.objects.bulk_create(
            [
                Evse(station=station, evse_number=n, evse_id=f"DE*BEN*E{station.ocpp_id[6:]}*{n}")
                for station in stations
                for n in (1, 2)
            ],
            batch_size=BATCH,
        )
        Connector.objects.bulk_create(
            [Connector(station_id=e.station_id, evse=e, connector_id=e.evse_number) for e in evses],
            batch_size=BATCH,
        )
        tokens = IdToken.objects.bulk_create(
            [
                # One card per station; no limit on concurrent sessions, so a session the
                # station lost in a restart never blocks its next start.
                IdToken(
                    organization=org,
                    uid=frames.id_tag(index),
                    label=f"Bench card {index}",
                    max_concurrent_transactions=None,
                )
                for index in range(1, count + 1)
            ],
            batch_size=BATCH,
        )
        membership = IdToken.access_groups.through
        membership.objects.bulk_create(
            [membership(idtoken_id=token.pk, accessgroup_id=group.pk) for token in tokens],
            batch_size=BATCH,
        )
    from django.db import connection

    if connection.vendor == "postgresql":
        # Statistics for the fresh rows now, not whenever autovacuum gets to them mid-run.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return Fleet(count, shared_password, round(time.monotonic() - began, 2))


def dynamic_tables() -> list[str]:
    """Tables the traffic writes, children first."""
    from django.apps import apps

    from billing.models import ChargeDetailRecord, Invoice, InvoiceLine
    from ocpp_gateway.models import CommandLog, OcppMessage
    from sessions_app.models import ChargingSession, MeterValue, Reservation
    from stations.models import StationDataTransfer, StatusEvent

    models = [
        InvoiceLine,
        Invoice,
        ChargeDetailRecord,
        MeterValue,
        CommandLog,
        ChargingSession,
        Reservation,
        StatusEvent,
        StationDataTransfer,
        OcppMessage,
    ]
    # Rows that point at these (a 2.0.1 transaction's events, a remote start's session) go too:
    # SQLite checks every foreign key at commit, and PostgreSQL's CASCADE would take them anyway.
    found = True
    while found:
        found = False
        for model in apps.get_models(include_auto_created=True):
            if model not in models and any(
                field.is_relation and field.related_model in models
                for field in model._meta.concrete_fields
            ):
                models.insert(0, model)
                found = True
    return [model._meta.db_table for model in models]


def reset_dynamic_state() -> None:
    """Empty sessions, meter values, status history and logs; every station offline."""
    from django.db import connection, transaction

    from stations.choices import ConnectionState, ConnectorStatus
    from stations.models import ChargingStation, Connector

    tables = dynamic_tables()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                cursor.execute(f'DELETE FROM "{table}"')
        ChargingStation.objects.update(
            connection_state=ConnectionState.OFFLINE,
            connected_since=None,
            last_seen=None,
            last_boot=None,
            status=ConnectorStatus.UNKNOWN,
            status_at=None,
        )
        Connector.objects.update(status=ConnectorStatus.UNKNOWN, status_at=None)
    if connection.vendor == "postgresql":
        # The previous target's dirty pages and dead rows are written and vacuumed now, not by
        # the checkpointer and autovacuum while the next target is measured.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) stations_chargingstation, stations_connector")
            cursor.execute("CHECKPOINT")


def mark_all_offline() -> None:
    """What a crashed server leaves behind is corrected here: every station offline."""
    from stations.choices import ConnectionState
    from stations.models import ChargingStation

    ChargingStation.objects.update(connection_state=ConnectionState.OFFLINE)


def count_online(count: int) -> int:
    """How many of the first N bench stations the database says are online."""
    from stations.choices import ConnectionState
    from stations.models import ChargingStation

    identities = [frames.identity(i) for i in range(1, count + 1)]
    online = 0
    for start in range(0, count, BATCH):
        online += ChargingStation.objects.filter(
            ocpp_id__in=identities[start : start + BATCH], connection_state=ConnectionState.ONLINE
        ).count()
    return online


def database_counters() -> dict | None:
    """PostgreSQL's cumulative transaction and row counters of the bench database (else None)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        # Other backends report their counters when a transaction ends, at most once a second.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_fetched "
            "FROM pg_stat_database WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    return dict(zip(("commits", "rollbacks", "inserted", "updated", "fetched"), row, strict=True))


def count_meter_values() -> int:
    from sessions_app.models import MeterValue

    return MeterValue.objects.count()


def station_ids(count: int) -> list[int]:
    """Primary keys of the first N bench stations (what the command service addresses)."""
    from stations.models import ChargingStation

    identities = [frames.identity(i) for i in range(1, count + 1)]
    ids = []
    for start in range(0, count, BATCH):
        ids += ChargingStation.objects.filter(
            ocpp_id__in=identities[start : start + BATCH]
        ).values_list("pk", flat=True)
    return ids


def close_connections() -> None:
    """Close this process's database connections (before a server truncates or migrates)."""
    from django.db import connections

    connections.close_all()
