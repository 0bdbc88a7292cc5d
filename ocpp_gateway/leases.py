"""Gateway process leases: a station is online only while the process holding its socket lives."""

# A consumer marks its station offline when its socket ends, but a process that is killed
# (SIGKILL, out of memory, a hard deploy) runs no code at all. So every serving process renews a
# lease row; when it stops renewing, any surviving process or the beat task marks the stations
# it held offline. Several processes on several machines each hold their own lease.

import asyncio
import logging
import os
import secrets
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ocpp_gateway.connections import mark_stations_offline, mark_stations_online
from ocpp_gateway.dbworker import background_db
from ocpp_gateway.models import GatewayLease
from stations.choices import ConnectionState
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

# Station id → connected_since of each socket this process holds (written on the event loop).
held: dict[int, datetime] = {}

_name: str | None = None
_name_pid: int | None = None
_task: asyncio.Task | None = None
_first_renewal: asyncio.Event | None = None


def process_name() -> str:
    """This process's lease name: host, pid and a random part (pids are reused)."""
    global _name, _name_pid
    if _name is None or _name_pid != os.getpid():
        _name = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        _name_pid = os.getpid()
    return _name


def lease_duration() -> timedelta:
    """How long a lease lasts unrenewed: a killed process's stations go offline after this."""
    return timedelta(seconds=settings.OCPP_GATEWAY_LEASE_SECONDS)


def hold(station_id: int, since: datetime) -> None:
    """This process now holds the station's socket, opened at `since`."""
    held[station_id] = since


def release(station_id: int, since: datetime | None) -> None:
    """The socket opened at `since` is gone (a newer one of the same station stays held)."""
    if since is not None and held.get(station_id) == since:
        del held[station_id]


async def ensure_started() -> None:
    """Start renewing this process's lease; the first call waits until the lease exists."""
    global _task, _first_renewal
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _first_renewal = asyncio.Event()
        _task = loop.create_task(_renew_forever(_first_renewal))
    # Stations are marked online under this process's name only once its lease exists: a row
    # naming a process without a lease would be taken for one of a dead process.
    await _first_renewal.wait()


async def stop() -> None:
    """Stop renewing (the lease then expires like that of a killed process)."""
    global _task
    if _task is not None and not _task.done() and _task.get_loop() is asyncio.get_running_loop():
        _task.cancel()
        await asyncio.gather(_task, return_exceptions=True)
    _task = None


async def _renew_forever(first: asyncio.Event) -> None:
    while True:
        try:
            await renew_and_reconcile()
        except Exception:
            # The database may be away for a while: retry, the stations keep being served.
            logger.exception("could not renew the lease of gateway process %s", process_name())
        first.set()
        await asyncio.sleep(settings.OCPP_GATEWAY_LEASE_SECONDS / 3)


async def renew_and_reconcile() -> None:
    """Renew this process's lease, correct its own stations, and reap the leases of dead ones."""
    name = process_name()
    if not await background_db.run(renew_lease, name):
        # The lease had been reaped (this process stalled past it): its stations were marked
        # offline, but the sockets it still holds are alive.
        if held:
            logger.warning("gateway process %s lost its lease: its stations are online again", name)
        await background_db.run(mark_stations_online, list(held.items()), name)
    await background_db.run(mark_unheld_offline, name, dict(held))
    await background_db.run(reap_expired_leases)


def renew_lease(name: str) -> bool:
    """Extend the lease of `name`; False when it had to be taken anew (or for the first time)."""
    now = timezone.now()
    if GatewayLease.objects.filter(holder=name).update(expires=now + lease_duration()):
        return True
    GatewayLease.objects.create(holder=name, started=now, expires=now + lease_duration())
    return False


def mark_unheld_offline(name: str, held_now: dict[int, datetime]) -> int:
    """Mark offline the stations recorded online in process `name` that it no longer holds."""
    # A connection whose end left no trace (its bookkeeping failed: the database was away) is
    # caught here. A station marked online in the last lease period may not be registered yet.
    cutoff = timezone.now() - lease_duration()
    recorded = ChargingStation.objects.filter(
        gateway_process=name, connection_state=ConnectionState.ONLINE, connected_since__lt=cutoff
    ).values_list("pk", "connected_since")
    stale = [(pk, since) for pk, since in recorded if held_now.get(pk) != since]
    if stale:
        logger.warning("%d stations were online in %s without a socket", len(stale), name)
        mark_stations_offline(stale)
    return len(stale)


def reap_expired_leases() -> int:
    """Mark offline the stations of every process whose lease expired; drop those leases."""
    now = timezone.now()
    # SKIP LOCKED: processes reaping at the same time each take other leases, never wait.
    expired = list(
        GatewayLease.objects.select_for_update(skip_locked=True)
        .filter(expires__lt=now)
        .values_list("holder", flat=True)
    )
    if not expired:
        return 0
    stations = list(
        ChargingStation.objects.filter(
            gateway_process__in=expired, connection_state=ConnectionState.ONLINE
        ).values_list("pk", "connected_since")
    )
    mark_stations_offline(stations)
    GatewayLease.objects.filter(holder__in=expired).delete()
    logger.warning(
        "gateway processes %s stopped renewing their leases: %d stations marked offline",
        ", ".join(expired),
        len(stations),
    )
    return len(stations)


def reconcile_station_liveness() -> int:
    """Mark offline every station online that no live gateway process vouches for."""
    with transaction.atomic():
        gone = reap_expired_leases()
    now = timezone.now()
    with transaction.atomic():
        # A station naming a process without any lease (removed by hand, or never written).
        # One statement, one snapshot: a lease is committed before its stations name it.
        orphaned = list(
            ChargingStation.objects.filter(connection_state=ConnectionState.ONLINE)
            .exclude(gateway_process="")
            .exclude(gateway_process__in=GatewayLease.objects.values("holder"))
            .values_list("pk", "connected_since")
        )
        # Second safety net, for stations marked online by a gateway that kept no lease (before
        # leases existed): silent for longer than their heartbeat interval and a lease period.
        unleased = ChargingStation.objects.filter(
            connection_state=ConnectionState.ONLINE, gateway_process=""
        ).values_list("pk", "connected_since", "last_seen", "heartbeat_interval")
        silent = [
            (pk, since)
            for pk, since, seen, interval in unleased
            if seen is None or seen + timedelta(seconds=interval) + lease_duration() < now
        ]
        mark_stations_offline(orphaned + silent)
    if orphaned or silent:
        logger.warning(
            "%d stations were online without a live gateway process", len(orphaned) + len(silent)
        )
    return gone + len(orphaned) + len(silent)
