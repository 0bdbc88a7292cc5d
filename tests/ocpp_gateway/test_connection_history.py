"""The connection history availability is computed from, and refused handshakes announced."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from core import events
from ocpp_gateway import leases
from ocpp_gateway.connections import (
    Credentials,
    Handshake,
    mark_many_disconnected,
    mark_stations_online,
    open_connections,
)
from stations.choices import ConnectionState
from stations.events import STATION_CONNECTION_REFUSED
from stations.models import ChargingStation, ConnectionEvent
from tests.factories import STATION_PASSWORD, ChargingStationFactory
from tests.ocpp_gateway.conftest import open_socket


def history(station) -> list[str]:
    return list(
        ConnectionEvent.objects.filter(station=station)
        .order_by("at", "id")
        .values_list("state", flat=True)
    )


def connect(station, address="a:1"):
    credentials = Credentials(station.ocpp_id, STATION_PASSWORD)
    [(_, since)] = open_connections([Handshake(station.ocpp_id, credentials, "ocpp1.6", address)])
    return since


@pytest.fixture
def refusals():
    seen = []

    def listen(batch):
        seen.extend(event.data for event in batch)

    events.subscribe(STATION_CONNECTION_REFUSED, listen)
    yield seen
    events.unsubscribe(STATION_CONNECTION_REFUSED, listen)


def test_a_connection_and_its_end_are_recorded_in_the_history(org):
    station = ChargingStationFactory(organization=org)
    since = connect(station)
    mark_many_disconnected([(station.pk, since)])
    assert history(station) == ["online", "offline"]


def test_a_socket_replaced_by_a_newer_connection_records_no_offline(org):
    station = ChargingStationFactory(organization=org)
    old = connect(station, "a:1")
    connect(station, "a:2")
    mark_many_disconnected([(station.pk, old)])
    assert history(station) == ["online", "online"]
    station.refresh_from_db()
    assert station.connection_state == ConnectionState.ONLINE


def test_a_reconciled_dead_process_records_its_stations_offline(org):
    since = timezone.now() - timedelta(minutes=5)
    station = ChargingStationFactory(
        organization=org,
        connection_state=ConnectionState.ONLINE,
        connected_since=since,
        last_seen=since,
        gateway_process="vanished:1:aa",
    )
    leases.reconcile_station_liveness()
    assert history(station) == ["offline"]


def test_stations_marked_online_again_are_recorded_only_if_they_had_gone_offline(org):
    since = timezone.now() - timedelta(minutes=5)
    reaped, kept = (
        ChargingStationFactory(
            organization=org,
            connection_state=state,
            connected_since=since,
            last_seen=since,
            gateway_process="stalled:1:aa",
        )
        for state in (ConnectionState.OFFLINE, ConnectionState.ONLINE)
    )
    mark_stations_online([(reaped.pk, since), (kept.pk, since)], "stalled:1:aa")
    assert (history(reaped), history(kept)) == (["online"], [])


def test_a_wrong_password_is_announced_with_the_station_it_claimed(
    org, refusals, django_capture_on_commit_callbacks
):
    station = ChargingStationFactory(organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        open_connections(
            [Handshake(station.ocpp_id, Credentials(station.ocpp_id, "wrong"), "ocpp1.6", "b:1")]
        )
    assert refusals == [
        {
            "organization_id": org.pk,
            "station_id": station.pk,
            "identity": station.ocpp_id,
            "reason": "wrong_credentials",
        }
    ]
    assert history(station) == []


def test_an_unknown_identity_is_announced_without_an_organization(
    db, refusals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        open_connections([Handshake("NOBODY-" + "X" * 100, None, "ocpp1.6", "c:1")])
    assert refusals == [
        {
            "organization_id": None,
            "station_id": None,
            "identity": ("NOBODY-" + "X" * 100)[:64],
            "reason": "unknown_identity",
        }
    ]


async def test_a_real_socket_leaves_online_then_offline_in_the_history(ocpp_server, org, db_call):
    station = await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-HISTORY")
    ws = await open_socket(ocpp_server, "CS-HISTORY")
    await ws.send('[2, "1", "Heartbeat", {}]')
    await asyncio.wait_for(ws.recv(), 10)
    await ws.close()
    for _ in range(200):
        current = await db_call(ChargingStation.objects.get, pk=station.pk)
        if current.connection_state == ConnectionState.OFFLINE:
            break
        await asyncio.sleep(0.05)
    assert await db_call(history, station) == ["online", "offline"]
