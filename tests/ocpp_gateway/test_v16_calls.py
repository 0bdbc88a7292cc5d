"""OCPP 1.6 calls: each neutral intent becomes one action and payload; answers become outcomes."""

from datetime import UTC, datetime

import pytest

from ocpp_gateway import intents, validation, versions
from ocpp_gateway.intents import Call, LocalListOutcome
from ocpp_gateway.v16 import calls
from sessions_app.authorization import AuthorizationResult, offline_authorizations
from stations.models import ChargingProfile
from tests.factories import AccessGroupFactory, IdTokenFactory

EXPIRY = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
FROM = datetime(2026, 1, 1, tzinfo=UTC)
UNTIL = datetime(2026, 1, 2, tzinfo=UTC)
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
ACCEPTED = AuthorizationResult("Accepted")
BLOCKED = AuthorizationResult("Blocked")

CASES = [
    (intents.StartCharging("04C0FFEE01"), "RemoteStartTransaction", {"idTag": "04C0FFEE01"}),
    (
        # 1.6 has no remoteStartId: the id of the RemoteStart record stays at home.
        intents.StartCharging("04C0FFEE01", connector=1, profile=TX_PROFILE, remote_start_id=9),
        "RemoteStartTransaction",
        {"idTag": "04C0FFEE01", "connectorId": 1, "chargingProfile": TX_PROFILE},
    ),
    (intents.StopCharging("1234"), "RemoteStopTransaction", {"transactionId": 1234}),
    (intents.UnlockConnector(2), "UnlockConnector", {"connectorId": 2}),
    (
        intents.Reserve(5, "04C0FFEE01", EXPIRY),
        "ReserveNow",
        {
            "connectorId": 0,
            "expiryDate": "2030-01-01T12:00:00.123Z",
            "idTag": "04C0FFEE01",
            "reservationId": 5,
        },
    ),
    (
        intents.Reserve(5, "04C0FFEE01", EXPIRY, connector=2, parent_id_tag="FLEET-7"),
        "ReserveNow",
        {
            "connectorId": 2,
            "expiryDate": "2030-01-01T12:00:00.123Z",
            "idTag": "04C0FFEE01",
            "reservationId": 5,
            "parentIdTag": "FLEET-7",
        },
    ),
    (intents.CancelReservation(5), "CancelReservation", {"reservationId": 5}),
    (intents.ClearCache(), "ClearCache", {}),
    (intents.Reset(intents.ResetKind.SOFT), "Reset", {"type": "Soft"}),
    (intents.Reset(intents.ResetKind.HARD), "Reset", {"type": "Hard"}),
    (
        intents.ChangeAvailability(operative=False),
        "ChangeAvailability",
        {"connectorId": 0, "type": "Inoperative"},
    ),
    (
        intents.ChangeAvailability(operative=True, connector=2),
        "ChangeAvailability",
        {"connectorId": 2, "type": "Operative"},
    ),
    (intents.GetConfiguration(), "GetConfiguration", {}),
    (
        intents.GetConfiguration(("HeartbeatInterval", "MeterValueSampleInterval")),
        "GetConfiguration",
        {"key": ["HeartbeatInterval", "MeterValueSampleInterval"]},
    ),
    (
        intents.ChangeConfiguration("HeartbeatInterval", "300"),
        "ChangeConfiguration",
        {"key": "HeartbeatInterval", "value": "300"},
    ),
    (intents.TriggerMessage("Heartbeat"), "TriggerMessage", {"requestedMessage": "Heartbeat"}),
    (
        intents.TriggerMessage("StatusNotification", connector=1),
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "connectorId": 1},
    ),
    (
        intents.UpdateFirmware("https://files/fw.bin", FROM),
        "UpdateFirmware",
        {"location": "https://files/fw.bin", "retrieveDate": "2026-01-01T00:00:00.000Z"},
    ),
    (
        intents.UpdateFirmware("https://files/fw.bin", FROM, retries=3, retry_interval=60),
        "UpdateFirmware",
        {
            "location": "https://files/fw.bin",
            "retrieveDate": "2026-01-01T00:00:00.000Z",
            "retries": 3,
            "retryInterval": 60,
        },
    ),
    (intents.GetDiagnostics("ftp://logs/"), "GetDiagnostics", {"location": "ftp://logs/"}),
    (
        intents.GetDiagnostics("ftp://logs/", start=FROM, stop=UNTIL, retries=0, retry_interval=5),
        "GetDiagnostics",
        {
            "location": "ftp://logs/",
            "startTime": "2026-01-01T00:00:00.000Z",
            "stopTime": "2026-01-02T00:00:00.000Z",
            "retries": 0,
            "retryInterval": 5,
        },
    ),
    (intents.GetLocalListVersion(), "GetLocalListVersion", {}),
    (intents.ClearChargingProfile(), "ClearChargingProfile", {}),
    (
        intents.ClearChargingProfile(
            profile_id=3, connector=0, purpose="TxDefaultProfile", stack_level=1
        ),
        "ClearChargingProfile",
        {"id": 3, "connectorId": 0, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1},
    ),
    (
        intents.GetCompositeSchedule(600),
        "GetCompositeSchedule",
        {"connectorId": 0, "duration": 600},
    ),
    (
        intents.GetCompositeSchedule(600, connector=1, rate_unit="W"),
        "GetCompositeSchedule",
        {"connectorId": 1, "duration": 600, "chargingRateUnit": "W"},
    ),
    (intents.DataTransfer("com.example"), "DataTransfer", {"vendorId": "com.example"}),
    (
        intents.DataTransfer("com.example", message_id="", data=""),
        "DataTransfer",
        {"vendorId": "com.example", "data": ""},
    ),
    (
        intents.DataTransfer("com.example", message_id="Ping", data="{}"),
        "DataTransfer",
        {"vendorId": "com.example", "messageId": "Ping", "data": "{}"},
    ),
]


@pytest.mark.parametrize(("intent", "action", "payload"), CASES)
def test_an_intent_becomes_its_16_call_exactly_and_within_the_schema(intent, action, payload):
    call = calls.build(intent)

    assert call == Call(action, payload)
    # Byte for byte: the keys go out in the order stations have always seen.
    assert list(call.payload) == list(payload)
    validation.validate("ocpp1.6", call.action, call.payload)


def test_every_intent_has_a_16_call_tested_here():
    spelled = {type(intent) for intent, _action, _payload in CASES} | {
        intents.SendLocalList,
        intents.SetChargingProfile,
    }
    neutral = {
        value
        for value in vars(intents).values()
        if isinstance(value, type)
        and value.__module__ == intents.__name__
        and hasattr(value, "__dataclass_fields__")
        and value is not intents.DataTransferAnswer
        and calls.supports(value)
    }

    assert neutral == spelled


def test_a_charging_profile_goes_with_its_id_and_its_transaction(org):
    profile = ChargingProfile(
        pk=4,
        organization=org,
        name="Boost",
        purpose="TxProfile",
        kind="Relative",
        charging_rate_unit="A",
        schedule_periods=[{"start_period": 0, "limit": 16}],
    )

    call = calls.build(intents.SetChargingProfile(profile, connector=1, transaction_id="77"))

    assert call == Call(
        "SetChargingProfile",
        {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 4,
                "transactionId": 77,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                },
            },
        },
    )
    validation.validate("ocpp1.6", *call)


def test_a_station_wide_charging_profile_goes_to_connector_0(org):
    profile = ChargingProfile(
        pk=5, organization=org, name="Cap", purpose="ChargePointMaxProfile", kind="Absolute"
    )

    assert calls.build(intents.SetChargingProfile(profile)).payload["connectorId"] == 0


# --- local lists ------------------------------------------------------------------------------


def test_a_full_list_sends_every_entry_with_the_version_after_the_held_one():
    update = calls.local_list_update(
        intents.SendLocalList(
            full=True,
            authorizations={"04000001": BLOCKED, "04000002": ACCEPTED},
            held_version=4,
            held_entries={"04000001": {"status": "Blocked"}},
        )
    )

    assert update.call == Call(
        "SendLocalList",
        {
            "listVersion": 5,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idTag": "04000001", "idTagInfo": {"status": "Blocked"}},
                {"idTag": "04000002", "idTagInfo": {"status": "Accepted"}},
            ],
        },
    )
    assert (update.version, update.entries) == (
        5,
        {"04000001": {"status": "Blocked"}, "04000002": {"status": "Accepted"}},
    )
    validation.validate("ocpp1.6", *update.call)


def test_a_full_list_of_a_station_without_cards_empties_its_list():
    update = calls.local_list_update(intents.SendLocalList(full=True, authorizations={}))

    assert update.call.payload == {
        "listVersion": 1,
        "updateType": "Full",
        "localAuthorizationList": [],
    }


def test_a_differential_list_sends_additions_changes_and_removals_only():
    intent = intents.SendLocalList(
        full=False,
        authorizations={"04000001": ACCEPTED, "04000002": BLOCKED, "04000004": ACCEPTED},
        held_version=2,
        held_entries={
            "04000001": {"status": "Accepted"},
            "04000002": {"status": "Accepted"},
            "04000003": {"status": "Accepted"},
        },
    )

    update = calls.local_list_update(intent)

    assert update.call.payload == {
        "listVersion": 3,
        "updateType": "Differential",
        "localAuthorizationList": [
            {"idTag": "04000002", "idTagInfo": {"status": "Blocked"}},
            {"idTag": "04000003"},
            {"idTag": "04000004", "idTagInfo": {"status": "Accepted"}},
        ],
    }
    assert set(update.entries) == {"04000001", "04000002", "04000004"}
    assert calls.build(intent) == update.call


@pytest.mark.django_db
def test_a_full_list_of_a_station_holds_the_cards_its_groups_admit(org, station):
    group = AccessGroupFactory(organization=org, name="Station drivers")
    station.access_groups.add(group)
    IdTokenFactory(organization=org, uid="04000002", access_groups=[group])
    IdTokenFactory(organization=org, uid="04000001", access_groups=[group], status="Blocked")
    station.local_list_version = 4

    update = calls.local_list_update(
        intents.SendLocalList(
            full=True,
            authorizations=offline_authorizations(station),
            held_version=station.local_list_version,
        )
    )

    assert update.call.payload["listVersion"] == 5
    assert update.call.payload["localAuthorizationList"] == [
        {"idTag": "04000001", "idTagInfo": {"status": "Blocked"}},
        {"idTag": "04000002", "idTagInfo": {"status": "Accepted"}},
    ]


# --- the station's answers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "status"),
    [
        ({}, "accepted"),
        ({"status": "Accepted"}, "accepted"),
        ({"status": "Unlocked"}, "accepted"),
        ({"status": "Scheduled"}, "accepted"),
        ({"status": "RebootRequired"}, "accepted"),
        ({"status": "Rejected"}, "rejected"),
        ({"status": "Occupied"}, "rejected"),
        ({"status": "UnlockFailed"}, "rejected"),
        ({"status": "NotSupported"}, "rejected"),
    ],
)
def test_an_answer_is_accepted_or_rejected_by_its_status(response, status):
    assert calls.command_status(response) == status


@pytest.mark.parametrize(
    ("response", "outcome"),
    [
        (None, LocalListOutcome.NO_ANSWER),
        ({"status": "Accepted"}, LocalListOutcome.ACCEPTED),
        ({"status": "VersionMismatch"}, LocalListOutcome.VERSION_MISMATCH),
        ({"status": "Failed"}, LocalListOutcome.FAILED),
        ({"status": "NotSupported"}, LocalListOutcome.NOT_SUPPORTED),
        ({}, LocalListOutcome.FAILED),
    ],
)
def test_a_local_list_answer_becomes_its_outcome(response, outcome):
    assert calls.local_list_outcome(response) == outcome


@pytest.mark.parametrize(
    ("response", "answer"),
    [
        (None, ("", None)),
        ({"status": "Accepted"}, ("Accepted", None)),
        ({"status": "Accepted", "data": "pong"}, ("Accepted", "pong")),
        ({"status": "UnknownVendorId"}, ("UnknownVendorId", None)),
    ],
)
def test_a_data_transfer_answer_keeps_the_stations_status_and_data(response, answer):
    reply = calls.data_transfer_answer(response)

    assert (reply.status, reply.data) == answer


# --- the versions table -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "spoken"),
    [
        (["ocpp1.6"], "ocpp1.6"),
        (["ocpp1.5", "ocpp1.6"], "ocpp1.6"),
        (["ocpp2.0.1", "ocpp1.6"], "ocpp2.0.1"),
        (["ocpp1.6", "ocpp2.0.1", "ocpp2.1"], "ocpp2.1"),
        (["ocpp2.0"], None),
        (["ocpp1.5"], None),
        ([], None),
    ],
)
def test_the_newest_offered_version_the_gateway_speaks_is_negotiated(offered, spoken):
    version = versions.negotiate(offered)

    assert (version.subprotocol if version else None) == spoken


def test_the_table_lists_each_version_with_its_modules_newest_first():
    assert [version.subprotocol for version in versions.VERSIONS] == [
        "ocpp2.1",
        "ocpp2.0.1",
        "ocpp1.6",
    ]
    v16 = versions.get("ocpp1.6")
    assert (v16.calls, v16.formats) == (calls, calls.formats)
    assert "BootNotification" in v16.handlers
    assert "TransactionEvent" not in v16.handlers
    v201 = versions.get("ocpp2.0.1")
    assert v201.calls is not calls and "BootNotification" in v201.handlers
    # 2.1 answers through 2.0.1's handlers, plus what it adds that the platform models.
    v21 = versions.get("ocpp2.1").handlers
    assert set(v21) - set(v201.handlers) == {"NotifySettlement"}
    assert all(v21[action] is handler for action, handler in v201.handlers.items())


@pytest.mark.parametrize(
    ("stored", "spoken"),
    [("ocpp1.6", "ocpp1.6"), ("", "ocpp1.6"), ("ocpp2.0.1", "ocpp2.0.1"), ("ocpp2.1", "ocpp2.1")],
)
def test_a_station_is_spoken_to_in_the_version_it_last_connected_with(stored, spoken):
    station = type("Station", (), {"ocpp_version": stored})()

    assert versions.for_station(station).subprotocol == spoken


def test_a_version_the_gateway_does_not_speak_is_refused():
    station = type("Station", (), {"ocpp_version": "ocpp3.0"})()

    with pytest.raises(versions.UnsupportedVersion, match=r"ocpp3\.0"):
        versions.for_station(station)
    with pytest.raises(ValueError):
        versions.handlers_for("ocpp3.0")


@pytest.mark.parametrize(
    "intent",
    [
        intents.Reset(intents.ResetKind.SOFT, evse=1),
        intents.ChangeAvailability(operative=False, evse=1),
        intents.Reserve(
            reservation_id=1,
            id_tag="04AA",
            expires_at=datetime(2030, 1, 1, tzinfo=UTC),
            connector_type="cType2",
        ),
    ],
)
def test_what_only_201_can_address_is_refused_not_widened(intent):
    with pytest.raises(intents.NotInVersion, match=r"ocpp1\.6"):
        calls.build(intent)
