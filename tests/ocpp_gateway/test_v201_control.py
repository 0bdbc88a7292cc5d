"""OCPP 2.0.1 remote control (OCTT, CSMS under test): the neutral commands over a real socket."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action, ConnectorStatusEnumType, FirmwareStatusEnumType

from ocpp_gateway import intents
from ocpp_gateway.messagelog import message_log
from ocpp_gateway.models import CommandLog, OcppMessage
from ocpp_gateway.remote import (
    COMMANDS,
    Actor,
    CommandNotAllowed,
    CommandSpec,
    InvalidCommandParameters,
    check_command,
    execute_command,
)
from ocpp_gateway.v16 import data_transfer as vendor_registry
from ocpp_gateway.v201 import calls as v201_calls
from organizations.choices import Role
from sessions_app.choices import ReservationStatus
from sessions_app.models import Reservation
from stations.choices import ConnectionState, DataTransferDirection
from stations.models import ChargingStation, Connector, Evse, StationDataTransfer
from tests.api.conftest import in_thread
from tests.apiclients import client_as
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    ReservationFactory,
)
from tests.ocpp_gateway.conftest import Station201, connected_station201

IDENTITY = "CS-201-CTRL"
CARD, EMAID, GROUPED, BLOCKED_GROUPED = "04A1B2C3D4", "DE-ACM-C12345678-9", "04CC01", "04CC02"
FLEET = "FLEET-7"


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def in_an_hour() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


class ControlledStation(Station201):
    """A 2.0.1 station that records every CSMS call as sent and answers as `answers` says."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []
        self.answers: dict[str, object] = {}

    async def _handle_call(self, msg):
        # The payload exactly as it came off the wire, before the library renames its keys.
        self.received.append((msg.action, msg.payload))
        return await super()._handle_call(msg)

    def status(self, action: str, default: str = "Accepted"):
        return self.answers.get(action, default)

    @on(Action.reset)
    def on_reset(self, **_):
        return call_result.Reset(status=self.status("Reset"))

    @on(Action.clear_cache)
    def on_clear_cache(self, **_):
        return call_result.ClearCache(status=self.status("ClearCache"))

    @on(Action.unlock_connector)
    def on_unlock_connector(self, **_):
        return call_result.UnlockConnector(status=self.status("UnlockConnector", "Unlocked"))

    @on(Action.change_availability)
    def on_change_availability(self, **_):
        return call_result.ChangeAvailability(status=self.status("ChangeAvailability"))

    @on(Action.trigger_message)
    def on_trigger_message(self, **_):
        return call_result.TriggerMessage(status=self.status("TriggerMessage"))

    @on(Action.reserve_now)
    def on_reserve_now(self, **_):
        return call_result.ReserveNow(status=self.status("ReserveNow"))

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, **_):
        return call_result.CancelReservation(status=self.status("CancelReservation"))

    @on(Action.send_local_list)
    def on_send_local_list(self, **_):
        return call_result.SendLocalList(status=self.status("SendLocalList"))

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_):
        return call_result.GetLocalListVersion(version_number=self.answers["GetLocalListVersion"])

    @on(Action.data_transfer)
    def on_data_transfer(self, **_):
        return call_result.DataTransfer(
            status=self.status("DataTransfer"),
            data={"pong": True},
            custom_data={"vendor_id": "com.acme", "firmware": "2.4.1"},
        )


@pytest.fixture
async def station(db_call, org):
    """A station of `org` with EVSE 1 (connector 1) and EVSE 2 (connectors 2, 3); drivers' cards."""

    def build():
        station = ChargingStationFactory(organization=org, ocpp_id=IDENTITY)
        evse2 = Evse.objects.get(station=station, evse_number=2)
        Connector.objects.create(station=station, evse=evse2, connector_id=3, evse_connector_id=2)
        group = AccessGroupFactory(organization=org, name="Drivers")
        station.site.access_groups.add(group)
        IdTokenFactory(organization=org, uid=CARD, access_groups=[group])
        IdTokenFactory(organization=org, uid=EMAID, type="eMAID", access_groups=[group])
        IdTokenFactory(organization=org, uid=GROUPED, parent_id_tag=FLEET, access_groups=[group])
        IdTokenFactory(
            organization=org,
            uid=BLOCKED_GROUPED,
            parent_id_tag=FLEET,
            status="Blocked",
            access_groups=[group],
        )
        return station

    return await db_call(build)


async def run(name: str, params: dict | None = None, *, role=Role.OWNER) -> CommandLog:
    """Run a command as a view would: a fresh station row, in a thread of its own."""

    def in_a_view():
        try:
            station = ChargingStation.objects.get(ocpp_id=IDENTITY)
            return execute_command(station, name, params, actor=Actor(role=role))
        finally:
            connections.close_all()

    return await sync_to_async(in_a_view, thread_sensitive=False)()


async def status_of(db_call, number: int) -> str:
    connector = await db_call(Connector.objects.get, station__ocpp_id=IDENTITY, connector_id=number)
    return connector.status


def status_notification(evse: int, connector: int, status) -> call.StatusNotification:
    return call.StatusNotification(
        timestamp=now(), connector_status=status, evse_id=evse, connector_id=connector
    )


# --- Reset (B12, B11) -------------------------------------------------------------------------


async def test_tc_b_20_a_soft_reset_without_a_transaction_is_on_idle(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("restart_station")

    assert cs.received == [("Reset", {"type": "OnIdle"})]
    assert (log.command, log.action, log.status) == ("restart_station", "Reset", "accepted")


async def test_tc_b_21_an_on_idle_reset_during_a_transaction_is_scheduled_and_counts_as_accepted(
    ocpp_server, station, db_call
):
    await db_call(ChargingSessionFactory, station=station, transaction_id="tx-201-a")
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        cs.answers["Reset"] = "Scheduled"
        log = await run("restart_station", {"type": "Soft"})

    assert cs.received == [("Reset", {"type": "OnIdle"})]
    assert (log.status, log.response) == ("accepted", {"status": "Scheduled"})


async def test_tc_b_22_a_hard_reset_during_a_transaction_is_immediate_and_the_station_boots(
    ocpp_server, station, db_call
):
    await db_call(ChargingSessionFactory, station=station, transaction_id="tx-201-b")
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("restart_station", {"type": "Hard"})
        boot = await cs.call(
            call.BootNotification(
                charging_station={"model": "Wallbox 2", "vendor_name": "ACME"},
                reason="RemoteReset",
            )
        )

    assert cs.received == [("Reset", {"type": "Immediate"})]
    assert log.status == "accepted"
    assert boot.status == "Accepted"
    fresh = await db_call(ChargingStation.objects.get, pk=station.pk)
    assert fresh.boot_reason == "RemoteReset"


async def test_tc_b_25_an_evse_is_reset_alone(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("restart_station", {"evse_id": 2})

    assert cs.received == [("Reset", {"type": "OnIdle", "evseId": 2})]
    assert log.status == "accepted"


@pytest.mark.parametrize(
    ("kind", "sent", "answer"),
    [
        ("Soft", "OnIdle", "Scheduled"),  # TC_B_26
        ("Hard", "Immediate", "Accepted"),  # TC_B_27
    ],
)
async def test_tc_b_26_27_an_evse_reset_during_a_transaction(
    ocpp_server, station, db_call, kind, sent, answer
):
    await db_call(ChargingSessionFactory, station=station, transaction_id="tx-201-c")
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        cs.answers["Reset"] = answer
        log = await run("restart_station", {"type": kind, "evse_id": 1})

    assert cs.received == [("Reset", {"type": sent, "evseId": 1})]
    assert (log.status, log.response) == ("accepted", {"status": answer})


@pytest.mark.django_db
def test_an_evse_reset_is_refused_for_a_16_station(org):
    station = ChargingStationFactory(organization=org, connection_state=ConnectionState.ONLINE)

    with pytest.raises(InvalidCommandParameters) as invalid:
        execute_command(station, "restart_station", {"evse_id": 1}, actor=Actor(role=Role.OWNER))

    assert invalid.value.errors == {
        "evse_id": ["Choosing an EVSE is only for OCPP 2.0.1 stations."]
    }
    assert not CommandLog.objects.exists()


@pytest.mark.django_db
def test_an_evse_the_station_does_not_have_is_a_field_error(org):
    station = ChargingStationFactory(
        organization=org, ocpp_version="ocpp2.0.1", connection_state=ConnectionState.ONLINE
    )

    with pytest.raises(InvalidCommandParameters) as invalid:
        execute_command(station, "restart_station", {"evse_id": 7}, actor=Actor(role=Role.OWNER))

    assert invalid.value.errors == {"evse_id": ["The station has no EVSE 7."]}


# --- Authorization cache (C11) ----------------------------------------------------------------


@pytest.mark.parametrize(("answer", "status"), [("Accepted", "accepted"), ("Rejected", "rejected")])
async def test_tc_c_37_38_clear_cache(ocpp_server, station, answer, status):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        cs.answers["ClearCache"] = answer
        log = await run("clear_rfid_cache")

    assert cs.received == [("ClearCache", {})]
    assert (log.status, log.response) == (status, {"status": answer})


# --- Local authorization list (D01, D02, C13) ---------------------------------------------------


def sent_list(cs) -> dict:
    """The last SendLocalList payload the station got."""
    return [payload for action, payload in cs.received if action == "SendLocalList"][-1]


def entry_of(payload: dict, uid: str) -> dict:
    return next(e for e in payload["localAuthorizationList"] if e["idToken"]["idToken"] == uid)


async def test_tc_d_01_a_full_list_carries_every_card_with_its_type_and_is_kept(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("send_local_list", {"update_type": "Full"})

    payload = sent_list(cs)
    assert (payload["versionNumber"], payload["updateType"]) == (1, "Full")
    assert sorted(e["idToken"]["idToken"] for e in payload["localAuthorizationList"]) == sorted(
        [CARD, EMAID, GROUPED, BLOCKED_GROUPED]
    )
    assert entry_of(payload, CARD) == {
        "idToken": {"idToken": CARD, "type": "ISO14443"},
        "idTokenInfo": {"status": "Accepted"},
    }
    assert entry_of(payload, EMAID)["idToken"] == {"idToken": EMAID, "type": "eMAID"}
    assert log.status == "accepted"
    fresh = await db_call(ChargingStation.objects.get, pk=station.pk)
    assert fresh.local_list_version == 1
    assert set(fresh.local_list_snapshot) == {CARD, EMAID, GROUPED, BLOCKED_GROUPED}


async def test_tc_c_40_a_group_card_in_the_local_list_carries_its_group_id_token(
    ocpp_server, station
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        await run("send_local_list")

    assert entry_of(sent_list(cs), GROUPED)["idTokenInfo"] == {
        "status": "Accepted",
        "groupIdToken": {"idToken": FLEET, "type": "Central"},
    }


async def test_tc_c_43_a_blocked_group_card_in_the_local_list_is_blocked_with_its_group(
    ocpp_server, station
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        await run("send_local_list")

    assert entry_of(sent_list(cs), BLOCKED_GROUPED)["idTokenInfo"] == {
        "status": "Blocked",
        "groupIdToken": {"idToken": FLEET, "type": "Central"},
    }


async def test_tc_d_02_a_differential_update_sends_only_the_new_card(
    ocpp_server, station, org, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        await run("send_local_list", {"update_type": "Full"})
        group = await db_call(lambda: station.site.access_groups.get())
        await db_call(IdTokenFactory, organization=org, uid="04DD01", access_groups=[group])
        log = await run("send_local_list", {"update_type": "Differential"})

    assert sent_list(cs) == {
        "versionNumber": 2,
        "updateType": "Differential",
        "localAuthorizationList": [
            {
                "idToken": {"idToken": "04DD01", "type": "ISO14443"},
                "idTokenInfo": {"status": "Accepted"},
            }
        ],
    }
    assert log.status == "accepted"
    assert (await db_call(ChargingStation.objects.get, pk=station.pk)).local_list_version == 2


async def test_tc_d_03_a_differential_remove_names_the_card_without_its_info(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        await run("send_local_list", {"update_type": "Full"})
        await db_call(
            lambda: station.site.access_groups.get().id_tokens.remove(
                station.organization.id_tokens.get(uid=EMAID)
            )
        )
        await run("send_local_list", {"update_type": "Differential"})

    assert sent_list(cs) == {
        "versionNumber": 2,
        "updateType": "Differential",
        # Gone from the platform's view of the station: named with the default type.
        "localAuthorizationList": [{"idToken": {"idToken": EMAID, "type": "ISO14443"}}],
    }
    fresh = await db_call(ChargingStation.objects.get, pk=station.pk)
    assert EMAID not in fresh.local_list_snapshot


async def test_tc_d_04_a_full_list_without_cards_is_sent_without_entries(
    ocpp_server, station, db_call
):
    await db_call(lambda: station.site.access_groups.clear())
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("send_local_list", {"update_type": "Full"})

    # The schema wants at least one entry when the list is there: an empty list is left out.
    assert sent_list(cs) == {"versionNumber": 1, "updateType": "Full"}
    assert log.status == "accepted"


async def test_a_version_mismatch_is_kept_and_the_next_differential_list_is_refused(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        cs.answers["SendLocalList"] = "VersionMismatch"
        log = await run("send_local_list", {"update_type": "Differential"})
        with pytest.raises(CommandNotAllowed) as refusal:
            await run("send_local_list", {"update_type": "Differential"})

    assert log.status == "rejected"
    assert str(refusal.value.reason) == (
        "The station holds another list version: send a Full list first."
    )
    assert (await db_call(ChargingStation.objects.get, pk=station.pk)).local_list_version == 0


@pytest.mark.parametrize("version", [3, 0])  # TC_D_08, TC_D_09 (no list)
async def test_tc_d_08_09_get_local_list_version(ocpp_server, station, version):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        cs.answers["GetLocalListVersion"] = version
        log = await run("get_local_list_version")

    assert cs.received == [("GetLocalListVersion", {})]
    assert (log.status, log.response) == ("accepted", {"versionNumber": version})


# --- Unlock connector (F05) --------------------------------------------------------------------


async def test_tc_f_06_unlock_names_the_connector_by_its_evse(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("unlock_cable", {"connector_id": 3})

    assert cs.received == [("UnlockConnector", {"evseId": 2, "connectorId": 2})]
    assert (log.status, log.response) == ("accepted", {"status": "Unlocked"})


async def test_an_unlock_refused_for_a_running_transaction_is_rejected_with_its_word(
    ocpp_server, station, db_call
):
    await db_call(ChargingSessionFactory, station=station, transaction_id="tx-201-d")
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        cs.answers["UnlockConnector"] = "OngoingAuthorizedTransaction"
        log = await run("unlock_cable", {"connector_id": 1})

    assert cs.received == [("UnlockConnector", {"evseId": 1, "connectorId": 1})]
    assert (log.status, log.response) == ("rejected", {"status": "OngoingAuthorizedTransaction"})


# --- Trigger message (F06) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "sent"),
    [
        # TC_F_11: MeterValues of one EVSE.
        (
            {"requested_message": "MeterValues", "connector_id": 1},
            {"requestedMessage": "MeterValues", "evse": {"id": 1}},
        ),
        # TC_F_12: MeterValues of every EVSE.
        ({"requested_message": "MeterValues"}, {"requestedMessage": "MeterValues"}),
        # TC_F_13: TransactionEvent of one EVSE.
        (
            {"requested_message": "TransactionEvent", "connector_id": 3},
            {"requestedMessage": "TransactionEvent", "evse": {"id": 2}},
        ),
        # TC_F_14: TransactionEvent of every EVSE.
        ({"requested_message": "TransactionEvent"}, {"requestedMessage": "TransactionEvent"}),
        # TC_F_15: LogStatusNotification, also under its 1.6 name.
        (
            {"requested_message": "LogStatusNotification"},
            {"requestedMessage": "LogStatusNotification"},
        ),
        (
            {"requested_message": "DiagnosticsStatusNotification"},
            {"requestedMessage": "LogStatusNotification"},
        ),
    ],
)
async def test_tc_f_11_to_15_trigger_message(ocpp_server, station, params, sent):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("trigger_message", params)

    assert cs.received == [("TriggerMessage", sent)]
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})


async def test_tc_f_18_a_triggered_firmware_status_is_stored(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("trigger_message", {"requested_message": "FirmwareStatusNotification"})
        await cs.call(call.FirmwareStatusNotification(status=FirmwareStatusEnumType.idle))

    assert cs.received == [("TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})]
    assert log.status == "accepted"
    fresh = await db_call(ChargingStation.objects.get, pk=station.pk)
    assert fresh.firmware_status == "Idle"


async def test_tc_f_20_a_triggered_heartbeat_is_answered(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("trigger_message", {"requested_message": "Heartbeat"})
        beat = await cs.call(call.Heartbeat())

    assert cs.received == [("TriggerMessage", {"requestedMessage": "Heartbeat"})]
    assert log.status == "accepted"
    assert beat.current_time


@pytest.mark.parametrize(
    "status", [ConnectorStatusEnumType.available, ConnectorStatusEnumType.occupied]
)  # TC_F_23, TC_F_24
async def test_tc_f_23_24_a_triggered_status_of_one_connector_is_stored(
    ocpp_server, station, db_call, status
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run(
            "trigger_message", {"requested_message": "StatusNotification", "connector_id": 3}
        )
        await cs.call(status_notification(2, 2, status))

    assert cs.received == [
        (
            "TriggerMessage",
            {"requestedMessage": "StatusNotification", "evse": {"id": 2, "connectorId": 2}},
        )
    ]
    assert log.status == "accepted"
    assert await status_of(db_call, 3) == status


async def test_tc_f_27_a_trigger_the_station_does_not_implement_is_rejected_with_its_word(
    ocpp_server, station
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        cs.answers["TriggerMessage"] = "NotImplemented"
        log = await run("trigger_message", {"requested_message": "SignV2GCertificate"})

    assert cs.received == [("TriggerMessage", {"requestedMessage": "SignV2GCertificate"})]
    assert (log.status, log.response) == ("rejected", {"status": "NotImplemented"})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("version", "params", "errors"),
    [
        (
            "ocpp1.6",
            {"requested_message": "TransactionEvent"},
            {"requested_message": ["TransactionEvent is only for OCPP 2.0.1 stations."]},
        ),
        (
            "ocpp2.0.1",
            {"requested_message": "Heartbeat", "connector_id": 1},
            {
                "connector_id": [
                    "Only MeterValues, StatusNotification and TransactionEvent are per EVSE."
                ]
            },
        ),
    ],
)
def test_a_trigger_the_stations_version_does_not_have_is_a_field_error(
    org, version, params, errors
):
    station = ChargingStationFactory(
        organization=org, ocpp_version=version, connection_state=ConnectionState.ONLINE
    )

    with pytest.raises(InvalidCommandParameters) as invalid:
        execute_command(station, "trigger_message", params, actor=Actor(role=Role.OWNER))

    assert invalid.value.errors == errors


# --- Availability (G03, G04) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "reported"),
    [
        ("Inoperative", ConnectorStatusEnumType.unavailable),  # TC_G_03
        ("Operative", ConnectorStatusEnumType.available),  # TC_G_04
    ],
)
async def test_tc_g_03_04_availability_of_an_evse(ocpp_server, station, db_call, kind, reported):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("change_availability", {"evse_id": 2, "type": kind})
        await cs.call(status_notification(2, 1, reported))
        await cs.call(status_notification(2, 2, reported))

    assert cs.received == [("ChangeAvailability", {"operationalStatus": kind, "evse": {"id": 2}})]
    assert log.status == "accepted"
    assert [await status_of(db_call, n) for n in (2, 3)] == [reported, reported]


@pytest.mark.parametrize("kind", ["Inoperative", "Operative"])  # TC_G_05, TC_G_06
async def test_tc_g_05_06_availability_of_the_whole_station(ocpp_server, station, kind):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("change_availability", {"connector_id": 0, "type": kind})

    assert cs.received == [("ChangeAvailability", {"operationalStatus": kind})]
    assert log.status == "accepted"


@pytest.mark.parametrize("kind", ["Inoperative", "Operative"])  # TC_G_07, TC_G_08
async def test_tc_g_07_08_availability_of_one_connector(ocpp_server, station, kind):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("change_availability", {"connector_id": 3, "type": kind})

    assert cs.received == [
        ("ChangeAvailability", {"operationalStatus": kind, "evse": {"id": 2, "connectorId": 2}})
    ]
    assert log.status == "accepted"


@pytest.mark.parametrize(
    ("params", "evse"),
    [
        ({"evse_id": 1}, {"id": 1}),  # TC_G_11
        ({}, None),  # TC_G_14
        ({"connector_id": 1}, {"id": 1, "connectorId": 1}),  # TC_G_17
    ],
)
async def test_tc_g_11_14_17_availability_during_a_transaction_is_scheduled(
    ocpp_server, station, db_call, params, evse
):
    await db_call(ChargingSessionFactory, station=station, transaction_id="tx-201-e")
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        cs.answers["ChangeAvailability"] = "Scheduled"
        log = await run("change_availability", {"type": "Inoperative"} | params)

    sent = {"operationalStatus": "Inoperative"} | ({"evse": evse} if evse else {})
    assert cs.received == [("ChangeAvailability", sent)]
    assert (log.status, log.response) == ("accepted", {"status": "Scheduled"})


@pytest.mark.django_db
def test_an_evse_and_a_connector_together_are_a_field_error(org):
    station = ChargingStationFactory(
        organization=org, ocpp_version="ocpp2.0.1", connection_state=ConnectionState.ONLINE
    )

    with pytest.raises(InvalidCommandParameters) as invalid:
        execute_command(
            station,
            "change_availability",
            {"type": "Inoperative", "evse_id": 1, "connector_id": 1},
            actor=Actor(role=Role.OWNER),
        )

    assert invalid.value.errors == {"evse_id": ["Give a connector or an EVSE, not both."]}


# --- Reservations (H01, H02, H03, H04) --------------------------------------------------------


async def reservation(db_call) -> Reservation:
    return await db_call(Reservation.objects.get, station__ocpp_id=IDENTITY)


async def test_tc_h_01_a_specific_evse_is_reserved_for_the_card(ocpp_server, station, db_call):
    expiry = in_an_hour()
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("reserve", {"id_tag": CARD, "connector_id": 3, "expiry": expiry})

    held = await reservation(db_call)
    [(action, payload)] = cs.received
    assert action == "ReserveNow"
    assert payload == {
        "id": held.pk,
        "expiryDateTime": payload["expiryDateTime"],
        "idToken": {"idToken": CARD, "type": "ISO14443"},
        "evseId": 2,
    }
    assert datetime.fromisoformat(payload["expiryDateTime"]) == held.expiry
    assert log.status == "accepted"
    assert held.status == ReservationStatus.ACTIVE


async def test_tc_h_07_a_reservation_the_station_lets_expire_is_expired(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        await run("reserve", {"id_tag": CARD, "connector_id": 1, "expiry": in_an_hour()})
        held = await reservation(db_call)
        await cs.call(
            call.ReservationStatusUpdate(
                reservation_id=held.pk, reservation_update_status="Expired"
            )
        )

    assert (await reservation(db_call)).status == ReservationStatus.EXPIRED


async def test_tc_h_08_an_unspecified_evse_is_reserved_without_an_evse_id(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run("reserve", {"id_tag": EMAID, "expiry": in_an_hour()})

    [(_action, payload)] = cs.received
    assert "evseId" not in payload
    assert payload["idToken"] == {"idToken": EMAID, "type": "eMAID"}
    assert log.status == "accepted"
    assert (await reservation(db_call)).connector_id is None


async def test_tc_h_14_a_reservation_when_every_evse_is_taken_is_rejected_with_its_word(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        cs.answers["ReserveNow"] = "Occupied"
        log = await run("reserve", {"id_tag": CARD, "expiry": in_an_hour()})

    assert (log.status, log.response) == ("rejected", {"status": "Occupied"})
    assert (await reservation(db_call)).status == ReservationStatus.REJECTED


async def test_tc_h_15_a_connector_type_is_reserved_in_the_stations_words(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run(
            "reserve",
            {"id_tag": CARD, "expiry": in_an_hour(), "connector_type": "IEC_62196_T2_COMBO"},
        )

    [(_action, payload)] = cs.received
    assert (payload["connectorType"], "evseId" in payload) == ("cCCS2", False)
    assert log.status == "accepted"


async def test_tc_h_17_a_cancelled_reservation_is_cancelled(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        await run("reserve", {"id_tag": CARD, "connector_id": 1, "expiry": in_an_hour()})
        held = await reservation(db_call)
        log = await run("cancel_reservation", {"reservation_id": held.pk})

    assert cs.received[-1] == ("CancelReservation", {"reservationId": held.pk})
    assert log.status == "accepted"
    assert (await reservation(db_call)).status == ReservationStatus.CANCELLED


async def test_tc_h_19_a_group_card_reserves_with_its_group_id_token(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        await run("reserve", {"id_tag": GROUPED, "connector_id": 1, "expiry": in_an_hour()})

    [(_action, payload)] = cs.received
    assert payload["groupIdToken"] == {"idToken": FLEET, "type": "Central"}
    assert (await reservation(db_call)).parent_id_tag == FLEET


async def test_tc_h_20_a_reservation_the_station_removes_when_faulted_is_cancelled(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        await run("reserve", {"id_tag": CARD, "connector_id": 1, "expiry": in_an_hour()})
        held = await reservation(db_call)
        await cs.call(status_notification(1, 1, ConnectorStatusEnumType.faulted))
        await cs.call(
            call.ReservationStatusUpdate(
                reservation_id=held.pk, reservation_update_status="Removed"
            )
        )

    assert (await reservation(db_call)).status == ReservationStatus.CANCELLED
    assert await status_of(db_call, 1) == "Faulted"


async def test_tc_h_22_a_reservation_the_station_is_configured_to_reject_is_rejected(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        cs.answers["ReserveNow"] = "Rejected"
        log = await run("reserve", {"id_tag": CARD, "connector_id": 1, "expiry": in_an_hour()})

    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})
    assert (await reservation(db_call)).status == ReservationStatus.REJECTED


async def test_a_reservation_update_for_another_stations_reservation_changes_nothing(
    ocpp_server, station, other_org, db_call
):
    elsewhere = await db_call(
        ReservationFactory,
        station=await db_call(ChargingStationFactory, organization=other_org),
        status=ReservationStatus.ACTIVE,
    )
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        answer = await cs.call(
            call.ReservationStatusUpdate(
                reservation_id=elsewhere.pk, reservation_update_status="Removed"
            )
        )

    assert answer is not None
    fresh = await db_call(Reservation.objects.get, pk=elsewhere.pk)
    assert fresh.status == ReservationStatus.ACTIVE


@pytest.mark.django_db
def test_a_connector_type_reservation_is_refused_for_a_16_station(org):
    station = ChargingStationFactory(organization=org, connection_state=ConnectionState.ONLINE)
    group = AccessGroupFactory(organization=org)
    station.site.access_groups.add(group)
    IdTokenFactory(organization=org, uid=CARD, access_groups=[group])

    with pytest.raises(InvalidCommandParameters) as invalid:
        execute_command(
            station,
            "reserve",
            {"id_tag": CARD, "expiry": in_an_hour(), "connector_type": "CHADEMO"},
            actor=Actor(role=Role.OWNER),
        )

    assert invalid.value.errors == {
        "connector_type": ["Reserving by connector type is only for OCPP 2.0.1 stations."]
    }
    assert not Reservation.objects.exists()


# --- Data transfer (P01, P02) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "message", "answer"),
    [
        ("com.unknown", "ping", "UnknownVendorId"),
        ("com.acme", "teleport", "UnknownMessageId"),
    ],
)
async def test_tc_p_02_a_data_transfer_to_the_csms_it_does_not_know_is_answered_so(
    ocpp_server, station, db_call, vendor, message, answer
):
    def acme(station, message_id, data):
        raise vendor_registry.UnknownMessageId(message_id)

    with mock.patch.dict(vendor_registry._vendor_handlers, {"com.acme": acme}):
        async with connected_station201(ocpp_server, IDENTITY) as cs:
            reply = await cs.call(
                call.DataTransfer(vendor_id=vendor, message_id=message, data={"n": 1})
            )

    assert reply.status == answer
    kept = await db_call(StationDataTransfer.objects.get, station=station)
    assert (kept.vendor_id, kept.message_id, kept.data, kept.status) == (
        vendor,
        message,
        {"n": 1},
        answer,
    )


async def test_tc_p_03_custom_data_from_the_station_is_accepted(ocpp_server, station, db_call):
    custom = {"vendor_id": "com.acme", "mode": "eco"}
    async with connected_station201(ocpp_server, IDENTITY) as cs:
        beat = await cs.call(call.Heartbeat(custom_data=custom))
        await cs.call(
            call.StatusNotification(
                timestamp=now(),
                connector_status=ConnectorStatusEnumType.available,
                evse_id=2,
                connector_id=2,
                custom_data=custom,
            )
        )

    assert beat.current_time
    assert await status_of(db_call, 3) == "Available"


async def test_a_data_transfer_to_the_station_is_sent_and_kept_with_its_answer(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        log = await run(
            "data_transfer", {"vendor_id": "com.acme", "message_id": "ping", "data": "hello"}
        )

    assert cs.received == [
        ("DataTransfer", {"vendorId": "com.acme", "messageId": "ping", "data": "hello"})
    ]
    assert log.status == "accepted"
    assert log.response["customData"] == {"vendorId": "com.acme", "firmware": "2.4.1"}
    kept = await db_call(StationDataTransfer.objects.get, station=station)
    assert (kept.direction, kept.status, kept.response_data) == (
        DataTransferDirection.OUT,
        "Accepted",
        {"pong": True},
    )


# --- OCPP 2.1 ------------------------------------------------------------------------------------


async def test_a_21_station_is_reset_and_unlocked_as_a_201_one(ocpp_server, station):
    async with connected_station201(
        ocpp_server, IDENTITY, cls=ControlledStation, subprotocol="ocpp2.1"
    ) as cs:
        await run("restart_station", {"type": "Hard", "evse_id": 1})
        await run("unlock_cable", {"connector_id": 3})

    assert cs.received == [
        ("Reset", {"type": "Immediate", "evseId": 1}),
        ("UnlockConnector", {"evseId": 2, "connectorId": 2}),
    ]


# --- Commands only one version has ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_commands_version_reason_names_the_version_that_has_it(org):
    class OnlyIn201:
        """An intent only 2.0.1 spells (the test's own)."""

    def noop(ctx):
        raise AssertionError("never run")

    only_16 = CommandSpec(
        name="only_16", label="1.6", run=noop, intents=(intents.GetConfiguration,)
    )
    only_201 = CommandSpec(name="only_201", label="2.0.1", run=noop, intents=(OnlyIn201,))
    old, new = (
        ChargingStationFactory(
            organization=org, ocpp_version=version, connection_state=ConnectionState.ONLINE
        )
        for version in ("ocpp1.6", "ocpp2.0.1")
    )
    operator = client_as(org, Role.OPERATOR)
    with (
        mock.patch.dict(COMMANDS, {"only_16": only_16, "only_201": only_201}),
        mock.patch.dict(v201_calls._BUILDERS, {OnlyIn201: lambda intent, station: None}),
    ):
        listed = {
            station.ocpp_version: {
                item["command"]: (item["allowed"], item["reason"])
                for item in operator.get(f"/api/v1/stations/{station.pk}/commands/").data
            }
            for station in (old, new)
        }
        refused = operator.post(
            f"/api/v1/stations/{new.pk}/commands/", {"command": "only_16"}, format="json"
        )
        offline_old = check_command(
            ChargingStationFactory(organization=org), "only_201", Actor(role=Role.OWNER)
        )

    assert (listed["ocpp1.6"]["only_16"], listed["ocpp1.6"]["only_201"]) == (
        (True, None),
        (False, "Only for OCPP 2.0.1 stations."),
    )
    assert (listed["ocpp2.0.1"]["only_16"], listed["ocpp2.0.1"]["only_201"]) == (
        (False, "Only for OCPP 1.6 stations."),
        (True, None),
    )
    assert (refused.status_code, refused.data) == (409, {"detail": "Only for OCPP 1.6 stations."})
    # Going online would not lift it: the version is the reason, not the connection.
    assert offline_old.reason == "Only for OCPP 2.0.1 stations."
    assert not CommandLog.objects.exists()


@pytest.mark.django_db
def test_every_control_command_is_available_to_an_online_201_station(org):
    station = ChargingStationFactory(
        organization=org, ocpp_version="ocpp2.0.1", connection_state=ConnectionState.ONLINE
    )
    names = (
        "unlock_cable",
        "reserve",
        "clear_rfid_cache",
        "restart_station",
        "change_availability",
        "trigger_message",
        "send_local_list",
        "get_local_list_version",
        "data_transfer",
        "raw_call",
    )

    reasons = {name: check_command(station, name, Actor(role=Role.OWNER)).reason for name in names}

    assert reasons == dict.fromkeys(names)


# --- Raw call ---------------------------------------------------------------------------------


def commands_url(station) -> str:
    return f"/api/v1/stations/{station.pk}/commands/"


async def test_a_raw_call_goes_out_as_given_and_is_logged(ocpp_server, station, org, db_call):
    admin = await db_call(client_as, org, Role.ADMIN)
    payload = {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 1}}
    async with connected_station201(ocpp_server, IDENTITY, cls=ControlledStation) as cs:
        response = await in_thread(
            admin,
            "post",
            commands_url(station),
            {"command": "raw_call", "action": "ChangeAvailability", "payload": payload},
        )

    assert response.status_code == 200, response.data
    assert (response.data["command"], response.data["status"]) == ("raw_call", "accepted")
    assert cs.received == [("ChangeAvailability", payload)]
    log = await db_call(CommandLog.objects.get)
    assert (log.command, log.action, log.payload) == ("raw_call", "ChangeAvailability", payload)
    await message_log.flush()
    sent = await db_call(
        lambda: list(
            OcppMessage.objects.filter(
                ocpp_id=IDENTITY, direction="out", message_type=2
            ).values_list("action", "payload")
        )
    )
    assert sent == [("ChangeAvailability", payload)]


@pytest.fixture
def online201(org):
    return ChargingStationFactory(
        organization=org, ocpp_version="ocpp2.0.1", connection_state=ConnectionState.ONLINE
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"action": "BootNotification", "payload": {"reason": "PowerUp"}},
            {"action": ["BootNotification is sent by stations to the CSMS, not to stations."]},
        ),
        (
            {"action": "GetConfiguration", "payload": {}},
            {"action": ["GetConfiguration is not an action of ocpp2.0.1."]},
        ),
        (
            {"action": "Reset", "payload": {"type": "Soft"}},
            {
                "payload": [
                    'PropertyConstraintViolation: type: "Soft" is not one of "Immediate" '
                    'or "OnIdle"'
                ]
            },
        ),
    ],
)
def test_a_raw_call_the_station_could_not_take_is_a_400_naming_the_field(
    online201, org, body, errors
):
    admin = client_as(org, Role.ADMIN)

    response = admin.post(commands_url(online201), {"command": "raw_call"} | body, format="json")

    assert (response.status_code, response.data) == (400, errors)
    assert not CommandLog.objects.exists()


@pytest.mark.django_db
def test_a_raw_call_missing_a_required_field_names_the_occurrence_violation(online201, org):
    response = client_as(org, Role.ADMIN).post(
        commands_url(online201),
        {"command": "raw_call", "action": "UnlockConnector", "payload": {"evseId": 1}},
        format="json",
    )

    assert response.status_code == 400
    assert response.data["payload"][0].startswith("OccurrenceConstraintViolation")


@pytest.mark.django_db
def test_an_operator_may_not_send_a_raw_call(online201, org):
    response = client_as(org, Role.OPERATOR).post(
        commands_url(online201),
        {"command": "raw_call", "action": "ClearCache", "payload": {}},
        format="json",
    )

    assert response.status_code == 403
    assert not CommandLog.objects.exists()
    listed = {
        item["command"]: item
        for item in client_as(org, Role.OPERATOR).get(commands_url(online201)).data
    }
    assert (listed["raw_call"]["allowed"], listed["raw_call"]["reason"]) == (
        False,
        "Requires role Admin.",
    )
