"""OCPP 1.6 conformance flows (OCTT, central system under test) over a real WebSocket."""

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call
from ocpp.v16.enums import (
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    DataTransferStatus,
    Reason,
    RegistrationStatus,
)

from billing.models import ChargeDetailRecord
from cards.choices import IdTokenStatus
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession, MeterValue
from stations.models import ChargingStation, Connector, StatusEvent
from tests.factories import (
    AccessGroupFactory,
    ChargingStationFactory,
    IdTokenFactory,
    TariffFactory,
    energy_elements,
)
from tests.ocpp_gateway.conftest import connected_station

IDENTITY = "CS-OCTT"
VALID, INVALID, EXPIRED, BLOCKED = "04A1B2C3D4", "DEADBEEF01", "04EEEEEE01", "04BBBBBB01"


BASE = datetime.now(UTC).replace(microsecond=0)


def ts(minutes=0.0) -> str:
    """An OCPP timestamp `minutes` from one fixed moment, so differences are exact."""
    moment = BASE + timedelta(minutes=minutes)
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
async def setup(db_call, org):
    """A station of `org` whose site admits a group with valid, expired and blocked cards."""

    def build():
        from billing.models import TariffAssignment

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
        tariff = TariffFactory(
            organization=org, elements=energy_elements("0.4000"), tax_rate="19.00"
        )
        TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
        return station

    return await db_call(build)


def status(connector_id, state, error=ChargePointErrorCode.no_error, when=None):
    return call.StatusNotification(
        connector_id=connector_id, error_code=error, status=state, timestamp=when or ts()
    )


def meter(transaction_id, wh, when=None, connector_id=1):
    return call.MeterValues(
        connector_id=connector_id,
        transaction_id=transaction_id,
        meter_value=[
            {
                "timestamp": when or ts(),
                "sampledValue": [
                    {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                ],
            }
        ],
    )


async def connector_status(db_call, number):
    return await db_call(
        lambda: Connector.objects.get(station__ocpp_id=IDENTITY, connector_id=number).status
    )


async def session(db_call, transaction_id):
    return await db_call(
        ChargingSession.objects.get, station__ocpp_id=IDENTITY, transaction_id=str(transaction_id)
    )


async def test_tc_001_cold_boot_is_accepted_and_statuses_are_stored(ocpp_server, setup, db_call):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        boot = await cp.call(
            call.BootNotification(
                charge_point_vendor="ACME",
                charge_point_model="Wallbox X",
                charge_point_serial_number="SN-1",
                firmware_version="1.2.3",
                iccid="8949000000000000001",
                imsi="262010000000001",
                meter_type="EM24",
                meter_serial_number="M-77",
            )
        )
        for connector_id in (0, 1, 2):
            await cp.call(status(connector_id, ChargePointStatus.available))
        heartbeat = await cp.call(call.Heartbeat())
    assert boot.status == RegistrationStatus.accepted
    assert boot.interval == 300
    assert heartbeat.current_time.endswith("Z")
    station = await db_call(ChargingStation.objects.get, ocpp_id=IDENTITY)
    assert (station.vendor, station.model, station.serial_number) == ("ACME", "Wallbox X", "SN-1")
    assert (station.firmware_version, station.iccid, station.meter_type) == (
        "1.2.3",
        "8949000000000000001",
        "EM24",
    )
    assert station.status == "Available"
    assert await connector_status(db_call, 1) == "Available"
    assert await db_call(StatusEvent.objects.filter(station=station).count) == 3


async def test_tc_003_regular_charging_session_plugin_first(
    ocpp_server, setup, db_call, eager_celery
):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        await cp.call(status(1, ChargePointStatus.preparing))
        auth = await cp.call(call.Authorize(id_tag=VALID))
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=VALID, meter_start=1000, timestamp=ts(-30))
        )
        await cp.call(status(1, ChargePointStatus.charging))
        await cp.call(meter(start.transaction_id, 6000, ts(-15)))
        assert await connector_status(db_call, 1) == "Charging"
        running = await session(db_call, start.transaction_id)
        assert (running.state, running.energy_wh, running.last_power_w) == ("active", 5000, 11000)
        stop = await cp.call(
            call.StopTransaction(
                transaction_id=start.transaction_id,
                meter_stop=11000,
                timestamp=ts(),
                id_tag=VALID,
                reason=Reason.local,
            )
        )
        await cp.call(status(1, ChargePointStatus.finishing))
        await cp.call(status(1, ChargePointStatus.available))
    assert auth.id_tag_info["status"] == AuthorizationStatus.accepted
    assert start.id_tag_info["status"] == AuthorizationStatus.accepted
    assert isinstance(start.transaction_id, int) and start.transaction_id > 0
    assert stop.id_tag_info["status"] == AuthorizationStatus.accepted
    done = await session(db_call, start.transaction_id)
    assert (done.state, done.meter_stop, done.energy_wh, done.stop_reason) == (
        SessionState.COMPLETED,
        11000,
        10000,
        "Local",
    )
    assert await connector_status(db_call, 1) == "Available"
    # Pricing was enqueued after the commit and ran in-process (eager_celery).
    cdr = await db_call(ChargeDetailRecord.objects.get, session=done)
    assert str(cdr.energy_amount) == "4.0000"


async def test_tc_004_1_identification_first(ocpp_server, setup, db_call):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        auth = await cp.call(call.Authorize(id_tag=VALID))
        await cp.call(status(1, ChargePointStatus.preparing))
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=VALID, meter_start=0, timestamp=ts())
        )
        await cp.call(status(1, ChargePointStatus.charging))
    assert auth.id_tag_info["status"] == AuthorizationStatus.accepted
    assert start.id_tag_info["status"] == AuthorizationStatus.accepted
    assert (await session(db_call, start.transaction_id)).state == SessionState.ACTIVE


async def test_tc_004_2_identification_first_connection_timeout_starts_nothing(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        auth = await cp.call(call.Authorize(id_tag=VALID))
        await cp.call(status(1, ChargePointStatus.preparing))
        # No cable arrives within ConnectionTimeOut: the station returns to Available.
        await cp.call(status(1, ChargePointStatus.available))
    assert auth.id_tag_info["status"] == AuthorizationStatus.accepted
    assert await db_call(ChargingSession.objects.count) == 0
    assert await connector_status(db_call, 1) == "Available"


async def test_tc_005_1_ev_side_disconnected_stops_and_unlocks(ocpp_server, setup, db_call):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=VALID, meter_start=0, timestamp=ts(-10))
        )
        await cp.call(status(1, ChargePointStatus.charging))
        await cp.call(status(1, ChargePointStatus.suspended_ev))
        stop = await cp.call(
            call.StopTransaction(
                transaction_id=start.transaction_id,
                meter_stop=2500,
                timestamp=ts(),
                reason=Reason.ev_disconnected,
            )
        )
        await cp.call(status(1, ChargePointStatus.available))
    assert stop.id_tag_info is None
    done = await session(db_call, start.transaction_id)
    assert (done.state, done.stop_reason, done.energy_wh) == ("completed", "EVDisconnected", 2500)
    assert await connector_status(db_call, 1) == "Available"


async def test_tc_007_start_with_a_cached_id_needs_no_authorize(ocpp_server, setup, db_call):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        await cp.call(status(1, ChargePointStatus.preparing))
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=VALID, meter_start=0, timestamp=ts())
        )
    assert start.id_tag_info["status"] == AuthorizationStatus.accepted
    assert (await session(db_call, start.transaction_id)).id_tag == VALID


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        pytest.param(INVALID, AuthorizationStatus.invalid, id="tc_023_1_invalid"),
        pytest.param(EXPIRED, AuthorizationStatus.expired, id="tc_023_2_expired"),
        pytest.param(BLOCKED, AuthorizationStatus.blocked, id="tc_023_3_blocked"),
    ],
)
async def test_tc_023_authorize_answers_the_cards_status_and_starts_nothing(
    ocpp_server, setup, db_call, tag, expected
):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        await cp.call(status(1, ChargePointStatus.preparing))
        auth = await cp.call(call.Authorize(id_tag=tag))
        await cp.call(status(1, ChargePointStatus.available))
    assert auth.id_tag_info["status"] == expected
    if tag == EXPIRED:
        assert auth.id_tag_info["expiry_date"].startswith("2020-01-01")
    assert await db_call(ChargingSession.objects.count) == 0


async def test_tc_032_1_power_failure_boot_stops_the_transaction_from_the_queue(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=VALID, meter_start=500, timestamp=ts(-20))
        )
        await cp.call(status(1, ChargePointStatus.charging))
    # Power returns: the station reboots on a new connection and flushes its queue.
    async with connected_station(ocpp_server, IDENTITY) as cp:
        boot = await cp.call(
            call.BootNotification(charge_point_vendor="ACME", charge_point_model="X")
        )
        stop = await cp.call(
            call.StopTransaction(
                transaction_id=start.transaction_id,
                meter_stop=3500,
                timestamp=ts(-5),
                reason=Reason.power_loss,
            )
        )
        await cp.call(status(1, ChargePointStatus.available))
    assert boot.status == RegistrationStatus.accepted
    assert stop is not None
    done = await session(db_call, start.transaction_id)
    assert (done.state, done.stop_reason, done.energy_wh) == ("completed", "PowerLoss", 3000)


async def test_tc_037_1_offline_start_with_a_valid_tag_is_accepted_with_its_past_time(
    ocpp_server, setup, db_call
):
    started_offline = ts(-45)
    async with connected_station(ocpp_server, IDENTITY) as cp:
        await cp.call(status(1, ChargePointStatus.charging, when=started_offline))
        start = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag=VALID, meter_start=0, timestamp=started_offline
            )
        )
        await cp.call(meter(start.transaction_id, 4000))
    assert start.id_tag_info["status"] == AuthorizationStatus.accepted
    running = await session(db_call, start.transaction_id)
    assert running.start == datetime.fromisoformat(started_offline)
    assert running.energy_wh == 4000


async def test_tc_037_3_offline_start_with_an_invalid_tag_is_recorded_then_deauthorized(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=INVALID, meter_start=0, timestamp=ts(-30))
        )
        # StopTransactionOnInvalidId = true: the station ends the transaction itself.
        stop = await cp.call(
            call.StopTransaction(
                transaction_id=start.transaction_id,
                meter_stop=1200,
                timestamp=ts(),
                reason=Reason.de_authorized,
            )
        )
        await cp.call(status(1, ChargePointStatus.finishing))
    assert start.id_tag_info["status"] == AuthorizationStatus.invalid
    assert stop is not None
    recorded = await session(db_call, start.transaction_id)
    assert (recorded.auth_status, recorded.billable) == ("Invalid", False)
    assert (recorded.state, recorded.stop_reason, recorded.energy_wh) == (
        "completed",
        "DeAuthorized",
        1200,
    )


async def test_tc_039_a_whole_offline_transaction_arrives_after_reconnect(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        start = await cp.call(
            call.StartTransaction(connector_id=2, id_tag=VALID, meter_start=100, timestamp=ts(-90))
        )
        await cp.call(meter(start.transaction_id, 5100, ts(-60), connector_id=2))
        await cp.call(
            call.StopTransaction(
                transaction_id=start.transaction_id,
                meter_stop=9100,
                timestamp=ts(-30),
                reason=Reason.local,
                transaction_data=[
                    {
                        "timestamp": ts(-30),
                        "sampledValue": [
                            {
                                "value": "9.1",
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "kWh",
                                "context": "Transaction.End",
                            }
                        ],
                    }
                ],
            )
        )
        await cp.call(status(2, ChargePointStatus.available))
    done = await session(db_call, start.transaction_id)
    assert (done.state, done.energy_wh) == ("completed", 9000)
    assert done.stop - done.start == timedelta(minutes=60)
    contexts = await db_call(
        lambda: set(MeterValue.objects.filter(session=done).values_list("context", flat=True))
    )
    assert "Transaction.End" in contexts


async def test_tc_064_data_transfer_to_the_central_system_is_stored_and_answered(
    ocpp_server, setup, db_call
):
    from stations.models import StationDataTransfer

    async with connected_station(ocpp_server, IDENTITY) as cp:
        answer = await cp.call(
            call.DataTransfer(vendor_id="com.acme", message_id="Hello", data='{"x":1}')
        )
    assert answer.status == DataTransferStatus.unknown_vendor_id
    stored = await db_call(StationDataTransfer.objects.get, station__ocpp_id=IDENTITY)
    assert (stored.vendor_id, stored.message_id, stored.data) == ("com.acme", "Hello", '{"x":1}')


async def test_a_retransmitted_start_gets_the_same_transaction_id_over_the_wire(
    ocpp_server, setup, db_call
):
    request = call.StartTransaction(connector_id=1, id_tag=VALID, meter_start=42, timestamp=ts(-3))
    async with connected_station(ocpp_server, IDENTITY) as cp:
        first = await cp.call(request)
        again = await cp.call(request)
    assert first.transaction_id == again.transaction_id
    assert await db_call(ChargingSession.objects.count) == 1


async def test_a_stop_for_an_unknown_transaction_is_answered_not_rejected(
    ocpp_server, setup, db_call, caplog
):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        stop = await cp.call(
            call.StopTransaction(transaction_id=987654, meter_stop=1, timestamp=ts())
        )
        heartbeat = await cp.call(call.Heartbeat())
    assert stop is not None and heartbeat is not None
    assert "987654" in caplog.text
