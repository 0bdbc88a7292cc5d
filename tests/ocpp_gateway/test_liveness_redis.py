"""While Redis is unreachable, new OCPP handshakes are answered 503 and no station stays online."""

import asyncio
import copy
import logging
import os
from urllib.parse import urlsplit

import pytest
import websockets
from channels_redis.pubsub import RedisPubSubLoopLayer

from ocpp_gateway import consumers
from stations.choices import ConnectionState, SecurityProfile
from stations.models import ChargingStation
from tests.factories import ChargingStationFactory
from tests.faultproxy import FaultProxy
from tests.ocpp_gateway.conftest import open_socket
from tests.ocpp_gateway.test_liveness import state_of

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis: runs in the PostgreSQL + Redis pass"
)


@pytest.fixture
def redis_proxy(settings):
    """The channel layer reaches Redis through a proxy the test can cut."""
    target = urlsplit(os.environ["REDIS_URL"])
    with FaultProxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        layers = copy.deepcopy(settings.CHANNEL_LAYERS)
        layers["default"]["CONFIG"]["hosts"] = [target._replace(netloc=proxy.url_netloc).geturl()]
        settings.CHANNEL_LAYERS = layers
        yield proxy


async def status_of_handshake(base_url, identity) -> int:
    try:
        ws = await open_socket(base_url, identity, password=None)
    except websockets.InvalidStatus as error:
        return error.response.status_code
    await ws.close()
    return 101


@pytest.fixture
def open_station(db_call, org):
    return db_call(
        ChargingStationFactory,
        organization=org,
        ocpp_id="CS-NO-REDIS",
        security_profile=SecurityProfile.NONE,
    )


async def test_a_handshake_while_redis_is_unreachable_is_answered_503_with_one_log_line(
    ocpp_server, redis_proxy, open_station, db_call, caplog
):
    station = await open_station
    caplog.set_level(logging.INFO, logger="ocpp_gateway.consumers")
    assert await status_of_handshake(ocpp_server, "CS-NO-REDIS") == 101
    assert await state_of(db_call, station.pk, until="offline") == ConnectionState.OFFLINE
    # The first connection's own closing line may come after its offline write: waited for,
    # so that every line counted below is the refused handshake's.
    async with asyncio.timeout(10):
        while not any("CS-NO-REDIS disconnected" in r.getMessage() for r in caplog.records):
            await asyncio.sleep(0.02)
    redis_proxy.cut()
    caplog.clear()
    assert await status_of_handshake(ocpp_server, "CS-NO-REDIS") == 503
    ours = [r for r in caplog.records if r.name == "ocpp_gateway.consumers"]
    assert [r.levelname for r in ours] == ["WARNING"]
    assert "503" in ours[0].getMessage()
    station = await db_call(ChargingStation.objects.get, pk=station.pk)
    assert station.connection_state == ConnectionState.OFFLINE
    redis_proxy.restore()
    assert await status_of_handshake(ocpp_server, "CS-NO-REDIS") == 101


async def test_a_handshake_losing_redis_after_the_station_went_online_leaves_it_offline(
    ocpp_server, redis_proxy, open_station, db_call, monkeypatch
):
    station = await open_station
    new_channel = RedisPubSubLoopLayer.new_channel

    async def new_channel_then_redis_goes(layer, *args, **kwargs):
        name = await new_channel(layer, *args, **kwargs)
        redis_proxy.cut()
        return name

    # Redis goes away in the middle of the handshake, after the station was authenticated.
    monkeypatch.setattr(RedisPubSubLoopLayer, "new_channel", new_channel_then_redis_goes)
    assert await status_of_handshake(ocpp_server, "CS-NO-REDIS") == 503
    station = await db_call(ChargingStation.objects.get, pk=station.pk)
    # connect() had marked it online before Redis failed: the refusal marked it offline again.
    assert station.connection_state == ConnectionState.OFFLINE
    assert station.connected_since is not None


async def test_a_handshake_while_redis_does_not_answer_is_answered_503_not_held_open(
    ocpp_server, redis_proxy, open_station, monkeypatch
):
    await open_station
    monkeypatch.setattr(consumers, "HANDSHAKE_LAYER_TIMEOUT", 0.5)
    # Connections are accepted and never answered: a network partition, not a refusal.
    redis_proxy.blackhole()
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(
            f"{ocpp_server}/ocpp/CS-NO-REDIS", subprotocols=["ocpp1.6"], open_timeout=30
        )
    assert refused.value.response.status_code == 503
