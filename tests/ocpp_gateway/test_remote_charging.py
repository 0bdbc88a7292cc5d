"""Charging commands (start, stop, unlock, reserve, cancel) against a real 1.6 station."""

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, ChargePointStatus, Reason

from billing.models import ChargeDetailRecord, TariffAssignment
from ocpp_gateway.messagelog import message_log
from ocpp_gateway.models import CommandLog, OcppMessage
from ocpp_gateway.remote import (
    COMMANDS,
    Actor,
    CommandNotAllowed,
    InvalidCommandParameters,
    available_commands,
    execute_command,
)
from organizations.choices import Role
from sessions_app import services as session_services
from sessions_app import tasks as session_tasks
from sessions_app.choices import AuthMethod, RemoteStartStatus, ReservationStatus, SessionState
from sessions_app.models import ChargingSession, RemoteStart, Reservation
from stations.choices import ConnectionState, ConnectorStatus
from stations.models import ChargingStation, Connector
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    MembershipFactory,
    ReservationFactory,
    TariffFactory,
    UserFactory,
)
from tests.ocpp_gateway.conftest import Station, connected_station

IDENTITY = "CS-REMOTE"
CARD = "04C0FFEE01"
FLEET_CARD = "04C0FFEE02"
FLEET = "FLEET-7"
OUTSIDER_CARD = "04BADBAD01"
CHARGING_NAMES = (
    "start_charging",
    "stop_charging",
    "unlock_cable",
    "reserve",
    "cancel_reservation",
    "stop_billing",
)
TX_PROFILE = {
    "chargingProfileId": 7,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
    },
}


def ts(minutes=0.0) -> str:
    """An OCPP timestamp `minutes` from now."""
    moment = datetime.now(UTC) + timedelta(minutes=minutes)
    return moment.isoformat().replace("+00:00", "Z")


def in_an_hour() -> str:
    return ts(60)


class RemoteStation(Station):
    """A 1.6 station that answers charging commands as told and notes what it received."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []
        self.answers = {}

    def _answer(self, action, kwargs, default="Accepted"):
        self.received.append((action, kwargs))
        return self.answers.get(action, default)

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(self, **kwargs):
        status = self._answer("RemoteStartTransaction", kwargs)
        return call_result.RemoteStartTransaction(status=status)

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, **kwargs):
        status = self._answer("RemoteStopTransaction", kwargs)
        return call_result.RemoteStopTransaction(status=status)

    @on(Action.unlock_connector)
    def on_unlock_connector(self, **kwargs):
        status = self._answer("UnlockConnector", kwargs, default="Unlocked")
        return call_result.UnlockConnector(status=status)

    @on(Action.reserve_now)
    def on_reserve_now(self, **kwargs):
        return call_result.ReserveNow(status=self._answer("ReserveNow", kwargs))

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, **kwargs):
        status = self._answer("CancelReservation", kwargs)
        return call_result.CancelReservation(status=status)


@pytest.fixture
async def setup(db_call, org):
    """A station of `org` with two available connectors, a priced tariff, cards, an operator."""

    def build():
        station = ChargingStationFactory(organization=org, ocpp_id=IDENTITY)
        Connector.objects.filter(station=station).update(status=ConnectorStatus.AVAILABLE)
        group = AccessGroupFactory(organization=org, name="Drivers")
        station.site.access_groups.add(group)
        IdTokenFactory(organization=org, uid=CARD, access_groups=[group], parent_id_tag=FLEET)
        IdTokenFactory(organization=org, uid=FLEET_CARD, access_groups=[group], parent_id_tag=FLEET)
        tariff = TariffFactory(
            organization=org,
            elements=[
                {
                    "price_components": [
                        {"type": "ENERGY", "price": "0.4000"},
                        {"type": "FLAT", "price": "1.00"},
                    ]
                }
            ],
        )
        TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
        operator = UserFactory(username="operator")
        MembershipFactory(user=operator, organization=org, role=Role.OPERATOR)
        return SimpleNamespace(station=station, operator=operator)

    return await db_call(build)


# Every charging command is for operators: one without a name runs the command-level tests.
OPERATOR = Actor(role=Role.OPERATOR)


async def run(name, params=None, user=None):
    """execute_command as a view runs it: in a thread of its own, on the station as stored now."""

    def in_a_view():
        try:
            station = ChargingStation.objects.get(ocpp_id=IDENTITY)
            return execute_command(
                station, name, params, actor=Actor(user=user, role=Role.OPERATOR)
            )
        finally:
            connections.close_all()

    # Not the consumer's DB thread: the call blocks until the station answered.
    return await sync_to_async(in_a_view, thread_sensitive=False)()


def status(connector_id, state):
    return call.StatusNotification(
        connector_id=connector_id, error_code="NoError", status=state, timestamp=ts()
    )


def start_tx(connector_id=1, id_tag=CARD, reservation_id=None, meter_start=1000):
    return call.StartTransaction(
        connector_id=connector_id,
        id_tag=id_tag,
        meter_start=meter_start,
        timestamp=ts(),
        reservation_id=reservation_id,
    )


async def session_of(db_call, transaction_id):
    return await db_call(
        ChargingSession.objects.get, station__ocpp_id=IDENTITY, transaction_id=str(transaction_id)
    )


async def fresh(db_call, obj):
    return await db_call(type(obj).objects.get, pk=obj.pk)


async def backdate_remote_starts(db_call, minutes):
    await db_call(
        RemoteStart.objects.update, created_at=timezone.now() - timedelta(minutes=minutes)
    )


# --- start charging (RemoteStartTransaction) -------------------------------------------------


async def test_tc_010_remote_start_after_plug_in_gives_a_remote_session_that_is_never_billed(
    ocpp_server, setup, db_call, eager_celery
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        await cp.call(status(1, ChargePointStatus.preparing))
        log = await run("start_charging", {"id_tag": CARD, "connector_id": 1}, user=setup.operator)
        # The cable is in: the station starts the transaction as soon as it accepted.
        start = await cp.call(start_tx(connector_id=1))
        await cp.call(status(1, ChargePointStatus.charging))
        await cp.call(
            call.StopTransaction(
                transaction_id=start.transaction_id,
                # 4 kWh in a minute (240 kW): a fast charger, plausible, so it is rated at once.
                meter_stop=5000,
                timestamp=ts(1),
                reason=Reason.local,
            )
        )
    assert cp.received == [("RemoteStartTransaction", {"id_tag": CARD, "connector_id": 1})]
    assert (log.status, log.response, log.command) == (
        "accepted",
        {"status": "Accepted"},
        "start_charging",
    )
    assert start.id_tag_info["status"] == AuthorizationStatus.accepted
    session = await session_of(db_call, start.transaction_id)
    assert (session.auth_method, session.billable) == (AuthMethod.REMOTE, False)
    assert (session.state, session.energy_wh) == (SessionState.COMPLETED, 4000)
    assert (await fresh(db_call, log)).requested_by_id == setup.operator.pk
    claimed = await db_call(RemoteStart.objects.get)
    assert (claimed.session_id, claimed.status) == (session.pk, RemoteStartStatus.ACCEPTED)
    assert (claimed.id_tag, claimed.requested_by_id) == (CARD, setup.operator.pk)
    cdr = await db_call(ChargeDetailRecord.objects.get, session=session)
    assert cdr.total_incl_tax == 0
    assert cdr.energy_wh == 4000
    assert cdr.reason == "Started remotely by an operator; operator starts are never billed"


async def test_tc_011_1_remote_start_first_lets_the_station_choose_the_connector(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        log = await run("start_charging", {"id_tag": CARD})
        # The driver plugs in at connector 2 within the station's ConnectionTimeOut.
        await cp.call(status(2, ChargePointStatus.preparing))
        start = await cp.call(start_tx(connector_id=2))
        await cp.call(status(2, ChargePointStatus.charging))
    assert cp.received == [("RemoteStartTransaction", {"id_tag": CARD})]
    assert log.payload == {"idTag": CARD}
    session = await session_of(db_call, start.transaction_id)
    assert (session.auth_method, session.billable) == (AuthMethod.REMOTE, False)
    assert await db_call(lambda: session.connector.connector_id) == 2


async def test_tc_011_2_a_remote_start_that_times_out_claims_nothing_and_a_later_card_start_pays(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        log = await run("start_charging", {"id_tag": CARD, "connector_id": 1})
        await cp.call(status(1, ChargePointStatus.preparing))
        # Nobody plugs in: after ConnectionTimeOut the station gives up.
        await cp.call(status(1, ChargePointStatus.available))
        assert await db_call(ChargingSession.objects.count) == 0
        # Later than the remote-start window, the card holder starts at the station.
        await backdate_remote_starts(db_call, minutes=11)
        auth = await cp.call(call.Authorize(id_tag=CARD))
        start = await cp.call(start_tx(connector_id=1))
    assert log.status == "accepted"
    assert auth.id_tag_info["status"] == AuthorizationStatus.accepted
    session = await session_of(db_call, start.transaction_id)
    assert (session.auth_method, session.billable) == (AuthMethod.RFID, True)
    assert (await db_call(RemoteStart.objects.get)).session_id is None


async def test_tc_026_a_rejected_remote_start_is_logged_rejected_and_claims_nothing(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        cp.answers["RemoteStartTransaction"] = "Rejected"
        log = await run("start_charging", {"id_tag": CARD, "connector_id": 1})
        # The driver then starts with the card: an ordinary, billed session.
        start = await cp.call(start_tx(connector_id=1))
    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})
    session = await session_of(db_call, start.transaction_id)
    assert (session.auth_method, session.billable) == (AuthMethod.RFID, True)
    remote_start = await db_call(RemoteStart.objects.get)
    assert (remote_start.status, remote_start.session_id) == (RemoteStartStatus.REJECTED, None)


async def test_tc_059_remote_start_with_a_charging_profile_puts_the_profile_on_the_wire(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        log = await run(
            "start_charging", {"id_tag": CARD, "connector_id": 1, "charging_profile": TX_PROFILE}
        )
    await message_log.flush()
    sent = await db_call(
        OcppMessage.objects.get,
        ocpp_id=IDENTITY,
        direction="out",
        message_type=2,
        action="RemoteStartTransaction",
    )
    assert log.status == "accepted"
    assert sent.payload == {"idTag": CARD, "connectorId": 1, "chargingProfile": TX_PROFILE}
    received_profile = cp.received[0][1]["charging_profile"]
    assert received_profile["charging_profile_purpose"] == "TxProfile"
    assert received_profile["charging_schedule"]["charging_schedule_period"][0]["limit"] == 16


# --- stop charging (RemoteStopTransaction) ---------------------------------------------------


async def test_tc_012_remote_stop_sends_the_transaction_id_and_the_stop_completes_the_session(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        start = await cp.call(start_tx(connector_id=1))
        await cp.call(status(1, ChargePointStatus.charging))
        log = await run("stop_charging", {"connector_id": 1})
        await cp.call(
            call.StopTransaction(
                transaction_id=start.transaction_id,
                meter_stop=4000,
                timestamp=ts(),
                reason=Reason.remote,
            )
        )
        await cp.call(status(1, ChargePointStatus.finishing))
    assert cp.received == [("RemoteStopTransaction", {"transaction_id": start.transaction_id})]
    assert (log.status, log.payload) == ("accepted", {"transactionId": start.transaction_id})
    session = await session_of(db_call, start.transaction_id)
    assert (session.state, session.stop_reason, session.energy_wh) == ("completed", "Remote", 3000)


async def test_stop_charging_without_a_connector_stops_the_only_running_session(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        start = await cp.call(start_tx(connector_id=2))
        log = await run("stop_charging")
    assert log.payload == {"transactionId": start.transaction_id}


async def test_tc_028_a_rejected_remote_stop_leaves_the_session_running(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        start = await cp.call(start_tx(connector_id=1))
        cp.answers["RemoteStopTransaction"] = "Rejected"
        log = await run("stop_charging", {"connector_id": 1})
    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})
    assert (await session_of(db_call, start.transaction_id)).state == SessionState.ACTIVE


@pytest.mark.parametrize("answer", ["Accepted", "Rejected"])
async def test_the_stop_charging_log_names_the_session_it_stopped(
    ocpp_server, setup, db_call, answer
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        await cp.call(start_tx(connector_id=1))
        other = await cp.call(start_tx(connector_id=2))
        cp.answers["RemoteStopTransaction"] = answer
        log = await run("stop_charging", {"connector_id": 2})

    stored = await fresh(db_call, log)
    session = await session_of(db_call, other.transaction_id)
    assert (stored.command, stored.session_id) == ("stop_charging", session.pk)
    assert await db_call(lambda: list(session.command_logs.values_list("command", flat=True))) == [
        "stop_charging"
    ]


# --- unlock cable (UnlockConnector) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param("Unlocked", "accepted", id="tc_017_1_not_fixed_cable_unlocks"),
        pytest.param("NotSupported", "rejected", id="tc_017_2_fixed_cable_is_not_supported"),
        pytest.param("UnlockFailed", "rejected", id="tc_030_unlock_failure"),
    ],
)
async def test_unlock_without_a_session_reports_the_stations_answer(
    ocpp_server, setup, answer, expected
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        cp.answers["UnlockConnector"] = answer
        log = await run("unlock_cable", {"connector_id": 2})
    assert cp.received == [("UnlockConnector", {"connector_id": 2})]
    assert (log.status, log.response, log.action) == (
        expected,
        {"status": answer},
        "UnlockConnector",
    )


async def test_tc_018_1_unlock_with_a_session_is_sent_and_the_station_ends_the_session(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        start = await cp.call(start_tx(connector_id=1))
        await cp.call(status(1, ChargePointStatus.charging))
        log = await run("unlock_cable", {"connector_id": 1})
        await cp.call(
            call.StopTransaction(
                transaction_id=start.transaction_id,
                meter_stop=2000,
                timestamp=ts(),
                reason=Reason.unlock_command,
            )
        )
    assert log.status == "accepted"
    session = await session_of(db_call, start.transaction_id)
    assert (session.state, session.stop_reason) == ("completed", "UnlockCommand")


async def test_tc_031_unlock_of_an_unknown_connector_is_a_field_error_and_sends_nothing(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        with pytest.raises(InvalidCommandParameters) as refused:
            await run("unlock_cable", {"connector_id": 9})
    assert "connector_id" in refused.value.errors
    assert cp.received == []
    assert await db_call(CommandLog.objects.count) == 0


# --- reservations (ReserveNow, CancelReservation) --------------------------------------------


async def test_tc_046_a_reservation_is_sent_with_its_id_and_the_transaction_uses_it(
    ocpp_server, setup, db_call
):
    expiry = in_an_hour()
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        log = await run(
            "reserve",
            {"id_tag": CARD, "connector_id": 1, "expiry": expiry},
            user=setup.operator,
        )
        reservation = await db_call(Reservation.objects.get)
        await cp.call(status(1, ChargePointStatus.reserved))
        active = await fresh(db_call, reservation)
        await cp.call(status(1, ChargePointStatus.preparing))
        start = await cp.call(start_tx(connector_id=1, reservation_id=reservation.pk))
    kwargs = cp.received[0][1]
    assert (kwargs["connector_id"], kwargs["id_tag"], kwargs["reservation_id"]) == (
        1,
        CARD,
        reservation.pk,
    )
    assert datetime.fromisoformat(kwargs["expiry_date"]) == reservation.expiry
    assert abs(reservation.expiry - datetime.fromisoformat(expiry)) < timedelta(milliseconds=1)
    assert log.status == "accepted"
    assert (active.status, active.created_by_id) == (ReservationStatus.ACTIVE, setup.operator.pk)
    assert start.id_tag_info["status"] == AuthorizationStatus.accepted
    assert (await fresh(db_call, reservation)).status == ReservationStatus.USED
    session = await session_of(db_call, start.transaction_id)
    assert session.reservation_id == reservation.pk
    assert (session.auth_method, session.billable) == (AuthMethod.RFID, True)


async def test_tc_047_an_accepted_reservation_expires_when_its_time_has_passed(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        await run("reserve", {"id_tag": CARD, "connector_id": 1, "expiry": in_an_hour()})
        await cp.call(status(1, ChargePointStatus.reserved))
        reservation = await db_call(Reservation.objects.get)
        # The station drops the reservation at its expiry and reports the connector free.
        await db_call(
            Reservation.objects.filter(pk=reservation.pk).update,
            expiry=timezone.now() - timedelta(seconds=1),
        )
        await cp.call(status(1, ChargePointStatus.available))
        expired = await db_call(session_tasks.expire_reservations)
    assert expired == 1
    assert (await fresh(db_call, reservation)).status == ReservationStatus.EXPIRED


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("Faulted", id="tc_048_1_faulted"),
        pytest.param("Occupied", id="tc_048_2_occupied"),
        pytest.param("Unavailable", id="tc_048_3_unavailable"),
        pytest.param("Rejected", id="tc_048_4_rejected"),
    ],
)
async def test_tc_048_a_reservation_the_station_refuses_is_rejected_with_its_word(
    ocpp_server, setup, db_call, answer
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        cp.answers["ReserveNow"] = answer
        log = await run("reserve", {"id_tag": CARD, "connector_id": 1, "expiry": in_an_hour()})
    assert (log.status, log.response) == ("rejected", {"status": answer})
    reservation = await db_call(Reservation.objects.get)
    assert reservation.status == ReservationStatus.REJECTED
    assert log.payload["reservationId"] == reservation.pk


async def test_a_reservation_without_an_answer_stays_pending_until_it_expires(
    ocpp_server, setup, db_call, settings
):
    class Silent(RemoteStation):
        @on(Action.reserve_now)
        async def on_reserve_now(self, **_):
            await asyncio.sleep(30)

    settings.OCPP_CALL_TIMEOUT = 0.3
    async with connected_station(ocpp_server, IDENTITY, cls=Silent):
        log = await run("reserve", {"id_tag": CARD, "connector_id": 1, "expiry": in_an_hour()})
    assert log.status == "timeout"
    # The station may hold it or not: neither active nor rejected.
    assert (await db_call(Reservation.objects.get)).status == ReservationStatus.PENDING


async def test_tc_049_a_reservation_of_the_charge_point_is_connector_0_and_any_connector_uses_it(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        log = await run("reserve", {"id_tag": CARD, "expiry": in_an_hour()})
        reservation = await db_call(Reservation.objects.get)
        start = await cp.call(start_tx(connector_id=2, reservation_id=reservation.pk))
    assert cp.received[0][1]["connector_id"] == 0
    assert (log.status, log.payload["connectorId"]) == ("accepted", 0)
    assert reservation.connector_id is None
    assert (await fresh(db_call, reservation)).status == ReservationStatus.USED
    assert (await session_of(db_call, start.transaction_id)).reservation_id == reservation.pk


async def test_tc_051_an_accepted_cancellation_cancels_the_reservation(ocpp_server, setup, db_call):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        await run("reserve", {"id_tag": CARD, "connector_id": 1, "expiry": in_an_hour()})
        reservation = await db_call(Reservation.objects.get)
        log = await run("cancel_reservation")
    assert cp.received[-1] == ("CancelReservation", {"reservation_id": reservation.pk})
    assert (log.status, log.payload) == ("accepted", {"reservationId": reservation.pk})
    assert (await fresh(db_call, reservation)).status == ReservationStatus.CANCELLED


async def test_tc_052_a_rejected_cancellation_leaves_the_reservation_active(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        await run("reserve", {"id_tag": CARD, "connector_id": 1, "expiry": in_an_hour()})
        reservation = await db_call(Reservation.objects.get)
        cp.answers["CancelReservation"] = "Rejected"
        log = await run("cancel_reservation", {"reservation_id": reservation.pk})
    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})
    assert (await fresh(db_call, reservation)).status == ReservationStatus.ACTIVE


async def test_tc_053_a_card_with_the_reservations_parent_id_tag_uses_the_reserved_connector(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStation) as cp:
        await run("reserve", {"id_tag": CARD, "connector_id": 1, "expiry": in_an_hour()})
        reservation = await db_call(Reservation.objects.get)
        await cp.call(status(1, ChargePointStatus.reserved))
        # Another card of the same group: the station compares the parent id tags.
        auth = await cp.call(call.Authorize(id_tag=FLEET_CARD))
        start = await cp.call(
            start_tx(connector_id=1, id_tag=FLEET_CARD, reservation_id=reservation.pk)
        )
    assert cp.received[0][1]["parent_id_tag"] == FLEET
    assert reservation.parent_id_tag == FLEET
    assert auth.id_tag_info == {"status": "Accepted", "parent_id_tag": FLEET}
    assert start.id_tag_info["status"] == AuthorizationStatus.accepted
    assert (await fresh(db_call, reservation)).status == ReservationStatus.USED
    session = await session_of(db_call, start.transaction_id)
    assert (session.id_tag, session.reservation_id) == (FLEET_CARD, reservation.pk)


@pytest.fixture
def online(station, org):
    """The shared `station`, online, both connectors available, with a card of `org`."""
    ChargingStation.objects.filter(pk=station.pk).update(connection_state=ConnectionState.ONLINE)
    station.refresh_from_db()
    Connector.objects.filter(station=station).update(status=ConnectorStatus.AVAILABLE)
    group = AccessGroupFactory(organization=org, name="Staff")
    station.site.access_groups.add(group)
    IdTokenFactory(organization=org, uid=CARD, access_groups=[group], parent_id_tag=FLEET)
    return station


# --- parameters ------------------------------------------------------------------------------


def test_start_charging_refuses_a_card_of_another_organization(online, other_org):
    IdTokenFactory(organization=other_org, uid=OUTSIDER_CARD)

    with pytest.raises(InvalidCommandParameters) as refused:
        execute_command(online, "start_charging", {"id_tag": OUTSIDER_CARD}, actor=OPERATOR)

    assert list(refused.value.errors) == ["id_tag"]
    assert not CommandLog.objects.exists()


def test_start_charging_refuses_a_card_the_station_would_not_accept(online, org):
    IdTokenFactory(organization=org, uid="04B10CED01", status="Blocked")

    with pytest.raises(InvalidCommandParameters) as refused:
        execute_command(online, "start_charging", {"id_tag": "04B10CED01"}, actor=OPERATOR)

    assert "Blocked" in str(refused.value.errors["id_tag"])


def test_start_charging_refuses_a_profile_that_is_not_a_tx_profile(online):
    profile = {**TX_PROFILE, "chargingProfilePurpose": "TxDefaultProfile"}

    with pytest.raises(InvalidCommandParameters) as refused:
        execute_command(
            online, "start_charging", {"id_tag": CARD, "charging_profile": profile}, actor=OPERATOR
        )

    assert list(refused.value.errors) == ["charging_profile"]


def test_start_charging_refuses_a_profile_that_breaks_the_ocpp_schema(online):
    profile = {key: value for key, value in TX_PROFILE.items() if key != "chargingSchedule"}

    with pytest.raises(InvalidCommandParameters) as refused:
        execute_command(
            online, "start_charging", {"id_tag": CARD, "charging_profile": profile}, actor=OPERATOR
        )

    assert "chargingSchedule" in str(refused.value.errors["charging_profile"])


def test_reserve_refuses_a_card_of_another_organization(online, other_org):
    IdTokenFactory(organization=other_org, uid=OUTSIDER_CARD)

    with pytest.raises(InvalidCommandParameters) as refused:
        execute_command(
            online, "reserve", {"id_tag": OUTSIDER_CARD, "expiry": in_an_hour()}, actor=OPERATOR
        )

    assert list(refused.value.errors) == ["id_tag"]
    assert not Reservation.objects.exists()


@pytest.mark.parametrize(
    "expiry",
    [
        pytest.param(ts(-1), id="in_the_past"),
        pytest.param("2099-01-01T12:00:00", id="without_utc_offset"),
    ],
)
def test_reserve_refuses_an_expiry_that_is_not_a_future_moment(online, expiry):
    with pytest.raises(InvalidCommandParameters) as refused:
        execute_command(online, "reserve", {"id_tag": CARD, "expiry": expiry}, actor=OPERATOR)

    assert list(refused.value.errors) == ["expiry"]


def test_stop_charging_with_several_sessions_running_asks_for_the_connector(online):
    ChargingSessionFactory(station=online, connector=online.connectors.get(connector_id=1))
    ChargingSessionFactory(station=online, connector=online.connectors.get(connector_id=2))

    with pytest.raises(InvalidCommandParameters) as refused:
        execute_command(online, "stop_charging", actor=OPERATOR)

    assert list(refused.value.errors) == ["connector_id"]


def test_cancel_reservation_with_several_active_asks_which_one(online):
    for number in (1, 2):
        ReservationFactory(
            station=online,
            connector=online.connectors.get(connector_id=number),
            status=ReservationStatus.ACTIVE,
        )

    with pytest.raises(InvalidCommandParameters) as refused:
        execute_command(online, "cancel_reservation", actor=OPERATOR)

    assert list(refused.value.errors) == ["reservation_id"]


# --- availability rules ----------------------------------------------------------------------


def reasons(station, connector_number=None):
    """Each charging command's reason to be greyed out (None: allowed)."""
    connector = station.connectors.get(connector_id=connector_number) if connector_number else None
    return {
        check.spec.name: check.reason
        for check in available_commands(station, OPERATOR, connector=connector)
        if check.spec.name in CHARGING_NAMES
    }


def set_connector(station, number, status):
    Connector.objects.filter(station=station, connector_id=number).update(status=status)


def running_session(station, number=1, **fields):
    return ChargingSessionFactory(
        station=station, connector=station.connectors.get(connector_id=number), **fields
    )


def test_every_charging_command_is_registered_for_operators():
    # Importing ocpp_gateway.remote registered them: the registry knows no command module.
    assert {name: COMMANDS[name].min_role for name in CHARGING_NAMES} == dict.fromkeys(
        CHARGING_NAMES, Role.OPERATOR
    )


def test_an_idle_online_station_allows_start_unlock_and_reserve(online):
    assert reasons(online, 1) == {
        "start_charging": None,
        "stop_charging": "No session is running on connector 1.",
        "unlock_cable": None,
        "reserve": None,
        "cancel_reservation": "The station has no active reservation.",
        "stop_billing": "No session is running on connector 1.",
    }


@pytest.mark.parametrize("status", ["Preparing", "Available"])
def test_start_charging_is_allowed_on_a_connector_that_can_take_a_vehicle(online, status):
    set_connector(online, 1, status)

    assert reasons(online, 1)["start_charging"] is None


@pytest.mark.parametrize("status", ["Charging", "Faulted", "Unavailable", "Reserved", "Unknown"])
def test_start_charging_is_refused_on_a_connector_that_cannot(online, status):
    set_connector(online, 1, status)

    with pytest.raises(CommandNotAllowed) as refused:
        execute_command(
            online, "start_charging", {"id_tag": CARD, "connector_id": 1}, actor=OPERATOR
        )

    assert "not available or preparing" in str(refused.value.reason)
    assert not CommandLog.objects.exists()


def test_start_charging_is_refused_on_a_connector_with_a_running_session(online):
    running_session(online, 1)

    assert reasons(online, 1)["start_charging"] == "A session is already running on connector 1."


def test_start_charging_without_a_connector_needs_one_that_can_take_a_vehicle(online):
    set_connector(online, 1, "Charging")
    running_session(online, 2)

    assert reasons(online)["start_charging"] == "No connector is available or preparing."


def test_start_charging_without_a_connector_is_allowed_while_one_is_free(online):
    set_connector(online, 1, "Charging")

    assert reasons(online)["start_charging"] is None


def test_a_running_session_allows_stop_charging_and_stop_billing(online):
    set_connector(online, 1, "Charging")
    running_session(online, 1)

    found = reasons(online, 1)
    assert (found["stop_charging"], found["stop_billing"], found["unlock_cable"]) == (
        None,
        None,
        None,
    )


def test_reserve_is_refused_on_a_faulted_connector(online):
    set_connector(online, 1, "Faulted")

    assert reasons(online, 1)["reserve"] == "Connector 1 is Faulted."


def test_reserve_is_refused_on_a_connector_reserved_already(online):
    ReservationFactory(
        station=online,
        connector=online.connectors.get(connector_id=1),
        status=ReservationStatus.ACTIVE,
        expiry=timezone.now() + timedelta(hours=1),
    )

    found = reasons(online, 1)
    assert found["reserve"] == "Connector 1 is already reserved."
    assert found["cancel_reservation"] is None


def test_an_expired_reservation_neither_blocks_reserve_nor_can_be_cancelled(online):
    ReservationFactory(
        station=online,
        connector=online.connectors.get(connector_id=1),
        status=ReservationStatus.ACTIVE,
        expiry=timezone.now() - timedelta(minutes=1),
    )

    found = reasons(online, 1)
    assert (found["reserve"], found["cancel_reservation"]) == (
        None,
        "The station has no active reservation.",
    )


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("start_charging", {"id_tag": CARD, "connector_id": 1}),
        ("stop_charging", {"connector_id": 2}),
        ("unlock_cable", {"connector_id": 1}),
        ("reserve", {"id_tag": CARD, "connector_id": 1, "expiry": in_an_hour()}),
        ("cancel_reservation", {}),
    ],
)
def test_an_offline_station_refuses_every_command_that_needs_it(online, name, params):
    running_session(online, 2)
    ReservationFactory(station=online, status=ReservationStatus.ACTIVE)
    ChargingStation.objects.filter(pk=online.pk).update(connection_state=ConnectionState.OFFLINE)
    online.refresh_from_db()

    with pytest.raises(CommandNotAllowed) as refused:
        execute_command(online, name, params, actor=OPERATOR)

    assert refused.value.reason == "The station is offline."
    assert not CommandLog.objects.exists()


def test_stop_billing_is_allowed_while_the_station_is_offline(online):
    running_session(online, 1)
    ChargingStation.objects.filter(pk=online.pk).update(connection_state=ConnectionState.OFFLINE)
    online.refresh_from_db()

    assert reasons(online, 1)["stop_billing"] is None


# --- expiring reservations -------------------------------------------------------------------


def test_expire_reservations_touches_only_held_reservations_past_their_expiry(station):
    past = timezone.now() - timedelta(minutes=1)
    due = ReservationFactory(station=station, status=ReservationStatus.ACTIVE, expiry=past)
    unanswered = ReservationFactory(station=station, status=ReservationStatus.PENDING, expiry=past)
    used = ReservationFactory(station=station, status=ReservationStatus.USED, expiry=past)
    later = ReservationFactory(
        station=station,
        status=ReservationStatus.ACTIVE,
        expiry=timezone.now() + timedelta(hours=1),
    )

    assert session_services.expire_reservations() == 2

    statuses = dict(Reservation.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: "expired",
        unanswered.pk: "expired",
        used.pk: "used",
        later.pk: "active",
    }
