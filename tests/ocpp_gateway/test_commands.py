"""The command service reaches a station over its socket and records every call."""

import asyncio
from datetime import timedelta
from unittest import mock

import pytest
import redis.asyncio
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections
from django.utils import timezone
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, ConfigurationStatus

from core import events
from ocpp_gateway import commands
from ocpp_gateway.commands import asend_call
from ocpp_gateway.events import COMMAND_FINISHED
from ocpp_gateway.messagelog import message_log
from ocpp_gateway.models import CommandLog, OcppMessage
from stations.choices import ConnectionState
from stations.models import ChargingStation
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import Station, connected_station

IDENTITY = "CS-CMD"
KEYS = {
    "HeartbeatInterval": "300",
    "MeterValueSampleInterval": "60",
    "AuthorizationCacheEnabled": "true",
}


class ConfigurableStation(Station):
    """A 1.6 station with a small configuration store, as in OCTT's configuration cases."""

    received: list

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []
        self.config = dict(KEYS)

    @on(Action.get_configuration)
    def on_get_configuration(self, key=None, **_):
        self.received.append(("GetConfiguration", key))
        wanted = key or list(self.config)
        known = [
            {"key": k, "readonly": False, "value": self.config[k]}
            for k in wanted
            if k in self.config
        ]
        unknown = [k for k in wanted if k not in self.config]
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.change_configuration)
    def on_change_configuration(self, key, value, **_):
        self.received.append(("ChangeConfiguration", key, value))
        if key not in self.config:
            return call_result.ChangeConfiguration(status=ConfigurationStatus.not_supported)
        if key == "HeartbeatInterval" and not value.isdigit():
            return call_result.ChangeConfiguration(status=ConfigurationStatus.rejected)
        self.config[key] = value
        return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)


@pytest.fixture
async def station(db_call, org):
    return await db_call(ChargingStationFactory, organization=org, ocpp_id=IDENTITY)


async def send(station, action, payload, **kwargs):
    return await asend_call(station, action, payload, **kwargs)


async def test_tc_019_1_get_configuration_returns_all_keys(ocpp_server, station):
    async with connected_station(ocpp_server, IDENTITY, cls=ConfigurableStation) as cp:
        log = await send(station, "GetConfiguration", {}, command="get_configuration")
    assert cp.received == [("GetConfiguration", None)]
    assert log.status == "accepted"
    assert {k["key"] for k in log.response["configurationKey"]} == set(KEYS)


async def test_tc_019_2_get_configuration_of_one_key(ocpp_server, station):
    async with connected_station(ocpp_server, IDENTITY, cls=ConfigurableStation) as cp:
        log = await send(station, "GetConfiguration", {"key": ["MeterValueSampleInterval"]})
    assert cp.received == [("GetConfiguration", ["MeterValueSampleInterval"])]
    assert log.response["configurationKey"] == [
        {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"}
    ]


async def test_tc_021_change_configuration_is_accepted_and_logged(ocpp_server, station, db_call):
    async with connected_station(ocpp_server, IDENTITY, cls=ConfigurableStation) as cp:
        log = await send(
            station, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"}
        )
    assert cp.config["MeterValueSampleInterval"] == "30"
    stored = await db_call(CommandLog.objects.get, pk=log.pk)
    assert (stored.status, stored.response, stored.action) == (
        "accepted",
        {"status": "Accepted"},
        "ChangeConfiguration",
    )
    assert stored.completed is not None


async def test_tc_040_1_an_unsupported_configuration_key_is_reported_as_rejected(
    ocpp_server, station
):
    async with connected_station(ocpp_server, IDENTITY, cls=ConfigurableStation):
        log = await send(station, "ChangeConfiguration", {"key": "NoSuchKey", "value": "1"})
    assert (log.status, log.response) == ("rejected", {"status": "NotSupported"})


async def test_tc_040_2_an_invalid_configuration_value_is_reported_as_rejected(
    ocpp_server, station
):
    async with connected_station(ocpp_server, IDENTITY, cls=ConfigurableStation) as cp:
        log = await send(
            station, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "often"}
        )
    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})
    assert cp.config["HeartbeatInterval"] == "300"


async def test_a_callerror_from_the_station_is_logged_as_an_error(ocpp_server, station):
    # The plain Station has no GetConfiguration handler: the ocpp library answers NotImplemented.
    async with connected_station(ocpp_server, IDENTITY):
        log = await send(station, "GetConfiguration", {})
    assert log.status == "error"
    assert log.error_code == "NotImplemented"


async def test_a_station_that_never_answers_gives_a_timeout_row(ocpp_server, station, db_call):
    class Silent(ConfigurableStation):
        @on(Action.get_configuration)
        async def on_get_configuration(self, **_):
            await asyncio.sleep(30)

    async with connected_station(ocpp_server, IDENTITY, cls=Silent):
        log = await send(station, "GetConfiguration", {}, timeout=0.3)
    assert log.status == "timeout"
    assert (await db_call(CommandLog.objects.get, pk=log.pk)).status == "timeout"


async def test_an_offline_station_fails_at_once_without_waiting(station, db_call, transactional_db):
    log = await send(station, "Reset", {"type": "Soft"})
    assert log.status == "offline"
    assert "offline" in log.error_description


async def test_a_station_marked_online_but_held_by_no_process_is_offline(
    station, db_call, transactional_db
):
    await db_call(
        ChargingStation.objects.filter(pk=station.pk).update,
        connection_state=ConnectionState.ONLINE,
    )
    with mock.patch.object(commands, "DELIVERY_TIMEOUT", 0.2):
        log = await send(station, "Reset", {"type": "Soft"})
    assert log.status == "offline"


async def test_calls_to_one_station_are_serialized(ocpp_server, station):
    in_flight = []

    class Slow(ConfigurableStation):
        @on(Action.change_configuration)
        async def on_change_configuration(self, key, value, **_):
            in_flight.append(key)
            assert len(in_flight) == 1, "a second CALL arrived before the first was answered"
            await asyncio.sleep(0.1)
            in_flight.remove(key)
            self.received.append(key)
            return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)

    async with connected_station(ocpp_server, IDENTITY, cls=Slow) as cp:
        logs = await asyncio.gather(
            *(
                send(station, "ChangeConfiguration", {"key": f"K{i}", "value": "1"})
                for i in range(3)
            )
        )
    assert [log.status for log in logs] == ["accepted"] * 3
    assert sorted(cp.received) == ["K0", "K1", "K2"]


async def test_a_disconnect_answers_a_waiting_call_with_offline(ocpp_server, station):
    class Vanishing(ConfigurableStation):
        @on(Action.get_configuration)
        async def on_get_configuration(self, **_):
            await self._connection.close()
            return call_result.GetConfiguration()

    async with connected_station(ocpp_server, IDENTITY, cls=Vanishing):
        log = await send(station, "GetConfiguration", {}, timeout=5)
    assert log.status == "offline"


async def test_the_call_and_its_answer_are_in_the_message_log(ocpp_server, station, db_call):
    async with connected_station(ocpp_server, IDENTITY, cls=ConfigurableStation):
        await send(
            station, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "15"}
        )
    await message_log.flush()
    rows = await db_call(
        lambda: list(
            OcppMessage.objects.filter(ocpp_id=IDENTITY, message_type__in=[2, 3])
            .order_by("id")
            .values_list("direction", "message_type", "action", "payload")
        )
    )
    assert rows[0] == (
        "out",
        2,
        "ChangeConfiguration",
        {"key": "MeterValueSampleInterval", "value": "15"},
    )
    assert rows[1][:2] == ("in", 3) and rows[1][3] == {"status": "Accepted"}


async def test_the_sync_form_works_from_a_thread(ocpp_server, station):
    def from_a_view():
        try:
            return commands.send_call(
                station, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "45"}
            )
        finally:
            connections.close_all()

    async with connected_station(ocpp_server, IDENTITY, cls=ConfigurableStation):
        log = await sync_to_async(from_a_view, thread_sensitive=False)()
    assert log.status == "accepted"


async def test_commands_share_one_reply_channel_instead_of_leaving_one_each(ocpp_server, station):
    async with connected_station(ocpp_server, IDENTITY, cls=ConfigurableStation):
        for _ in range(3):
            assert (await send(station, "GetConfiguration", {})).status == "accepted"

    config = settings.CHANNEL_LAYERS["default"].get("CONFIG")
    if config:  # Redis pub/sub: a subscription per reply channel would pile up in Redis
        client = redis.asyncio.from_url(config["hosts"][0])
        try:
            assert len(await client.pubsub_channels(f"{config['prefix']}ocpp.reply.*")) == 1
        finally:
            await client.aclose()
    else:
        assert len([name for name in get_channel_layer().channels if "ocpp.reply." in name]) <= 1


@pytest.fixture
def finished_events():
    """Every command.finished batch announced during the test."""
    seen = []
    events.subscribe(COMMAND_FINISHED, seen.extend)
    yield seen
    events.unsubscribe(COMMAND_FINISHED, seen.extend)


async def test_an_answered_command_announces_command_finished(
    ocpp_server, station, finished_events
):
    async with connected_station(ocpp_server, IDENTITY, cls=ConfigurableStation):
        log = await send(station, "GetConfiguration", {}, command="get_configuration")

    assert [event.data for event in finished_events] == [
        {
            "organization_id": station.organization_id,
            "station_id": station.pk,
            "command_log_id": log.pk,
            "command": "get_configuration",
            "action": "GetConfiguration",
            "status": "accepted",
        }
    ]


async def test_a_command_to_an_offline_station_announces_it_finished_offline(
    station, transactional_db, finished_events
):
    log = await send(station, "Reset", {"type": "Soft"})

    assert [(e["command_log_id"], e["status"]) for e in finished_events] == [(log.pk, "offline")]


@pytest.mark.django_db
def test_expiring_stale_commands_announces_each_as_timed_out(
    org, settings, finished_events, django_capture_on_commit_callbacks
):
    settings.OCPP_CALL_TIMEOUT = 30
    station = ChargingStationFactory(organization=org)
    stale = CommandLog.objects.create(station=station, command="reset", action="Reset")
    CommandLog.objects.create(station=station, command="reset", action="Reset")  # recent
    CommandLog.objects.filter(pk=stale.pk).update(created=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert commands.expire_pending_commands() == 1
        assert finished_events == []  # only once committed

    # The whole batch in one hook (the portal's live subscriber adds its own hook as it runs).
    assert [hook.__qualname__ for hook in callbacks].count("emit_many.<locals>.<lambda>") == 1

    assert [(e["command_log_id"], e["status"]) for e in finished_events] == [(stale.pk, "timeout")]
