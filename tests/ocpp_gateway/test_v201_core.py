"""OCPP 2.0.1 provisioning, status and authorization (OCTT, CSMS under test) over a real socket."""

import asyncio
from datetime import UTC, datetime

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.exceptions import NotSupportedError, PropertyConstraintViolationError, SecurityError
from ocpp.routing import on
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call as call21
from ocpp.v201 import call, call_result
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    BootReasonEnumType,
    ConnectorStatusEnumType,
    RegistrationStatusEnumType,
)

from cards.choices import IdTokenStatus
from cms.celery import app as celery_app
from ocpp_gateway.remote import Actor, execute_command
from ocpp_gateway.remote import device_model as device_model_commands
from organizations.choices import Role
from sessions_app.models import ChargingSession
from stations.choices import ConnectorStatus, RegistrationStatus
from stations.models import ChargingStation, Connector, StationEvent
from tests.factories import AccessGroupFactory, ChargingStationFactory, IdTokenFactory
from tests.ocpp_gateway.conftest import Station201, connected_station201, open_socket

IDENTITY = "CS-201"
VALID, EXPIRED, BLOCKED, GROUPED = "04A1B2C3D4E5F6", "04EEEEEE01", "04BBBBBB01", "04CCCCCC01"
MASTER = "04MMMMMM01"  # a supervisor's card in the master pass group


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def boot(reason=BootReasonEnumType.power_up):
    return call.BootNotification(
        charging_station={
            "model": "Wallbox 2",
            "vendor_name": "ACME",
            "serial_number": "SN-201",
            "firmware_version": "2.4.1",
            "modem": {"iccid": "8931080019073497795", "imsi": "262011234567890"},
        },
        reason=reason,
    )


@pytest.fixture
async def station(db_call, org):
    """A 2.0.1 station of `org` whose site admits a group with valid, expired and blocked cards."""

    def build():
        station = ChargingStationFactory(organization=org, ocpp_id=IDENTITY)
        group = AccessGroupFactory(organization=org, name="Drivers")
        station.site.access_groups.add(group)
        IdTokenFactory(organization=org, uid=VALID, access_groups=[group])
        IdTokenFactory(
            organization=org,
            uid=EXPIRED,
            access_groups=[group],
            expires_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
        IdTokenFactory(
            organization=org, uid=BLOCKED, access_groups=[group], status=IdTokenStatus.BLOCKED
        )
        IdTokenFactory(
            organization=org, uid=GROUPED, access_groups=[group], parent_id_tag="FLEET-7"
        )
        IdTokenFactory(
            organization=org, uid=MASTER, access_groups=[group], parent_id_tag="MASTERPASS"
        )
        return station

    return await db_call(build)


async def test_tc_b_01_cold_boot_accepted(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        answer = await cs.call(boot())
        assert answer.status == RegistrationStatusEnumType.accepted
        assert answer.interval == station.heartbeat_interval
        beat = await cs.call(call.Heartbeat())
        assert beat.current_time
        await cs.call(
            call.StatusNotification(
                timestamp=now(),
                connector_status=ConnectorStatusEnumType.available,
                evse_id=1,
                connector_id=1,
            )
        )
    fresh = await db_call(ChargingStation.objects.get, pk=station.pk)
    assert (fresh.vendor, fresh.model, fresh.serial_number) == ("ACME", "Wallbox 2", "SN-201")
    assert (fresh.firmware_version, fresh.iccid, fresh.imsi) == (
        "2.4.1",
        "8931080019073497795",
        "262011234567890",
    )
    assert fresh.boot_reason == "PowerUp"
    assert fresh.ocpp_version == "ocpp2.0.1"
    connector = await db_call(Connector.objects.get, station=station, connector_id=1)
    assert connector.status == ConnectorStatus.AVAILABLE


async def test_tc_b_02_cold_boot_pending(ocpp_server, station, db_call):
    station.registration_status = RegistrationStatus.PENDING
    await db_call(station.save)
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        answer = await cs.call(boot())
        assert answer.status == RegistrationStatusEnumType.pending


async def test_tc_b_30_pending_station_gets_security_error(ocpp_server, station, db_call):
    station.registration_status = RegistrationStatus.PENDING
    await db_call(station.save)
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        with pytest.raises(SecurityError):
            await cs.call(call.Heartbeat(), suppress=False)


async def test_tc_b_58_subprotocol_negotiation(ocpp_server, station):
    # Offered both: the newest the gateway speaks wins.
    ws = await open_socket(ocpp_server, IDENTITY, subprotocols=("ocpp1.6", "ocpp2.0.1"))
    assert ws.subprotocol == "ocpp2.0.1"
    await ws.close()
    # Offered none the gateway speaks: refused at the handshake.
    with pytest.raises(websockets.InvalidStatus):
        await open_socket(ocpp_server, IDENTITY, subprotocols=("ocpp1.5",))


async def test_tc_a_01_to_03_basic_auth(ocpp_server, station):
    ws = await open_socket(ocpp_server, IDENTITY, subprotocols=("ocpp2.0.1",))
    await ws.close()
    with pytest.raises(websockets.InvalidStatus):
        # The username must be the station's identity (TC_A_02).
        await websockets.connect(
            f"{ocpp_server}/ocpp/{IDENTITY}",
            subprotocols=["ocpp2.0.1"],
            additional_headers={"Authorization": "Basic T1RIRVI6c2VjcmV0"},
        )
    with pytest.raises(websockets.InvalidStatus):
        await open_socket(ocpp_server, IDENTITY, "wrong", subprotocols=("ocpp2.0.1",))


@pytest.mark.parametrize(
    "uid, expected",
    [
        (VALID, AuthorizationStatusEnumType.accepted),
        ("DEADBEEF01", AuthorizationStatusEnumType.invalid),  # TC_C_02
        (BLOCKED, AuthorizationStatusEnumType.blocked),  # TC_C_06
        (EXPIRED, AuthorizationStatusEnumType.expired),  # TC_C_07
    ],
)
async def test_tc_c_02_06_07_authorize(ocpp_server, station, uid, expected):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        answer = await cs.call(call.Authorize(id_token={"id_token": uid, "type": "ISO14443"}))
    assert answer.id_token_info["status"] == expected


async def test_tc_c_39_authorization_by_group_id(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        answer = await cs.call(call.Authorize(id_token={"id_token": GROUPED, "type": "ISO14443"}))
    assert answer.id_token_info["status"] == "Accepted"
    assert answer.id_token_info["group_id_token"] == {"id_token": "FLEET-7", "type": "Central"}


@pytest.mark.parametrize("case", ["tc_c_47", "tc_c_48", "tc_c_49"])
async def test_tc_c_47_48_49_master_pass_card_carries_its_group(ocpp_server, station, case):
    # The station stops transactions for a token whose group is its MasterPassGroupId: what the
    # CSMS owes it is that group in the answer, for Authorize and for the transaction's token.
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        answer = await cs.call(call.Authorize(id_token={"id_token": MASTER, "type": "ISO14443"}))
    assert answer.id_token_info["status"] == "Accepted"
    assert answer.id_token_info["group_id_token"]["id_token"] == "MASTERPASS"


async def test_no_authorization_token_is_accepted_without_asking_the_cards(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        answer = await cs.call(call.Authorize(id_token={"id_token": "", "type": "NoAuthorization"}))
    assert answer.id_token_info == {"status": "Accepted"}


class Station21(ChargePoint21):
    """The `ocpp` package's 2.1 charging station."""


async def test_ocpp21_station_boots_and_authorizes_through_the_201_handlers(
    ocpp_server, station, db_call
):
    async with connected_station201(
        ocpp_server, IDENTITY, cls=Station21, subprotocol="ocpp2.1"
    ) as cs:
        answer = await cs.call(
            call21.BootNotification(
                charging_station={"model": "Wallbox 3", "vendor_name": "ACME"},
                reason="PowerUp",
            )
        )
        assert answer.status == "Accepted"
        auth = await cs.call(call21.Authorize(id_token={"id_token": VALID, "type": "ISO14443"}))
        assert auth.id_token_info["status"] == "Accepted"
        # What 2.1 adds and the platform does not model is refused, never a crash.
        with pytest.raises(NotSupportedError):
            await cs.call(
                call21.NotifyPriorityCharging(transaction_id="TX-1", activated=True),
                suppress=False,
            )
        beat = await cs.call(call21.Heartbeat())
        assert beat.current_time
    fresh = await db_call(ChargingStation.objects.get, pk=station.pk)
    assert (fresh.ocpp_version, fresh.model) == ("ocpp2.1", "Wallbox 3")


async def test_an_accepted_201_boot_asks_for_the_full_device_model(
    ocpp_server, station, db_call, monkeypatch
):
    # With a Celery worker (production) the refresh is a task; only accepted 2.0.1 boots ask.
    # A Celery worker takes the tasks (production), whatever this pass configured.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    enqueued = []
    monkeypatch.setattr(
        device_model_commands, "enqueue_now", lambda task, *args: enqueued.append(args)
    )
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
    assert enqueued == [(station.pk,)]

    station.registration_status = RegistrationStatus.PENDING
    await db_call(station.save)
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
    assert enqueued == [(station.pk,)], "a pending station is not asked"


class TriggerableStation(Station201):
    """A 2.0.1 station that boots again when the CSMS triggers it, as TC_B_31 expects."""

    @on(Action.trigger_message)
    async def on_trigger(self, requested_message, **_):
        if requested_message == "BootNotification":
            asyncio.get_running_loop().call_later(
                0.05, lambda: asyncio.ensure_future(self._reboot())
            )
        return call_result.TriggerMessage(status="Accepted")

    async def _reboot(self):
        self.reboot = await self.call(boot())


async def test_tc_b_31_a_pending_station_boots_again_when_triggered(ocpp_server, station, db_call):
    station.registration_status = RegistrationStatus.PENDING
    await db_call(station.save)
    async with connected_station201(ocpp_server, IDENTITY, cls=TriggerableStation) as cs:
        assert (await cs.call(boot())).status == RegistrationStatusEnumType.pending
        # Support staff accept it, then ask it to boot again rather than wait for its retry.
        await db_call(
            ChargingStation.objects.filter(pk=station.pk).update,
            registration_status=RegistrationStatus.ACCEPTED,
        )
        log = await in_thread(
            lambda: execute_command(
                ChargingStation.objects.get(pk=station.pk),
                "trigger_message",
                {"requested_message": "BootNotification"},
                actor=Actor(role=Role.OPERATOR),
            )
        )
        assert log.status == "accepted"
        for _ in range(100):
            if getattr(cs, "reboot", None) is not None:
                break
            await asyncio.sleep(0.05)
        assert cs.reboot.status == RegistrationStatusEnumType.accepted
        beat = await cs.call(call.Heartbeat(), suppress=False)
        assert beat.current_time


async def in_thread(function):
    """Run a command from a worker thread, as a server would, while the loop serves OCPP."""

    def run():
        try:
            return function()
        finally:
            connections.close_all()

    return await sync_to_async(run, thread_sensitive=False)()


def started(uid: str, transaction_id: str) -> call.TransactionEvent:
    return call.TransactionEvent(
        event_type="Started",
        timestamp=now(),
        trigger_reason="Authorized",
        seq_no=0,
        transaction_info={"transaction_id": transaction_id, "charging_state": "Charging"},
        evse={"id": 1, "connector_id": 1},
        id_token={"id_token": uid, "type": "ISO14443"},
        offline=True,
    )


async def test_tc_c_08_a_start_from_the_authorization_cache_is_answered_accepted(
    ocpp_server, station, db_call
):
    # The station started at once from its cache (no Authorize): the transaction's answer is the
    # CSMS's word on the card, which it keeps in the cache.
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        answer = await cs.call(started(VALID, "TX-CACHE-1"))
    assert answer.id_token_info["status"] == "Accepted"
    session = await db_call(ChargingSession.objects.get, transaction_id="TX-CACHE-1")
    assert (session.id_tag, session.billable) == (VALID, True)


async def test_tc_c_20_a_cached_card_blocked_since_is_answered_blocked(
    ocpp_server, station, db_call
):
    # The cache still says Accepted; the card was blocked since: the answer tells the station,
    # which then stops (or suspends) the transaction, and nobody is billed for it.
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        answer = await cs.call(started(BLOCKED, "TX-CACHE-2"))
    assert answer.id_token_info["status"] == "Blocked"
    session = await db_call(ChargingSession.objects.get, transaction_id="TX-CACHE-2")
    assert session.billable is False


async def test_tc_g_20_a_lock_failure_is_stored_as_a_station_event(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            call.NotifyEvent(
                generated_at=now(),
                seq_no=0,
                event_data=[
                    {
                        "event_id": 1,
                        "timestamp": now(),
                        "trigger": "Delta",
                        "actual_value": "true",
                        "event_notification_type": "HardWiredNotification",
                        "component": {
                            "name": "ConnectorPlugRetentionLock",
                            "evse": {"id": 1, "connector_id": 1},
                        },
                        "variable": {"name": "Problem"},
                    }
                ],
            )
        )
    event = await db_call(StationEvent.objects.get, station=station)
    assert (event.component, event.variable, event.actual_value) == (
        "ConnectorPlugRetentionLock",
        "Problem",
        "true",
    )


async def test_a_status_of_evse_0_is_refused_and_stores_nothing(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        with pytest.raises(PropertyConstraintViolationError):
            await cs.call(
                call.StatusNotification(
                    timestamp=now(), connector_status="Faulted", evse_id=0, connector_id=1
                ),
                suppress=False,
            )
    statuses = await db_call(
        lambda: list(Connector.objects.filter(station=station).values_list("status", flat=True))
    )
    assert "Faulted" not in statuses
