"""Stations connect over a real WebSocket: subprotocol, Basic auth, unknown identities, state."""

import asyncio
import base64

import pytest
import websockets
from ocpp.v16 import call
from ocpp.v16.enums import RegistrationStatus

from ocpp_gateway.connections import mark_many_disconnected
from stations.choices import ConnectionState, SecurityProfile
from stations.models import ChargingStation
from tests.factories import STATION_PASSWORD, ChargingStationFactory
from tests.ocpp_gateway.conftest import connected_station, open_socket, raw_exchange

BOOT = call.BootNotification(charge_point_model="Wallbox X", charge_point_vendor="ACME")


async def refused(coro) -> bool:
    """Whether the handshake was refused (HTTP 403 instead of 101)."""
    try:
        ws = await coro
    except websockets.InvalidStatus as error:
        return error.response.status_code == 403
    await ws.close()
    return False


@pytest.fixture
def make_station(db_call, org):
    def make(**kwargs):
        kwargs.setdefault("organization", org)
        return db_call(ChargingStationFactory, **kwargs)

    return make


async def test_tc_085_basic_auth_with_the_right_password_connects_and_boots(
    ocpp_server, make_station, db_call
):
    await make_station(ocpp_id="CS-AUTH")
    async with connected_station(ocpp_server, "CS-AUTH") as cp:
        result = await cp.call(BOOT)
    assert result.status == RegistrationStatus.accepted
    station = await db_call(ChargingStation.objects.get, ocpp_id="CS-AUTH")
    assert station.vendor == "ACME"


async def test_a_wrong_password_is_refused_at_the_handshake(ocpp_server, make_station, caplog):
    await make_station(ocpp_id="CS-AUTH")
    assert await refused(open_socket(ocpp_server, "CS-AUTH", password="not-the-password"))
    assert "wrong Basic auth password" in caplog.text


async def test_a_missing_password_is_refused_when_the_profile_requires_one(
    ocpp_server, make_station
):
    await make_station(ocpp_id="CS-AUTH")
    assert await refused(open_socket(ocpp_server, "CS-AUTH", password=None))


async def test_a_basic_auth_username_other_than_the_identity_is_refused(ocpp_server, make_station):
    await make_station(ocpp_id="CS-AUTH")
    headers = {
        "Authorization": "Basic "
        + base64.b64encode(b"CS-OTHER:" + STATION_PASSWORD.encode()).decode()
    }
    coro = websockets.connect(
        f"{ocpp_server}/ocpp/CS-AUTH", subprotocols=["ocpp1.6"], additional_headers=headers
    )
    assert await refused(coro)


async def test_profile_0_stations_connect_without_a_password(ocpp_server, make_station):
    await make_station(ocpp_id="CS-OPEN", security_profile=SecurityProfile.NONE)
    ws = await open_socket(ocpp_server, "CS-OPEN", password=None)
    answer = await raw_exchange(ws, [2, "1", "Heartbeat", {}])
    await ws.close()
    assert answer[0] == 3 and "currentTime" in answer[2]


async def test_an_unknown_identity_is_refused_by_default(ocpp_server, caplog):
    assert await refused(open_socket(ocpp_server, "NOBODY-KNOWS-ME"))
    assert "unknown identity" in caplog.text


async def test_an_unknown_identity_registers_as_pending_when_the_policy_says_so(
    ocpp_server, settings, db_call
):
    settings.OCPP_UNKNOWN_STATIONS = "register"
    async with connected_station(ocpp_server, "NEW-STATION-1", password="first-password-1") as cp:
        result = await cp.call(BOOT)
    assert result.status == RegistrationStatus.pending
    station = await db_call(ChargingStation.objects.get, ocpp_id="NEW-STATION-1")
    assert station.organization_id is None
    assert station.check_password("first-password-1")


async def test_a_pending_station_may_only_boot(ocpp_server, settings):
    settings.OCPP_UNKNOWN_STATIONS = "register"
    ws = await open_socket(ocpp_server, "NEW-STATION-2")
    answer = await raw_exchange(ws, [2, "a", "Authorize", {"idTag": "04AABB"}])
    assert answer[:3] == [4, "a", "SecurityError"]
    answer = await raw_exchange(
        ws, [2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}]
    )
    assert answer[0] == 3 and answer[2]["status"] == "Pending"
    await ws.close()


async def test_no_common_subprotocol_refuses_the_handshake(ocpp_server, make_station):
    await make_station(ocpp_id="CS-PROTO")
    assert await refused(open_socket(ocpp_server, "CS-PROTO", subprotocols=("ocpp1.5",)))
    assert await refused(open_socket(ocpp_server, "CS-PROTO", subprotocols=()))


async def test_ocpp16_is_chosen_from_the_offered_list(ocpp_server, make_station):
    await make_station(ocpp_id="CS-PROTO")
    ws = await open_socket(ocpp_server, "CS-PROTO", subprotocols=("ocpp1.5", "ocpp1.6"))
    assert ws.subprotocol == "ocpp1.6"
    await ws.close()


async def test_the_identity_is_the_url_decoded_last_path_segment(
    ocpp_server, make_station, db_call
):
    await make_station(ocpp_id="CS 01/ä")
    ws = await open_socket(ocpp_server, "CS 01/ä", path="some/prefix/CS%2001%2F%C3%A4")
    answer = await raw_exchange(ws, [2, "1", "Heartbeat", {}])
    await ws.close()
    assert answer[0] == 3


async def test_connection_state_follows_connect_and_disconnect(ocpp_server, make_station, db_call):
    await make_station(ocpp_id="CS-STATE")
    ws = await open_socket(ocpp_server, "CS-STATE")
    await raw_exchange(ws, [2, "1", "Heartbeat", {}])
    station = await db_call(ChargingStation.objects.get, ocpp_id="CS-STATE")
    assert station.connection_state == ConnectionState.ONLINE
    assert station.ocpp_version == "ocpp1.6"
    assert station.remote_address.startswith("127.0.0.1:")
    assert station.last_seen is not None
    await ws.close()
    for _ in range(100):
        station = await db_call(ChargingStation.objects.get, ocpp_id="CS-STATE")
        if station.connection_state == ConnectionState.OFFLINE:
            break
        await asyncio.sleep(0.02)
    assert station.connection_state == ConnectionState.OFFLINE


async def test_a_second_connection_replaces_the_first(ocpp_server, make_station, db_call):
    await make_station(ocpp_id="CS-TWICE")
    first = await open_socket(ocpp_server, "CS-TWICE")
    second = await open_socket(ocpp_server, "CS-TWICE")
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(first.recv(), 5)
    assert first.close_code == 4000
    answer = await raw_exchange(second, [2, "1", "Heartbeat", {}])
    assert answer[0] == 3
    await asyncio.sleep(0.1)
    station = await db_call(ChargingStation.objects.get, ocpp_id="CS-TWICE")
    assert station.connection_state == ConnectionState.ONLINE, (
        "the replaced socket must not mark it offline"
    )
    await second.close()


def test_many_handshakes_are_checked_together_and_only_the_good_ones_go_online(org):
    from ocpp_gateway.connections import Credentials, Handshake, HandshakeRefused, open_connections

    good, bad = ChargingStationFactory(organization=org), ChargingStationFactory(organization=org)
    outcomes = open_connections(
        [
            Handshake(good.ocpp_id, Credentials(good.ocpp_id, STATION_PASSWORD), "ocpp1.6", "a"),
            Handshake(bad.ocpp_id, Credentials(bad.ocpp_id, "wrong-password"), "ocpp1.6", "b"),
            Handshake("NOBODY", None, "ocpp1.6", "c"),
        ]
    )

    assert outcomes[0][0].pk == good.pk
    assert isinstance(outcomes[1], HandshakeRefused)
    assert isinstance(outcomes[2], HandshakeRefused)
    states = dict(ChargingStation.objects.values_list("ocpp_id", "connection_state"))
    assert states == {good.ocpp_id: ConnectionState.ONLINE, bad.ocpp_id: ConnectionState.OFFLINE}


def test_a_stale_connection_does_not_mark_a_reconnected_station_offline(org):
    from django.utils import timezone

    from ocpp_gateway.connections import Credentials, Handshake, open_connections

    station = ChargingStationFactory(organization=org)
    credentials = Credentials(station.ocpp_id, STATION_PASSWORD)
    [(_, old)] = open_connections([Handshake(station.ocpp_id, credentials, "ocpp1.6", "a:1")])
    [(_, new)] = open_connections([Handshake(station.ocpp_id, credentials, "ocpp1.6", "a:2")])
    assert new > old
    mark_many_disconnected([(station.pk, old)])
    station.refresh_from_db()
    assert station.connection_state == ConnectionState.ONLINE
    mark_many_disconnected([(station.pk, new)])
    station.refresh_from_db()
    assert station.connection_state == ConnectionState.OFFLINE
    assert station.last_seen <= timezone.now()
