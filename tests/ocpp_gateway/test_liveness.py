"""A station whose socket is gone shows offline, whatever ended the socket."""

import asyncio
import contextlib
from datetime import timedelta

import pytest
import websockets
from django.utils import timezone
from ocpp.v16 import call

from ocpp_gateway import connections, leases, tasks
from ocpp_gateway.consumers import OcppConsumer
from ocpp_gateway.dbworker import background_db
from ocpp_gateway.models import GatewayLease
from stations.choices import ConnectionState
from stations.models import ChargingStation
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import Station, open_socket


@pytest.fixture
def make_station(db_call, org):
    def make(**kwargs):
        kwargs.setdefault("organization", org)
        return db_call(ChargingStationFactory, **kwargs)

    return make


@pytest.fixture
def disconnects(monkeypatch):
    """The station ids the disconnect bookkeeping was run for, once per run."""
    seen = []
    original = connections.mark_many_disconnected

    def counting(closed):
        seen.extend(pk for pk, _ in closed)
        return original(closed)

    monkeypatch.setattr(connections, "mark_many_disconnected", counting)
    return seen


async def state_of(db_call, pk, until=None) -> str:
    """The station's connection state, once it is `until` (or after 10 s, whatever it is)."""
    for _ in range(200):
        station = await db_call(ChargingStation.objects.get, pk=pk)
        if until is None or station.connection_state == until:
            break
        await asyncio.sleep(0.05)
    return station.connection_state


async def test_a_station_closing_its_socket_while_the_csms_answers_goes_offline_once(
    ocpp_server, make_station, db_call, monkeypatch, disconnects
):
    station = await make_station(ocpp_id="CS-GONE")
    answering, release = asyncio.Event(), asyncio.Event()
    dispatch = OcppConsumer._dispatch

    async def slow_dispatch(consumer, frame):
        answering.set()
        await release.wait()
        return await dispatch(consumer, frame)

    monkeypatch.setattr(OcppConsumer, "_dispatch", slow_dispatch)
    ws = await open_socket(ocpp_server, "CS-GONE")
    cp = Station("CS-GONE", ws, response_timeout=5)
    runner = asyncio.create_task(cp.start())
    heartbeat = asyncio.create_task(cp.call(call.Heartbeat()))
    await asyncio.wait_for(answering.wait(), 10)
    assert await state_of(db_call, station.pk) == ConnectionState.ONLINE
    await ws.close()
    # The answer now goes to a socket the station closed: the send raises in the consumer.
    release.set()
    for task in (heartbeat, runner):
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
    assert await state_of(db_call, station.pk, until="offline") == ConnectionState.OFFLINE
    assert disconnects == [station.pk]


async def test_a_frame_that_makes_the_consumer_raise_closes_the_socket_and_marks_it_offline(
    ocpp_server, make_station, db_call, monkeypatch, disconnects
):
    station = await make_station(ocpp_id="CS-BUG")

    async def broken_receive(consumer, text_data=None, bytes_data=None):
        raise RuntimeError("a bug in the CSMS")

    monkeypatch.setattr(OcppConsumer, "receive", broken_receive)
    ws = await open_socket(ocpp_server, "CS-BUG")
    await ws.send('[2, "1", "Heartbeat", {}]')
    with pytest.raises(websockets.ConnectionClosedError) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    # A close frame with "internal error", not a TCP connection dropped without one.
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
    assert await state_of(db_call, station.pk, until="offline") == ConnectionState.OFFLINE
    assert disconnects == [station.pk]


async def test_a_clean_close_runs_the_disconnect_bookkeeping_exactly_once(
    ocpp_server, make_station, db_call, disconnects
):
    station = await make_station(ocpp_id="CS-BYE")
    ws = await open_socket(ocpp_server, "CS-BYE")
    await ws.send('[2, "1", "Heartbeat", {}]')
    await asyncio.wait_for(ws.recv(), 10)
    await ws.close()
    assert await state_of(db_call, station.pk, until="offline") == ConnectionState.OFFLINE
    await asyncio.sleep(0.2)  # a second run would come right after the first
    assert disconnects == [station.pk]


async def test_a_station_connected_here_names_this_process_whose_lease_exists(
    ocpp_server, make_station, db_call
):
    station = await make_station(ocpp_id="CS-LEASED")
    ws = await open_socket(ocpp_server, "CS-LEASED")
    try:
        row = await db_call(ChargingStation.objects.get, pk=station.pk)
        lease = await db_call(GatewayLease.objects.get, holder=leases.process_name())
    finally:
        await ws.close()
    assert row.gateway_process == leases.process_name()
    assert lease.expires > timezone.now()


def online_in(process: str, **kwargs) -> ChargingStation:
    since = timezone.now() - timedelta(minutes=5)
    return ChargingStationFactory(
        connection_state=ConnectionState.ONLINE,
        connected_since=since,
        last_seen=since,
        gateway_process=process,
        **kwargs,
    )


def lease(holder: str, seconds: float) -> GatewayLease:
    now = timezone.now()
    return GatewayLease.objects.create(
        holder=holder, started=now, expires=now + timedelta(seconds=seconds)
    )


def test_by_default_a_killed_process_is_reconciled_within_a_minute(settings):
    lease_seconds = settings.OCPP_GATEWAY_LEASE_SECONDS
    beat = settings.CELERY_BEAT_SCHEDULE["reconcile-station-liveness"]
    assert beat["task"] == tasks.reconcile_station_liveness.name
    # Expiry, then the next reconciliation: beat's at the latest (a survivor's comes sooner).
    assert lease_seconds + beat["schedule"] < 60


def test_the_stations_of_a_process_whose_lease_expired_go_offline(org, eager_celery):
    lease("dead:1:aa", -1)
    lease("alive:2:bb", 30)
    dead = online_in("dead:1:aa", organization=org, ocpp_id="CS-DEAD")
    alive = online_in("alive:2:bb", organization=org, ocpp_id="CS-ALIVE")
    assert tasks.reconcile_station_liveness.delay().get() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.connection_state, alive.connection_state) == ("offline", "online")
    assert list(GatewayLease.objects.values_list("holder", flat=True)) == ["alive:2:bb"]


def test_a_station_naming_a_process_without_any_lease_goes_offline(org):
    orphan = online_in("vanished:3:cc", organization=org, ocpp_id="CS-ORPHAN")
    leases.reconcile_station_liveness()
    orphan.refresh_from_db()
    assert orphan.connection_state == "offline"


def test_a_station_online_without_a_process_goes_offline_once_silent_past_its_heartbeat(org):
    silent = online_in("", organization=org, ocpp_id="CS-SILENT", heartbeat_interval=60)
    talking = online_in("", organization=org, ocpp_id="CS-TALKING", heartbeat_interval=600)
    leases.reconcile_station_liveness()
    silent.refresh_from_db()
    talking.refresh_from_db()
    assert (silent.connection_state, talking.connection_state) == ("offline", "online")


def test_a_station_recorded_online_here_but_not_held_goes_offline(org):
    name = "this:4:dd"
    lease(name, 30)
    leaked = online_in(name, organization=org, ocpp_id="CS-LEAKED")
    kept = online_in(name, organization=org, ocpp_id="CS-KEPT")
    assert leases.mark_unheld_offline(name, {kept.pk: kept.connected_since}) == 1
    leaked.refresh_from_db()
    kept.refresh_from_db()
    assert (leaked.connection_state, kept.connection_state) == ("offline", "online")


async def test_a_process_that_lost_its_lease_marks_the_stations_it_still_holds_online_again(
    transactional_db, org, db_call, monkeypatch
):
    name = "stalled:5:ee"
    station = await db_call(online_in, name, organization=org, ocpp_id="CS-HELD")
    await db_call(lease, name, -1)
    # It stalled past its lease; another process reaped it and marked its station offline.
    await db_call(leases.reconcile_station_liveness)
    assert await state_of(db_call, station.pk) == ConnectionState.OFFLINE
    monkeypatch.setattr(leases, "process_name", lambda: name)
    monkeypatch.setattr(leases, "held", {station.pk: station.connected_since})
    try:
        await leases.renew_and_reconcile()
    finally:
        await asyncio.to_thread(background_db.stop)
    assert await state_of(db_call, station.pk) == ConnectionState.ONLINE
    assert await db_call(GatewayLease.objects.filter(holder=name).exists)
