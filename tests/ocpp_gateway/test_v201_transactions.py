"""OCPP 2.0.1 transactions, meter values, remote start and stop, cost (OCTT, CSMS under test)."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from billing.models import ChargeDetailRecord, TariffAssignment
from cards.choices import IdTokenStatus
from cards.models import IdToken
from ocpp_gateway import intents
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import Actor, CommandNotAllowed, check_command, execute_command
from ocpp_gateway.v16 import calls as v16_calls
from ocpp_gateway.v201.transactions import charging_profile_from_16
from organizations.choices import Role
from sessions_app.choices import (
    AuthMethod,
    AuthorizationStatus,
    RemoteStartStatus,
    ReservationStatus,
    SessionState,
)
from sessions_app.models import (
    ChargingSession,
    MeterValue,
    RemoteStart,
    Reservation,
    TransactionEvent,
)
from sessions_app.selectors import missing_event_numbers
from stations.choices import ConnectorStatus
from stations.models import ChargingStation, Connector
from tests.api.conftest import in_thread
from tests.apiclients import client_as
from tests.factories import (
    AccessGroupFactory,
    ChargingStationFactory,
    IdTokenFactory,
    MembershipFactory,
    ReservationFactory,
    TariffFactory,
    UserFactory,
)
from tests.ocpp_gateway.conftest import Station, Station201, connected_station, connected_station201

IDENTITY = "CS-201-TX"
CARD, OTHER_CARD, BLOCKED = "04A1B2C3D4E501", "04A1B2C3D4E502", "04BBBBBB0201"
ENERGY = "Energy.Active.Import.Register"
TX_PROFILE_16 = {
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


def token(uid=CARD, kind="ISO14443") -> dict:
    return {"id_token": uid, "type": kind}


def reading(wh, at=0.0, context="Sample.Periodic", **sampled) -> dict:
    """A meterValue with one energy register reading in Wh, `at` minutes from now (or a time)."""
    value = {"value": wh, "context": context, "measurand": ENERGY, **sampled}
    return {"timestamp": at if isinstance(at, str) else ts(at), "sampled_value": [value]}


def tx_event(
    event_type,
    seq_no,
    trigger,
    *,
    tx="TX-1",
    minutes=0.0,
    evse=1,
    id_token=None,
    meter=None,
    state=None,
    stopped_reason=None,
    remote_start_id=None,
    **fields,
):
    """A TransactionEvent request; `evse=None` leaves the EVSE out."""
    info = {"transaction_id": tx}
    if state is not None:
        info["charging_state"] = state
    if stopped_reason is not None:
        info["stopped_reason"] = stopped_reason
    if remote_start_id is not None:
        info["remote_start_id"] = remote_start_id
    return call.TransactionEvent(
        event_type=event_type,
        timestamp=ts(minutes),
        trigger_reason=trigger,
        seq_no=seq_no,
        transaction_info=info,
        meter_value=meter,
        evse={"id": evse, "connector_id": 1} if evse is not None else None,
        id_token=id_token,
        **fields,
    )


def boot():
    return call.BootNotification(
        charging_station={"model": "Wallbox 2", "vendor_name": "ACME"}, reason="PowerUp"
    )


class TxStation(Station201):
    """A 2.0.1 station that answers transaction calls as told and notes what it received."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []
        self.answers = {}

    @on(Action.request_start_transaction)
    def on_request_start_transaction(self, **kwargs):
        self.received.append(("RequestStartTransaction", kwargs))
        return call_result.RequestStartTransaction(
            status=self.answers.get("RequestStartTransaction", "Accepted"),
            transaction_id=self.answers.get("transaction_id"),
        )

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(self, **kwargs):
        self.received.append(("RequestStopTransaction", kwargs))
        return call_result.RequestStopTransaction(status="Accepted")

    @on(Action.get_transaction_status)
    def on_get_transaction_status(self, **kwargs):
        self.received.append(("GetTransactionStatus", kwargs))
        ongoing, queued = self.answers.get("GetTransactionStatus", (None, False))
        return call_result.GetTransactionStatus(messages_in_queue=queued, ongoing_indicator=ongoing)

    @on(Action.cost_updated)
    def on_cost_updated(self, **kwargs):
        self.received.append(("CostUpdated", kwargs))
        return call_result.CostUpdated()


@pytest.fixture
async def setup(db_call, org):
    """A 2.0.1 station of `org`: two available EVSEs, cards, a priced tariff, an operator."""

    def build():
        station = ChargingStationFactory(organization=org, ocpp_id=IDENTITY)
        Connector.objects.filter(station=station).update(status=ConnectorStatus.AVAILABLE)
        group = AccessGroupFactory(organization=org, name="Drivers")
        station.site.access_groups.add(group)
        IdTokenFactory(organization=org, uid=CARD, access_groups=[group])
        IdTokenFactory(organization=org, uid=OTHER_CARD, access_groups=[group])
        IdTokenFactory(
            organization=org, uid=BLOCKED, access_groups=[group], status=IdTokenStatus.BLOCKED
        )
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
        return SimpleNamespace(station=station, operator=operator, org=org)

    return await db_call(build)


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

    return await sync_to_async(in_a_view, thread_sensitive=False)()


async def session_of(db_call, tx="TX-1") -> ChargingSession:
    return await db_call(
        ChargingSession.objects.select_related("connector").get,
        station__ocpp_id=IDENTITY,
        transaction_id=tx,
    )


async def events_of(db_call, session) -> list[tuple]:
    """The session's events in the order they arrived."""
    return await db_call(
        lambda: list(
            TransactionEvent.objects.filter(session=session)
            .order_by("pk")
            .values_list("seq_no", "event_type", "trigger_reason", "offline")
        )
    )


async def charge(cs, *, tx="TX-1", start_wh=1000, stop_wh=6000, start_token=None, **ended):
    """A whole transaction over 30 minutes: Started, one Updated halfway, Ended; the answers."""
    # `ended` adds to the Ended event: its trigger, stopped_reason, id_token, charging state.
    started = await cs.call(
        tx_event(
            "Started",
            0,
            "Authorized",
            tx=tx,
            minutes=-30,
            id_token=start_token or token(),
            state="Charging",
            meter=[reading(start_wh, -30, "Transaction.Begin")],
        )
    )
    updated = await cs.call(
        tx_event(
            "Updated",
            1,
            "MeterValuePeriodic",
            tx=tx,
            minutes=-15,
            meter=[reading((start_wh + stop_wh) // 2, -15)],
        )
    )
    ended_answer = await cs.call(
        tx_event(
            "Ended",
            2,
            ended.pop("trigger", "StopAuthorized"),
            tx=tx,
            meter=[reading(stop_wh, 0, "Transaction.End")],
            **{"stopped_reason": "Local", **ended},
        )
    )
    return started, updated, ended_answer


# --- E: transactions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trigger, state, id_token, meter",
    [
        pytest.param("ChargingStateChanged", "Charging", token(), None, id="tc_e_01"),
        pytest.param("ChargingStateChanged", "Charging", token(), None, id="tc_e_02"),
        pytest.param("CablePluggedIn", "EVConnected", None, None, id="tc_e_09"),
        pytest.param("Authorized", None, token(), None, id="tc_e_10"),
        pytest.param(
            "SignedDataReceived",
            "Charging",
            token(),
            [
                reading(
                    1000,
                    context="Transaction.Begin",
                    signed_meter_value={
                        "signed_meter_data": "AbCd==",
                        "signing_method": "ECDSA-secp256r1-SHA256",
                        "encoding_method": "OCMF",
                        "public_key": "MFkwEwYH",
                    },
                )
            ],
            id="tc_e_11",
        ),
        pytest.param("EVDetected", None, None, None, id="tc_e_12"),
    ],
)
async def test_tc_e_01_02_09_10_11_12_start_transaction_options(
    ocpp_server, setup, db_call, trigger, state, id_token, meter
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        answer = await cs.call(
            tx_event("Started", 0, trigger, id_token=id_token, state=state, meter=meter)
        )
    session = await session_of(db_call)
    assert (session.state, session.connector.connector_id) == (SessionState.ACTIVE, 1)
    assert session.charging_state == (state or "")
    assert await events_of(db_call, session) == [(0, "Started", trigger, False)]
    if id_token is None:
        # Nothing to answer about: no idTokenInfo, and nobody on the session yet.
        assert answer.id_token_info is None
        assert (session.id_tag, session.billable) == ("", False)
    else:
        assert answer.id_token_info == {"status": "Accepted"}
        assert (session.id_tag, session.auth_status, session.billable) == (CARD, "Accepted", True)
    if meter is not None:
        stored = await db_call(MeterValue.objects.get, session=session)
        assert stored.signed_data.startswith('{"signedMeterData":"AbCd=="')
        assert session.meter_start == 1000


async def test_tc_e_03_cable_plugged_in_first_then_authorized(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(tx_event("Started", 0, "CablePluggedIn", state="EVConnected"))
        authorized = await cs.call(tx_event("Updated", 1, "Authorized", id_token=token()))
        await cs.call(tx_event("Updated", 2, "ChargingStateChanged", state="Charging"))
    assert authorized.id_token_info == {"status": "Accepted"}
    session = await session_of(db_call)
    assert (session.id_tag, session.auth_status, session.billable) == (CARD, "Accepted", True)
    assert session.id_token_id is not None
    assert session.charging_state == "Charging"
    assert [e[0] for e in await events_of(db_call, session)] == [0, 1, 2]


async def test_tc_e_04_authorized_first_the_evse_named_later_moves_the_session(
    ocpp_server, setup, db_call
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(call.Authorize(id_token=token()))
        started = await cs.call(tx_event("Started", 0, "Authorized", evse=None, id_token=token()))
        # The driver plugs in at the second EVSE.
        await cs.call(tx_event("Updated", 1, "CablePluggedIn", evse=2, state="EVConnected"))
    assert started.id_token_info == {"status": "Accepted"}
    session = await session_of(db_call)
    assert session.connector.connector_id == 2
    assert await db_call(ChargingSession.objects.count) == 1


async def test_tc_e_38_ev_not_ready_keeps_the_transaction_suspended(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(tx_event("Started", 0, "Authorized", id_token=token(), state="EVConnected"))
        await cs.call(tx_event("Updated", 1, "ChargingStateChanged", state="SuspendedEV"))
    session = await session_of(db_call)
    assert (session.state, session.charging_state) == (SessionState.ACTIVE, "SuspendedEV")


async def test_tc_e_26_ev_side_disconnect_suspends_and_does_not_end(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(tx_event("Started", 0, "Authorized", id_token=token(), state="Charging"))
        await cs.call(tx_event("Updated", 1, "EVCommunicationLost", state="Idle"))
    session = await session_of(db_call)
    assert (session.state, session.charging_state) == (SessionState.ACTIVE, "Idle")
    assert session.stop is None


@pytest.mark.parametrize(
    "trigger, stopped_reason, state",
    [
        pytest.param("StopAuthorized", "Local", "EVConnected", id="tc_e_07"),
        pytest.param("StopAuthorized", "Local", "EVConnected", id="tc_e_08"),
        pytest.param("EVCommunicationLost", "EVDisconnected", "Idle", id="tc_e_14"),
        pytest.param("StopAuthorized", "Local", "Idle", id="tc_e_15"),
        pytest.param("Deauthorized", "DeAuthorized", "EVConnected", id="tc_e_16"),
        pytest.param("Deauthorized", "EVDisconnected", "Idle", id="tc_e_17"),
        pytest.param("EVDeparted", "EVDisconnected", "Idle", id="tc_e_19"),
        pytest.param("EVCommunicationLost", "EVDisconnected", "Idle", id="tc_e_20"),
        pytest.param("ChargingStateChanged", "StoppedByEV", "SuspendedEV", id="tc_e_22"),
        pytest.param("EVConnectTimeout", "Timeout", "EVConnected", id="tc_e_39"),
        # stoppedReason may be left out only when it is Local.
        pytest.param("StopAuthorized", None, "Idle", id="local_by_default"),
    ],
)
async def test_tc_e_07_to_39_stop_transaction_options(
    ocpp_server, setup, db_call, eager_celery, trigger, stopped_reason, state
):
    # A stop authorization comes with the token that stops.
    stop_token = token(OTHER_CARD) if trigger == "StopAuthorized" else None
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        _, _, ended = await charge(
            cs, trigger=trigger, stopped_reason=stopped_reason, state=state, id_token=stop_token
        )
    if stop_token is None:
        assert ended.id_token_info is None
    else:
        assert ended.id_token_info == {"status": "Accepted"}
    session = await session_of(db_call)
    assert session.state == SessionState.COMPLETED
    assert session.stop_reason == (stopped_reason or "Local")
    assert (session.meter_start, session.meter_stop, session.energy_wh) == (1000, 6000, 5000)
    assert session.charging_state == state
    assert (await events_of(db_call, session))[-1] == (2, "Ended", trigger, False)
    assert ended.total_cost == 3.57  # 5 kWh at 0.40 plus 1.00, with 19 % tax


async def test_tc_e_16_an_invalid_token_is_answered_invalid_and_never_billed(
    ocpp_server, setup, db_call, eager_celery
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        started, _, ended = await charge(
            cs,
            start_token=token("DEADBEEF01"),
            trigger="Deauthorized",
            stopped_reason="DeAuthorized",
        )
    assert started.id_token_info == {"status": "Invalid"}
    session = await session_of(db_call)
    assert (session.auth_status, session.billable) == (AuthorizationStatus.INVALID, False)
    # Free, and the station is told so.
    assert ended.total_cost == 0
    cdr = await db_call(ChargeDetailRecord.objects.get, session=session)
    assert cdr.total_incl_tax == 0


async def test_tc_e_21_remote_stop_sends_the_station_s_transaction_id(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=TxStation) as cs:
        await cs.call(boot())
        await cs.call(tx_event("Started", 0, "Authorized", tx="a1b2-c3", id_token=token()))
        log = await run("stop_charging", {"connector_id": 1}, user=setup.operator)
        await cs.call(tx_event("Ended", 1, "RemoteStop", tx="a1b2-c3", stopped_reason="Remote"))
    assert cs.received == [("RequestStopTransaction", {"transaction_id": "a1b2-c3"})]
    assert (log.status, log.payload) == ("accepted", {"transactionId": "a1b2-c3"})
    session = await session_of(db_call, "a1b2-c3")
    assert (session.state, session.stop_reason) == (SessionState.COMPLETED, "Remote")
    assert session.id_tag == CARD
    assert (await db_call(CommandLog.objects.get, pk=log.pk)).session_id == session.pk


@pytest.mark.parametrize(
    "params, sent, answer",
    [
        pytest.param({"connector_id": 1}, {"transaction_id": "TX-1"}, (True, True), id="tc_e_29"),
        pytest.param({"connector_id": 1}, {"transaction_id": "TX-1"}, (True, False), id="tc_e_30"),
        pytest.param(
            {"transaction_id": "TX-0"}, {"transaction_id": "TX-0"}, (False, True), id="tc_e_31"
        ),
        pytest.param({}, {}, (None, True), id="tc_e_33"),
        pytest.param({}, {}, (None, False), id="tc_e_34"),
    ],
)
async def test_tc_e_29_to_34_get_transaction_status(
    ocpp_server, setup, db_call, params, sent, answer
):
    async with connected_station201(ocpp_server, IDENTITY, cls=TxStation) as cs:
        await cs.call(boot())
        await cs.call(tx_event("Started", 0, "Authorized", tx="TX-0", id_token=token()))
        await cs.call(tx_event("Ended", 1, "StopAuthorized", tx="TX-0", stopped_reason="Local"))
        await cs.call(tx_event("Started", 0, "Authorized", id_token=token()))
        cs.answers["GetTransactionStatus"] = answer
        log = await run("get_transaction_status", params)
    assert cs.received == [("GetTransactionStatus", sent)]
    ongoing, queued = answer
    expected = {"messagesInQueue": queued}
    if ongoing is not None:
        expected["ongoingIndicator"] = ongoing
    assert (log.status, log.response) == ("accepted", expected)
    if sent:
        linked = await db_call(lambda: CommandLog.objects.get(pk=log.pk).session.transaction_id)
        assert linked == sent["transaction_id"]


async def test_tc_e_53_a_new_transaction_may_start_again_at_seq_no_0(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await charge(cs, tx="TX-1")
        await charge(cs, tx="TX-2", start_wh=6000, stop_wh=9000)
    first, second = await session_of(db_call, "TX-1"), await session_of(db_call, "TX-2")
    assert (first.energy_wh, second.energy_wh) == (5000, 3000)
    assert [e[0] for e in await events_of(db_call, second)] == [0, 1, 2]


# --- retransmission, offline queue, gaps, order ---------------------------------------------------


async def test_a_retransmitted_event_changes_nothing_and_is_answered_the_same(
    ocpp_server, setup, db_call
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        first = await cs.call(
            tx_event(
                "Started",
                0,
                "Authorized",
                id_token=token(),
                meter=[reading(1000, -10, "Transaction.Begin")],
            )
        )
        update = tx_event(
            "Updated", 1, "Authorized", id_token=token(OTHER_CARD), meter=[reading(4000)]
        )
        answers = [await cs.call(update), await cs.call(update)]
        # The card is blocked meanwhile: the copy is still answered as the first time.
        await db_call(IdToken.objects.filter(uid=OTHER_CARD).update, status=IdTokenStatus.BLOCKED)
        answers.append(await cs.call(update))
        again = await cs.call(
            tx_event(
                "Started",
                0,
                "Authorized",
                id_token=token(),
                meter=[reading(1000, -10, "Transaction.Begin")],
            )
        )
    assert answers == [answers[0]] * 3
    assert answers[0].id_token_info == {"status": "Accepted"}
    assert again == first
    session = await session_of(db_call)
    assert (session.id_tag, session.meter_start, session.energy_wh) == (OTHER_CARD, 1000, 3000)
    assert await db_call(ChargingSession.objects.count) == 1
    assert await db_call(TransactionEvent.objects.count) == 2
    assert await db_call(MeterValue.objects.count) == 2


async def test_an_offline_transaction_replayed_after_reconnect_is_one_session(
    ocpp_server, setup, db_call, eager_celery
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            tx_event(
                "Started",
                0,
                "Authorized",
                minutes=-40,
                id_token=token(),
                meter=[reading(1000, -40, "Transaction.Begin")],
            )
        )
    # Offline meanwhile; on reconnect the station sends what it queued, in seqNo order.
    at = {minutes: ts(minutes) for minutes in (-30, -20)}
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        for seq_no, minutes, wh in ((1, -30, 2000), (2, -20, 3000)):
            await cs.call(
                tx_event(
                    "Updated",
                    seq_no,
                    "MeterValuePeriodic",
                    minutes=minutes,
                    offline=True,
                    meter=[reading(wh, at[minutes])],
                )
            )
        # The Ended event repeats the readings of the transaction (SampledDataTxEndedMeasurands).
        ended = await cs.call(
            tx_event(
                "Ended",
                3,
                "EVCommunicationLost",
                minutes=-10,
                offline=True,
                stopped_reason="EVDisconnected",
                meter=[
                    reading(2000, at[-30]),
                    reading(3000, at[-20]),
                    reading(4000, -10, "Transaction.End"),
                ],
            )
        )
        # A whole transaction that happened offline, replayed afterwards.
        for seq_no, event_type, minutes, wh, context in (
            (0, "Started", -9, 4000, "Transaction.Begin"),
            (1, "Updated", -5, 4500, "Sample.Periodic"),
            (2, "Ended", -1, 5000, "Transaction.End"),
        ):
            await cs.call(
                tx_event(
                    event_type,
                    seq_no,
                    "Authorized" if seq_no == 0 else "MeterValuePeriodic",
                    tx="TX-OFF",
                    minutes=minutes,
                    offline=True,
                    id_token=token() if seq_no == 0 else None,
                    stopped_reason="Local" if event_type == "Ended" else None,
                    meter=[reading(wh, minutes, context)],
                )
            )
    session = await session_of(db_call)
    assert (session.state, session.meter_start, session.meter_stop) == ("completed", 1000, 4000)
    assert session.energy_wh == 3000
    assert [e[3] for e in await events_of(db_call, session)] == [False, True, True, True]
    assert ended.total_cost == 2.62  # 3 kWh at 0.40 plus 1.00, with 19 % tax
    offline = await session_of(db_call, "TX-OFF")
    assert (offline.state, offline.energy_wh) == ("completed", 1000)
    assert await db_call(ChargingSession.objects.count) == 2
    assert await db_call(MeterValue.objects.filter(session=session).count) == 4
    assert await db_call(ChargeDetailRecord.objects.filter(energy_wh=3000).count) == 1


async def test_a_seq_no_gap_is_visible_and_counts_no_energy_twice(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            tx_event(
                "Started",
                0,
                "Authorized",
                minutes=-30,
                id_token=token(),
                meter=[reading(1000, -30, "Transaction.Begin")],
            )
        )
        await cs.call(tx_event("Updated", 1, "MeterValuePeriodic", meter=[reading(2000, -20)]))
        # seqNo 2 is lost for good.
        await cs.call(tx_event("Updated", 3, "MeterValuePeriodic", meter=[reading(3500, -5)]))
        await cs.call(
            tx_event(
                "Ended",
                4,
                "StopAuthorized",
                stopped_reason="Local",
                meter=[reading(4000, 0, "Transaction.End")],
            )
        )
    session = await session_of(db_call)
    assert (session.energy_wh, session.meter_stop) == (3000, 4000)
    assert await db_call(missing_event_numbers, session) == [2]
    assert await db_call(ChargingSession.objects.count) == 1


async def test_an_ended_event_before_its_updated_one_is_not_reopened(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            tx_event(
                "Started",
                0,
                "Authorized",
                minutes=-30,
                id_token=token(),
                meter=[reading(1000, -30, "Transaction.Begin")],
            )
        )
        await cs.call(
            tx_event(
                "Ended",
                2,
                "StopAuthorized",
                stopped_reason="Local",
                meter=[reading(5000, 0, "Transaction.End")],
            )
        )
        await cs.call(tx_event("Updated", 1, "MeterValuePeriodic", meter=[reading(3000, -15)]))
    session = await session_of(db_call)
    assert (session.state, session.energy_wh, session.meter_stop) == ("completed", 4000, 5000)
    assert [e[0] for e in await events_of(db_call, session)] == [0, 2, 1]
    # The late reading is kept with the session all the same.
    assert await db_call(MeterValue.objects.filter(session=session).count) == 3


async def test_an_event_of_an_unknown_transaction_makes_its_session(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        # The Started event never arrived (the station lost it with its queue).
        answer = await cs.call(
            tx_event(
                "Updated",
                5,
                "MeterValuePeriodic",
                evse=2,
                id_token=token(),
                meter=[reading(2500, -20), reading(3000, -10)],
            )
        )
        await cs.call(
            tx_event(
                "Ended",
                6,
                "StopAuthorized",
                evse=2,
                stopped_reason="Local",
                meter=[reading(3600, 0, "Transaction.End")],
            )
        )
    assert answer.id_token_info == {"status": "Accepted"}
    session = await session_of(db_call)
    assert session.connector.connector_id == 2
    # It began no later than its oldest reading, from which the energy counts.
    assert session.start <= datetime.now(UTC) - timedelta(minutes=19)
    assert (session.meter_start, session.meter_stop, session.energy_wh) == (2500, 3600, 1100)
    assert session.state == SessionState.COMPLETED


async def test_an_ended_event_of_an_unknown_transaction_is_recorded_closed(
    ocpp_server, setup, db_call
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            tx_event(
                "Ended",
                2,
                "EVCommunicationLost",
                stopped_reason="EVDisconnected",
                meter=[
                    reading(1000, -20, "Transaction.Begin"),
                    reading(2000, 0, "Transaction.End"),
                ],
            )
        )
    session = await session_of(db_call)
    assert (session.state, session.stop_reason, session.energy_wh) == (
        "completed",
        "EVDisconnected",
        1000,
    )


# --- what else an event carries -------------------------------------------------------------------


async def test_a_token_changed_mid_transaction_is_authorized_and_recorded(
    ocpp_server, setup, db_call
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(tx_event("Started", 0, "Authorized", id_token=token()))
        blocked = await cs.call(tx_event("Updated", 1, "Authorized", id_token=token(BLOCKED)))
    assert blocked.id_token_info == {"status": "Blocked"}
    session = await session_of(db_call)
    assert (session.id_tag, session.auth_status, session.billable) == (BLOCKED, "Blocked", False)


async def test_a_stop_token_answers_but_keeps_the_card_that_charged(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(tx_event("Started", 0, "Authorized", id_token=token()))
        stop = await cs.call(
            tx_event(
                "Updated", 1, "StopAuthorized", id_token=token(OTHER_CARD), state="EVConnected"
            )
        )
    assert stop.id_token_info == {"status": "Accepted"}
    assert (await session_of(db_call)).id_tag == CARD


async def test_phases_cable_current_and_time_charging_are_kept(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            tx_event(
                "Started", 0, "Authorized", id_token=token(), number_of_phases_used=3,
                cable_max_current=32,
            )
        )  # fmt: skip
        await cs.call(tx_event("Updated", 1, "ChargingRateChanged", number_of_phases_used=1))
    session = await session_of(db_call)
    assert (session.number_of_phases_used, session.cable_max_current) == (1, 32)


async def test_a_reservation_id_uses_the_reservation(ocpp_server, setup, db_call):
    reservation = await db_call(
        ReservationFactory,
        station=setup.station,
        id_tag=CARD,
        expiry=datetime.now(UTC) + timedelta(hours=1),
        status=ReservationStatus.ACTIVE,
    )
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            tx_event("Started", 0, "Authorized", id_token=token(), reservation_id=reservation.pk)
        )
    session = await session_of(db_call)
    assert session.reservation_id == reservation.pk
    used = await db_call(Reservation.objects.get, pk=reservation.pk)
    assert used.status == ReservationStatus.USED


async def test_a_no_authorization_token_is_accepted_and_names_nobody(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        answer = await cs.call(
            tx_event("Started", 0, "Authorized", id_token=token("", "NoAuthorization"))
        )
    assert answer.id_token_info == {"status": "Accepted"}
    assert (await session_of(db_call)).id_tag == ""


async def test_an_evse_id_0_is_refused_as_a_property_violation(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        with pytest.raises(PropertyConstraintViolationError, match=r"evse\.id"):
            await cs.call(tx_event("Started", 0, "Authorized", evse=0), suppress=False)
    assert await db_call(ChargingSession.objects.count) == 0


# --- F: remote start ------------------------------------------------------------------------------


async def test_tc_f_01_remote_start_after_plug_in_claims_the_running_transaction(
    ocpp_server, setup, db_call, eager_celery
):
    async with connected_station201(ocpp_server, IDENTITY, cls=TxStation) as cs:
        await cs.call(boot())
        await cs.call(tx_event("Started", 0, "CablePluggedIn", state="EVConnected"))
        cs.answers["transaction_id"] = "TX-1"
        log = await run("start_charging", {"id_tag": CARD}, user=setup.operator)
        remote_start = await db_call(RemoteStart.objects.get)
        await cs.call(
            tx_event(
                "Updated",
                1,
                "RemoteStart",
                id_token=token(),
                remote_start_id=remote_start.pk,
                state="Charging",
                meter=[reading(1000)],
            )
        )
        ended = await cs.call(
            tx_event(
                "Ended",
                2,
                "StopAuthorized",
                stopped_reason="Local",
                meter=[reading(1200, 0, "Transaction.End")],
            )
        )
    assert cs.received == [
        ("RequestStartTransaction", {"remote_start_id": remote_start.pk, "id_token": token()})
    ]
    assert log.status == "accepted"
    session = await session_of(db_call)
    assert (session.auth_method, session.billable) == (AuthMethod.REMOTE, False)
    claimed = await db_call(RemoteStart.objects.get)
    assert (claimed.session_id, claimed.status) == (session.pk, RemoteStartStatus.ACCEPTED)
    assert ended.total_cost == 0
    cdr = await db_call(ChargeDetailRecord.objects.get, session=session)
    assert cdr.total_incl_tax == 0
    assert cdr.reason.startswith("Started remotely by an operator")


@pytest.mark.parametrize("authorize_first", [True, False], ids=["tc_f_02", "tc_f_03"])
async def test_tc_f_02_03_remote_start_first_starts_a_remote_session(
    ocpp_server, setup, db_call, authorize_first
):
    async with connected_station201(ocpp_server, IDENTITY, cls=TxStation) as cs:
        await cs.call(boot())
        log = await run("start_charging", {"id_tag": CARD, "connector_id": 2})
        remote_start = await db_call(RemoteStart.objects.get)
        if authorize_first:
            # AuthorizeRemoteStart is true: the station asks before it starts.
            auth = await cs.call(call.Authorize(id_token=token()))
            assert auth.id_token_info["status"] == "Accepted"
        started = await cs.call(
            tx_event(
                "Started",
                0,
                "RemoteStart",
                evse=2,
                id_token=token(),
                remote_start_id=remote_start.pk,
            )
        )
    assert cs.received[0][1] == {
        "remote_start_id": remote_start.pk,
        "id_token": token(),
        "evse_id": 2,
    }
    assert log.status == "accepted"
    assert started.id_token_info == {"status": "Accepted"}
    session = await session_of(db_call)
    assert (session.auth_method, session.billable) == (AuthMethod.REMOTE, False)
    assert session.connector.connector_id == 2
    assert (await db_call(RemoteStart.objects.get)).session_id == session.pk


async def test_tc_f_04_remote_start_then_cable_plugin_timeout_ends_it_free(
    ocpp_server, setup, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=TxStation) as cs:
        await cs.call(boot())
        await run("start_charging", {"id_tag": CARD, "connector_id": 1})
        remote_start = await db_call(RemoteStart.objects.get)
        await cs.call(
            tx_event("Started", 0, "RemoteStart", id_token=token(), remote_start_id=remote_start.pk)
        )
        ended = await cs.call(tx_event("Ended", 1, "EVConnectTimeout", stopped_reason="Timeout"))
    session = await session_of(db_call)
    assert (session.state, session.stop_reason, session.billable) == ("completed", "Timeout", False)
    assert ended.total_cost == 0


async def test_a_remote_start_from_the_api_reaches_the_station_and_its_session_is_claimed(
    ocpp_server, setup, db_call
):
    operator = await db_call(client_as, setup.org, Role.OPERATOR)
    async with connected_station201(ocpp_server, IDENTITY, cls=TxStation) as cs:
        await cs.call(boot())
        response = await in_thread(
            operator,
            "post",
            f"/api/v1/stations/{setup.station.pk}/commands/",
            {
                "command": "start_charging",
                "id_tag": CARD,
                "connector_id": 1,
                "charging_profile": TX_PROFILE_16,
            },
        )
        remote_start = await db_call(RemoteStart.objects.get)
        await cs.call(
            tx_event("Started", 0, "RemoteStart", id_token=token(), remote_start_id=remote_start.pk)
        )
    assert response.status_code == 200, response.data
    assert response.data["status"] == "accepted"
    action, sent = cs.received[0]
    assert action == "RequestStartTransaction"
    assert (sent["remote_start_id"], sent["evse_id"]) == (remote_start.pk, 1)
    assert sent["charging_profile"] == {
        "id": 7,
        "stack_level": 0,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative",
        "charging_schedule": [
            {
                "id": 7,
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 16.0}],
            }
        ],
    }
    session = await session_of(db_call)
    assert (session.auth_method, session.billable) == (AuthMethod.REMOTE, False)
    assert (await db_call(RemoteStart.objects.get)).session_id == session.pk


async def test_a_remote_start_with_a_profile_2_0_1_cannot_carry_is_refused(
    transactional_db, setup, db_call
):
    station = setup.station
    station.ocpp_version = "ocpp2.0.1"
    await db_call(station.save)
    profile = {**TX_PROFILE_16, "chargingProfileKind": "Sometimes"}
    check = await db_call(
        check_command,
        station,
        "start_charging",
        Actor(role=Role.OPERATOR),
        {"id_tag": CARD, "charging_profile": profile},
    )
    assert "charging_profile" in check.errors


def test_a_1_6_charging_profile_becomes_a_2_0_1_one():
    assert charging_profile_from_16(
        {**TX_PROFILE_16, "chargingProfilePurpose": "ChargePointMaxProfile", "validTo": "x"}
    ) == {
        "id": 7,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargingStationMaxProfile",
        "chargingProfileKind": "Relative",
        "validTo": "x",
        "chargingSchedule": [
            {
                "id": 7,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            }
        ],
    }


# --- I: cost --------------------------------------------------------------------------------------


async def test_tc_i_01_push_cost_sends_the_running_cost_by_the_tariff(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=TxStation) as cs:
        await cs.call(boot())
        await cs.call(
            tx_event(
                "Started",
                0,
                "Authorized",
                minutes=-20,
                id_token=token(),
                meter=[reading(1000, -20, "Transaction.Begin")],
            )
        )
        await cs.call(tx_event("Updated", 1, "MeterValuePeriodic", meter=[reading(4000, -1)]))
        log = await run("push_cost", {"connector_id": 1}, user=setup.operator)
        given = await run("push_cost", {"total_cost": "9.99"})
    # 3 kWh at 0.40 plus 1.00 = 2.20, with 19 % tax 2.62.
    assert cs.received == [
        ("CostUpdated", {"total_cost": 2.62, "transaction_id": "TX-1"}),
        ("CostUpdated", {"total_cost": 9.99, "transaction_id": "TX-1"}),
    ]
    assert (log.status, log.command) == ("accepted", "push_cost")
    assert given.status == "accepted"


async def test_tc_i_02_the_ended_answer_has_the_final_cost_of_the_cdr(
    ocpp_server, setup, db_call, eager_celery
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        started, updated, ended = await charge(cs)
    assert started.total_cost is None and updated.total_cost is None
    session = await session_of(db_call)
    cdr = await db_call(ChargeDetailRecord.objects.get, session=session)
    assert (cdr.energy_wh, cdr.total_incl_tax) == (5000, Decimal("3.57"))
    assert ended.total_cost == float(cdr.total_incl_tax)


async def test_no_total_cost_when_no_tariff_prices_the_session(ocpp_server, setup, db_call):
    await db_call(TariffAssignment.objects.all().delete)
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        _, _, ended = await charge(cs)
    # Left out, it means "not free" (the operator bills it some other way).
    assert ended.total_cost is None


@pytest.mark.parametrize(
    "intent",
    [intents.GetTransactionStatus("TX-1"), intents.CostUpdated(Decimal("1.00"), "TX-1")],
)
def test_the_2_0_1_transaction_intents_do_not_exist_in_1_6(intent):
    assert not v16_calls.supports(type(intent))
    with pytest.raises(intents.NotInVersion):
        v16_calls.build(intent)


async def test_push_cost_and_transaction_status_are_refused_to_a_1_6_station(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=Station) as cp:
        await cp.call(call16.BootNotification(charge_point_model="X", charge_point_vendor="Y"))
        for name in ("push_cost", "get_transaction_status"):
            with pytest.raises(CommandNotAllowed, match=r"Only for OCPP 2\.0\.1 stations"):
                await run(name)
    assert await db_call(CommandLog.objects.count) == 0


# --- J: meter values ------------------------------------------------------------------------------


async def test_tc_j_01_clock_aligned_meter_values_without_a_transaction(
    ocpp_server, setup, db_call
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            call.MeterValues(
                evse_id=1,
                meter_value=[
                    {
                        "timestamp": ts(),
                        "sampled_value": [
                            {"value": 12.5, "context": "Sample.Clock",
                             "unit_of_measure": {"unit": "Wh", "multiplier": 3}},
                            {"value": 230.1, "context": "Sample.Clock", "measurand": "Voltage",
                             "phase": "L1-N"},
                        ],
                    }
                ],
            )
        )  # fmt: skip
        # evseId 0 is the station's main meter.
        await cs.call(call.MeterValues(evse_id=0, meter_value=[reading(99000, 0, "Sample.Clock")]))
    rows = await db_call(
        lambda: list(
            MeterValue.objects.order_by("connector_number", "measurand").values_list(
                "connector_number", "session", "measurand", "value", "unit", "phase"
            )
        )
    )
    assert rows == [
        (0, None, ENERGY, Decimal("99000"), "Wh", ""),
        (1, None, ENERGY, Decimal("12500"), "Wh", ""),
        (1, None, "Voltage", Decimal("230.1"), "V", "L1-N"),
    ]


async def test_tc_j_02_03_clock_aligned_values_in_updated_and_ended_events(
    ocpp_server, setup, db_call
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            tx_event(
                "Started",
                0,
                "Authorized",
                minutes=-30,
                id_token=token(),
                meter=[reading(1000, -30, "Transaction.Begin")],
            )
        )
        quarter = ts(-15)
        await cs.call(
            tx_event(
                "Updated", 1, "MeterValueClock", meter=[reading(2500, quarter, "Sample.Clock")]
            )
        )
        running = await session_of(db_call)
        await cs.call(
            tx_event(
                "Ended",
                2,
                "StopAuthorized",
                stopped_reason="Local",
                # The clock-aligned value again: stored once.
                meter=[reading(2500, quarter, "Sample.Clock"), reading(3000, 0, "Transaction.End")],
            )
        )
    assert running.energy_wh == 1500
    session = await session_of(db_call)
    assert (session.meter_stop, session.energy_wh) == (3000, 2000)
    contexts = await db_call(
        lambda: sorted(MeterValue.objects.filter(session=session).values_list("context", flat=True))
    )
    assert contexts == ["Sample.Clock", "Transaction.Begin", "Transaction.End"]


async def test_tc_j_04_11_signed_meter_values_are_kept_with_their_method_and_key(
    ocpp_server, setup, db_call
):
    signed = {
        "signed_meter_data": "T0NNRnx7fQ==",
        "signing_method": "ECDSA-secp256r1-SHA256",
        "encoding_method": "OCMF",
        "public_key": "MFkwEwYHKoZIzj0CAQY=",
    }
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            call.MeterValues(
                evse_id=1, meter_value=[reading(500, -5, "Sample.Clock", signed_meter_value=signed)]
            )
        )
        await cs.call(
            tx_event(
                "Started",
                0,
                "SignedDataReceived",
                id_token=token(),
                meter=[reading(1000, 0, "Transaction.Begin", signed_meter_value=signed)],
            )
        )
    stored = await db_call(lambda: list(MeterValue.objects.order_by("timestamp")))
    assert [row.session_id is None for row in stored] == [True, False]
    assert all(
        row.signed_data
        == '{"signedMeterData":"T0NNRnx7fQ==","signingMethod":"ECDSA-secp256r1-SHA256",'
        '"encodingMethod":"OCMF","publicKey":"MFkwEwYHKoZIzj0CAQY="}'
        for row in stored
    )
    assert [row.value for row in stored] == [500, 1000]


async def test_tc_j_07_09_10_sampled_values_give_meter_start_energy_and_meter_stop(
    ocpp_server, setup, db_call
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            tx_event(
                "Started",
                0,
                "Authorized",
                minutes=-30,
                id_token=token(),
                meter=[reading(10000, -30, "Transaction.Begin")],
            )
        )
        started = await session_of(db_call)
        await cs.call(
            tx_event(
                "Updated",
                1,
                "MeterValuePeriodic",
                meter=[
                    {
                        "timestamp": ts(-10),
                        "sampled_value": [
                            {"value": 5000, "phase": "L1", "measurand": ENERGY},
                            {"value": 5000, "phase": "L2", "measurand": ENERGY},
                            {"value": 5000, "phase": "L3", "measurand": ENERGY},
                            {"value": 7.2, "measurand": "Power.Active.Import",
                             "unit_of_measure": {"unit": "kW"}},
                        ],
                    }
                ],
            )
        )  # fmt: skip
        updated = await session_of(db_call)
        await cs.call(
            tx_event(
                "Ended",
                2,
                "StopAuthorized",
                stopped_reason="Local",
                meter=[reading(17500, 0, "Transaction.End")],
            )
        )
    assert (started.meter_start, started.energy_wh) == (10000, 0)
    assert (updated.energy_wh, updated.last_power_w) == (5000, 7200)
    ended = await session_of(db_call)
    assert (ended.meter_stop, ended.energy_wh) == (17500, 7500)


async def test_tc_j_08_transaction_begin_before_the_evse_is_known(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await cs.call(
            tx_event(
                "Started",
                0,
                "Authorized",
                evse=None,
                id_token=token(),
                meter=[reading(800, -2, "Transaction.Begin")],
            )
        )
        await cs.call(
            tx_event(
                "Updated", 1, "CablePluggedIn", evse=2, state="EVConnected", meter=[reading(900)]
            )
        )
    session = await session_of(db_call)
    assert session.connector.connector_id == 2
    assert (session.meter_start, session.energy_wh) == (800, 100)


async def test_sessions_of_both_versions_sit_in_the_same_sessions_list(ocpp_server, setup, db_call):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        await charge(cs, tx="7f3c9a2e-uuid-like")

    def listed():
        viewer = client_as(setup.org, Role.VIEWER)
        row = viewer.get("/api/v1/sessions/").data["results"][0]
        csv = viewer.get("/api/v1/sessions/", {"format": "csv"})
        return row, b"".join(csv.streaming_content).decode()

    row, csv = await db_call(listed)
    assert (row["transaction_id"], row["energy_wh"], row["state"]) == (
        "7f3c9a2e-uuid-like",
        5000,
        "completed",
    )
    assert "7f3c9a2e-uuid-like" in csv


async def test_stations_charging_at_once_each_keep_their_own_session(ocpp_server, setup, db_call):
    async def one(identity, tx):
        async with connected_station201(ocpp_server, identity) as cs:
            await cs.call(boot())
            await charge(cs, tx=tx)

    def more_stations():
        for n in range(3):
            ChargingStationFactory(organization=setup.org, ocpp_id=f"{IDENTITY}-{n}")

    await db_call(more_stations)
    await asyncio.gather(*(one(f"{IDENTITY}-{n}", "TX-1") for n in range(3)))
    energies = await db_call(
        lambda: sorted(ChargingSession.objects.values_list("station__ocpp_id", "energy_wh"))
    )
    assert energies == [(f"{IDENTITY}-{n}", 5000) for n in range(3)]


async def test_the_session_api_shows_the_transaction_events_and_a_gap(
    ocpp_server, setup, db_call, org
):
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        await cs.call(boot())
        for seq_no, kind, trigger in ((0, "Started", "Authorized"), (2, "Ended", "StopAuthorized")):
            await cs.call(
                call.TransactionEvent(
                    event_type=kind,
                    timestamp=ts(seq_no),
                    trigger_reason=trigger,
                    seq_no=seq_no,
                    transaction_info={"transaction_id": "TX-API-1", "charging_state": "Idle"},
                    evse={"id": 1, "connector_id": 1},
                    id_token=token(),
                    number_of_phases_used=3,
                )
            )

    def read():
        session = ChargingSession.objects.get(transaction_id="TX-API-1")
        return client_as(org, Role.VIEWER).get(f"/api/v1/sessions/{session.pk}/")

    response = await db_call(read)
    assert response.status_code == 200, response.data
    assert [(e["seq_no"], e["event_type"]) for e in response.data["transaction_events"]] == [
        (0, "Started"),
        (2, "Ended"),
    ]
    assert response.data["missing_event_numbers"] == [1]
    assert response.data["number_of_phases_used"] == 3
