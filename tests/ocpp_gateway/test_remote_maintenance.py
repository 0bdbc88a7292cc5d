"""Maintenance commands, run through the registry to a real 1.6 station over a real socket."""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, ChargePointErrorCode, ChargePointStatus

from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import (
    Actor,
    CommandNotAllowed,
    InvalidCommandParameters,
    available_commands,
    execute_command,
)
from ocpp_gateway.remote.registry import COMMANDS
from organizations.choices import Role
from sessions_app.models import ChargingSession
from stations.choices import ConnectionState
from stations.models import ChargingProfile, ChargingStation, Connector, StationDataTransfer
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    UserFactory,
)
from tests.ocpp_gateway.conftest import Station, connected_station

IDENTITY = "CS-MAINT"
CARD, OTHER_CARD, BLOCKED_CARD = "04A1B2C3D4", "04A1B2C3D5", "04BBBBBB01"
FIRMWARE_URL = "https://firmware.example.com/wallbox-2.0.0.bin"
UPLOAD_URL = "ftp://diagnostics.example.com/uploads/"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def ts(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


class MaintainedStation(Station):
    """A 1.6 station that records every CSMS call and answers as `answers` says."""

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

    @on(Action.clear_cache)
    def on_clear_cache(self, **_):
        return call_result.ClearCache(status=self.status("ClearCache"))

    @on(Action.reset)
    def on_reset(self, **_):
        return call_result.Reset(status=self.status("Reset"))

    @on(Action.change_availability)
    def on_change_availability(self, **_):
        return call_result.ChangeAvailability(status=self.status("ChangeAvailability"))

    @on(Action.get_configuration)
    def on_get_configuration(self, key=None, **_):
        keys = key or ["HeartbeatInterval"]
        return call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": False, "value": "300"} for k in keys]
        )

    @on(Action.change_configuration)
    def on_change_configuration(self, **_):
        return call_result.ChangeConfiguration(status=self.status("ChangeConfiguration"))

    @on(Action.trigger_message)
    def on_trigger_message(self, **_):
        return call_result.TriggerMessage(status=self.status("TriggerMessage"))

    @on(Action.update_firmware)
    def on_update_firmware(self, **_):
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, **_):
        return call_result.GetDiagnostics(file_name=self.answers.get("GetDiagnostics"))

    @on(Action.send_local_list)
    def on_send_local_list(self, **_):
        return call_result.SendLocalList(status=self.status("SendLocalList"))

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_):
        return call_result.GetLocalListVersion(list_version=self.answers["GetLocalListVersion"])

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, **_):
        return call_result.SetChargingProfile(status=self.status("SetChargingProfile"))

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **_):
        return call_result.ClearChargingProfile(status=self.status("ClearChargingProfile"))

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id, **_):
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start="2026-03-01T08:00:00.000Z",
            charging_schedule={
                "duration": 3600,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 11000.0},
                    {"startPeriod": 1800, "limit": 7400.0},
                ],
            },
        )

    @on(Action.data_transfer)
    def on_data_transfer(self, **_):
        return call_result.DataTransfer(status=self.status("DataTransfer"), data="pong")


@pytest.fixture
async def setup(db_call, org):
    """A station of `org` whose site admits a group of drivers, and an admin of `org`."""

    def build():
        station = ChargingStationFactory(organization=org, ocpp_id=IDENTITY)
        group = AccessGroupFactory(organization=org, name="Drivers")
        station.site.access_groups.add(group)
        IdTokenFactory(organization=org, uid=CARD, access_groups=[group])
        IdTokenFactory(organization=org, uid=BLOCKED_CARD, access_groups=[group], status="Blocked")
        return station, group

    return await db_call(build)


@pytest.fixture
async def user(db_call, setup):
    return await db_call(UserFactory, username="operator")


# Maintenance commands ask for up to the admin role: the owner may run them all.
OWNER = Actor(role=Role.OWNER)


async def run(name: str, params: dict | None = None, *, user=None):
    """Run a command as a view would: a fresh station row, in a thread of its own."""

    def in_a_view():
        try:
            station = ChargingStation.objects.get(ocpp_id=IDENTITY)
            return execute_command(station, name, params, actor=Actor(user=user, role=Role.OWNER))
        finally:
            connections.close_all()

    return await sync_to_async(in_a_view, thread_sensitive=False)()


async def stored_station(db_call) -> ChargingStation:
    return await db_call(ChargingStation.objects.get, ocpp_id=IDENTITY)


async def make_profile(db_call, org, **fields) -> ChargingProfile:
    values = {
        "organization": org,
        "name": "Night",
        "purpose": "TxDefaultProfile",
        "kind": "Absolute",
        "stack_level": 1,
        "charging_rate_unit": "A",
        "start_schedule": T0,
        "schedule_periods": [
            {"start_period": 0, "limit": 16, "number_phases": 3},
            {"start_period": 3600, "limit": 8.5},
        ],
    } | fields
    return await db_call(ChargingProfile.objects.create, **values)


# --- Clear cache, reset, availability, configuration ----------------------------------------


async def test_tc_061_clear_rfid_cache_sends_clear_cache_and_logs_who_asked(
    ocpp_server, setup, user, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("clear_rfid_cache", user=user)

    assert cp.received == [("ClearCache", {})]
    stored = await db_call(CommandLog.objects.get, pk=log.pk)
    assert (stored.command, stored.action, stored.status, stored.response) == (
        "clear_rfid_cache",
        "ClearCache",
        "accepted",
        {"status": "Accepted"},
    )
    assert stored.requested_by_id == user.pk


async def test_a_rejected_clear_cache_is_logged_as_rejected(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["ClearCache"] = "Rejected"
        log = await run("clear_rfid_cache")

    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})


async def test_tc_013_hard_reset_is_sent_and_the_station_boots_again(ocpp_server, setup, db_call):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("restart_station", {"type": "Hard"})
        boot = await cp.call(
            call.BootNotification(charge_point_vendor="ACME", charge_point_model="Wallbox X")
        )
        await cp.call(
            call.StatusNotification(
                connector_id=0,
                error_code=ChargePointErrorCode.no_error,
                status=ChargePointStatus.available,
            )
        )

    assert cp.received == [("Reset", {"type": "Hard"})]
    assert (log.command, log.status) == ("restart_station", "accepted")
    assert boot.status == "Accepted"
    stored = await stored_station(db_call)
    assert stored.last_boot is not None
    assert stored.status == "Available"


async def test_tc_014_a_restart_is_soft_unless_asked_otherwise(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("restart_station")

    assert cp.received == [("Reset", {"type": "Soft"})]
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})


async def test_a_rejected_reset_is_logged_as_rejected(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["Reset"] = "Rejected"
        log = await run("restart_station", {"type": "Hard"})

    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})


async def test_change_availability_without_a_connector_is_for_the_whole_station(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("change_availability", {"type": "Inoperative"})

    assert cp.received == [("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})]
    assert log.status == "accepted"


async def test_change_availability_of_a_charging_connector_is_scheduled_and_counts_as_accepted(
    ocpp_server, setup, db_call
):
    station, _ = setup
    await db_call(ChargingSessionFactory, station=station)
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["ChangeAvailability"] = "Scheduled"
        log = await run("change_availability", {"connector_id": 1, "type": "Inoperative"})

    assert cp.received == [("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})]
    assert (log.status, log.response) == ("accepted", {"status": "Scheduled"})


async def test_get_configuration_asks_for_the_keys_given(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("get_configuration", {"keys": ["HeartbeatInterval", "ConnectionTimeOut"]})

    assert cp.received == [
        ("GetConfiguration", {"key": ["HeartbeatInterval", "ConnectionTimeOut"]})
    ]
    assert [k["key"] for k in log.response["configurationKey"]] == [
        "HeartbeatInterval",
        "ConnectionTimeOut",
    ]


async def test_get_configuration_without_keys_asks_for_all_of_them(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("get_configuration")

    assert cp.received == [("GetConfiguration", {})]
    assert log.status == "accepted"


async def test_change_configuration_sends_the_key_and_the_value_as_given(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["ChangeConfiguration"] = "RebootRequired"
        log = await run("change_configuration", {"key": "MeterValuesSampledData", "value": " "})

    assert cp.received == [("ChangeConfiguration", {"key": "MeterValuesSampledData", "value": " "})]
    assert (log.status, log.response) == ("accepted", {"status": "RebootRequired"})


# --- Trigger message ----------------------------------------------------------------------------


async def test_tc_054_a_triggered_status_notification_is_sent_and_stored(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run(
            "trigger_message", {"requested_message": "StatusNotification", "connector_id": 1}
        )
        await cp.call(
            call.StatusNotification(
                connector_id=1,
                error_code=ChargePointErrorCode.no_error,
                status=ChargePointStatus.unavailable,
            )
        )

    assert cp.received == [
        ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1})
    ]
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})
    connector = await db_call(Connector.objects.get, station__ocpp_id=IDENTITY, connector_id=1)
    assert connector.status == "Unavailable"


async def test_tc_054_a_triggered_heartbeat_concerns_no_connector(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("trigger_message", {"requested_message": "Heartbeat"})
        heartbeat = await cp.call(call.Heartbeat())

    assert cp.received == [("TriggerMessage", {"requestedMessage": "Heartbeat"})]
    assert log.status == "accepted"
    assert heartbeat.current_time


async def test_tc_055_a_rejected_trigger_message_is_logged_as_rejected(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["TriggerMessage"] = "Rejected"
        log = await run("trigger_message", {"requested_message": "MeterValues", "connector_id": 2})

    assert cp.received == [
        ("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 2})
    ]
    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})


# --- Firmware and diagnostics -------------------------------------------------------------------


async def firmware_status(cp, db_call, status: str) -> str:
    """Let the station report a firmware status; return what the CSMS stored."""
    await cp.call(call.FirmwareStatusNotification(status=status))
    return (await stored_station(db_call)).firmware_status


async def diagnostics_status(cp, db_call, status: str) -> str:
    """Let the station report a diagnostics status; return what the CSMS stored."""
    await cp.call(call.DiagnosticsStatusNotification(status=status))
    return (await stored_station(db_call)).diagnostics_status


async def test_tc_044_1_a_firmware_update_is_downloaded_installed_and_booted(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run(
            "update_firmware",
            {
                "location": FIRMWARE_URL,
                "retrieve_date": "2026-03-01T08:00:00Z",
                "retries": 3,
                "retry_interval": 60,
            },
        )
        assert await firmware_status(cp, db_call, "Downloading") == "Downloading"
        assert await firmware_status(cp, db_call, "Downloaded") == "Downloaded"
        assert await firmware_status(cp, db_call, "Installing") == "Installing"
        await cp.call(
            call.BootNotification(
                charge_point_vendor="ACME", charge_point_model="Wallbox X", firmware_version="2.0.0"
            )
        )
        assert await firmware_status(cp, db_call, "Installed") == "Installed"

    assert cp.received == [
        (
            "UpdateFirmware",
            {
                "location": FIRMWARE_URL,
                "retrieveDate": "2026-03-01T08:00:00.000Z",
                "retries": 3,
                "retryInterval": 60,
            },
        )
    ]
    assert (log.command, log.status, log.response) == ("update_firmware", "accepted", {})
    stored = await stored_station(db_call)
    assert stored.firmware_version == "2.0.0"
    assert stored.firmware_status_at is not None


async def test_tc_044_2_a_failed_firmware_download_is_stored(ocpp_server, setup, db_call):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("update_firmware", {"location": FIRMWARE_URL})
        assert await firmware_status(cp, db_call, "Downloading") == "Downloading"
        assert await firmware_status(cp, db_call, "DownloadFailed") == "DownloadFailed"

    assert log.status == "accepted"


async def test_tc_044_3_a_failed_firmware_installation_is_stored(ocpp_server, setup, db_call):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("update_firmware", {"location": FIRMWARE_URL})
        assert await firmware_status(cp, db_call, "Downloading") == "Downloading"
        assert await firmware_status(cp, db_call, "Downloaded") == "Downloaded"
        assert await firmware_status(cp, db_call, "Installing") == "Installing"
        assert await firmware_status(cp, db_call, "InstallationFailed") == "InstallationFailed"

    assert log.status == "accepted"


async def test_a_firmware_update_is_retrieved_now_unless_a_date_is_given(ocpp_server, setup):
    before = datetime.now(UTC).replace(microsecond=0)
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        await run("update_firmware", {"location": FIRMWARE_URL})
    after = datetime.now(UTC) + timedelta(seconds=1)

    ((action, payload),) = cp.received
    assert (action, set(payload)) == ("UpdateFirmware", {"location", "retrieveDate"})
    retrieve = datetime.fromisoformat(payload["retrieveDate"].replace("Z", "+00:00"))
    assert before <= retrieve <= after


async def test_tc_045_1_diagnostics_are_requested_uploaded_and_the_status_stored(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["GetDiagnostics"] = "diagnostics-CS-MAINT.zip"
        log = await run(
            "get_diagnostics",
            {
                "location": UPLOAD_URL,
                "start_time": "2026-02-28T00:00:00Z",
                "stop_time": "2026-03-01T00:00:00Z",
                "retries": 2,
                "retry_interval": 30,
            },
        )
        assert await diagnostics_status(cp, db_call, "Uploading") == "Uploading"
        assert await diagnostics_status(cp, db_call, "Uploaded") == "Uploaded"

    assert cp.received == [
        (
            "GetDiagnostics",
            {
                "location": UPLOAD_URL,
                "startTime": "2026-02-28T00:00:00.000Z",
                "stopTime": "2026-03-01T00:00:00.000Z",
                "retries": 2,
                "retryInterval": 30,
            },
        )
    ]
    assert (log.status, log.response) == ("accepted", {"fileName": "diagnostics-CS-MAINT.zip"})


async def test_tc_045_2_a_failed_diagnostics_upload_is_stored(ocpp_server, setup, db_call):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("get_diagnostics", {"location": UPLOAD_URL})
        assert await diagnostics_status(cp, db_call, "Uploading") == "Uploading"
        assert await diagnostics_status(cp, db_call, "UploadFailed") == "UploadFailed"

    assert cp.received == [("GetDiagnostics", {"location": UPLOAD_URL})]
    assert (log.status, log.response) == ("accepted", {})


async def test_locations_on_a_depot_host_without_a_dot_reach_the_station(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        firmware = await run("update_firmware", {"location": "http://app:9/firmware/2.0.bin"})
        diagnostics = await run("get_diagnostics", {"location": "ftp://files/uploads/"})

    assert [(action, payload["location"]) for action, payload in cp.received] == [
        ("UpdateFirmware", "http://app:9/firmware/2.0.bin"),
        ("GetDiagnostics", "ftp://files/uploads/"),
    ]
    assert (firmware.status, diagnostics.status) == ("accepted", "accepted")


# --- Local authorization list -------------------------------------------------------------------


async def test_tc_042_1_a_station_without_local_list_answers_version_minus_one(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["GetLocalListVersion"] = -1
        log = await run("get_local_list_version")

    assert cp.received == [("GetLocalListVersion", {})]
    assert (log.status, log.response) == ("accepted", {"listVersion": -1})


async def test_tc_042_2_a_station_with_an_empty_local_list_answers_version_zero(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["GetLocalListVersion"] = 0
        log = await run("get_local_list_version")

    assert (log.status, log.response) == ("accepted", {"listVersion": 0})


FULL_LIST = [
    {"idTag": CARD, "idTagInfo": {"status": "Accepted"}},
    {"idTag": BLOCKED_CARD, "idTagInfo": {"status": "Blocked"}},
]
FULL_SNAPSHOT = {CARD: {"status": "Accepted"}, BLOCKED_CARD: {"status": "Blocked"}}


async def test_tc_043_4_a_full_list_is_sent_and_kept_once_accepted(ocpp_server, setup, db_call):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("send_local_list", {"update_type": "Full"})

    assert cp.received == [
        (
            "SendLocalList",
            {"listVersion": 1, "updateType": "Full", "localAuthorizationList": FULL_LIST},
        )
    ]
    assert (log.command, log.status, log.response) == (
        "send_local_list",
        "accepted",
        {"status": "Accepted"},
    )
    stored = await stored_station(db_call)
    assert (stored.local_list_version, stored.local_list_snapshot) == (1, FULL_SNAPSHOT)


async def test_tc_043_5_a_differential_list_sends_only_the_changes_and_is_kept_once_accepted(
    ocpp_server, setup, db_call, org
):
    _, group = setup
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        await run("send_local_list")

        def change_cards():
            from cards.models import IdToken

            IdToken.objects.filter(uid=CARD).update(status="Blocked")
            IdToken.objects.get(uid=BLOCKED_CARD).access_groups.clear()
            IdTokenFactory(organization=org, uid=OTHER_CARD, access_groups=[group])

        await db_call(change_cards)
        log = await run("send_local_list", {"update_type": "Differential"})

    assert cp.received[1] == (
        "SendLocalList",
        {
            "listVersion": 2,
            "updateType": "Differential",
            "localAuthorizationList": [
                {"idTag": CARD, "idTagInfo": {"status": "Blocked"}},
                {"idTag": OTHER_CARD, "idTagInfo": {"status": "Accepted"}},
                {"idTag": BLOCKED_CARD},
            ],
        },
    )
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})
    stored = await stored_station(db_call)
    assert (stored.local_list_version, stored.local_list_snapshot) == (
        2,
        {CARD: {"status": "Blocked"}, OTHER_CARD: {"status": "Accepted"}},
    )


async def test_tc_043_1_a_station_without_local_list_support_leaves_the_stored_list_alone(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["SendLocalList"] = "NotSupported"
        log = await run("send_local_list")

    assert cp.received[0][1]["listVersion"] == 1
    assert (log.status, log.response) == ("rejected", {"status": "NotSupported"})
    stored = await stored_station(db_call)
    assert (stored.local_list_version, stored.local_list_snapshot) == (0, {})


async def test_tc_043_3_a_failed_list_leaves_the_last_accepted_one_stored(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        await run("send_local_list")
        await db_call(lambda: ChargingStation.objects.get(ocpp_id=IDENTITY).access_groups.clear())
        cp.answers["SendLocalList"] = "Failed"
        log = await run("send_local_list", {"update_type": "Differential"})

    assert cp.received[1][1]["listVersion"] == 2
    assert (log.status, log.response) == ("rejected", {"status": "Failed"})
    stored = await stored_station(db_call)
    assert (stored.local_list_version, stored.local_list_snapshot) == (1, FULL_SNAPSHOT)


async def test_a_version_mismatch_is_logged_with_the_advice_to_send_a_full_list(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["SendLocalList"] = "VersionMismatch"
        log = await run("send_local_list", {"update_type": "Differential"})

    assert (log.status, log.response) == ("rejected", {"status": "VersionMismatch"})
    stored = await db_call(CommandLog.objects.get, pk=log.pk)
    assert "send a Full list" in stored.error_description
    assert (await stored_station(db_call)).local_list_version == 0


async def test_after_a_version_mismatch_only_a_full_list_may_be_sent_until_one_is_accepted(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["SendLocalList"] = "VersionMismatch"
        await run("send_local_list", {"update_type": "Differential"})
        with pytest.raises(CommandNotAllowed, match="send a Full list first"):
            await run("send_local_list", {"update_type": "Differential"})
        cp.answers["SendLocalList"] = "Accepted"
        full = await run("send_local_list", {"update_type": "Full"})
        differential = await run("send_local_list", {"update_type": "Differential"})

    assert [payload["updateType"] for _, payload in cp.received] == [
        "Differential",
        "Full",
        "Differential",
    ]
    assert (full.status, differential.status) == ("accepted", "accepted")
    assert (await stored_station(db_call)).local_list_version == 2


# --- Smart charging -----------------------------------------------------------------------------


async def test_tc_056_a_tx_default_profile_is_set_on_the_whole_station(
    ocpp_server, setup, db_call, org
):
    night = await make_profile(db_call, org)
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("set_charging_profile", {"profile": night.pk})

    assert cp.received == [
        (
            "SetChargingProfile",
            {
                "connectorId": 0,
                "csChargingProfiles": {
                    "chargingProfileId": night.pk,
                    "stackLevel": 1,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                            {"startPeriod": 3600, "limit": 8.5},
                        ],
                        "startSchedule": "2026-03-01T08:00:00.000Z",
                    },
                },
            },
        )
    ]
    assert (log.command, log.status, log.response) == (
        "set_charging_profile",
        "accepted",
        {"status": "Accepted"},
    )


async def test_tc_056_a_rejected_profile_is_logged_as_rejected(ocpp_server, setup, db_call, org):
    night = await make_profile(db_call, org)
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["SetChargingProfile"] = "Rejected"
        log = await run("set_charging_profile", {"profile": night.pk, "connector_id": 2})

    assert cp.received[0][1]["connectorId"] == 2
    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})


async def test_tc_057_a_tx_profile_is_set_for_the_running_transaction(
    ocpp_server, setup, db_call, org
):
    boost = await make_profile(
        db_call,
        org,
        name="Boost",
        purpose="TxProfile",
        kind="Relative",
        start_schedule=None,
        charging_rate_unit="W",
        schedule_periods=[{"start_period": 0, "limit": 7400}],
    )
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        started = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=CARD, meter_start=0, timestamp=ts())
        )
        log = await run("set_charging_profile", {"profile": boost.pk, "connector_id": 1})

    session = await db_call(ChargingSession.objects.get, transaction_id=str(started.transaction_id))
    assert (await db_call(CommandLog.objects.get, pk=log.pk)).session_id == session.pk
    assert cp.received == [
        (
            "SetChargingProfile",
            {
                "connectorId": 1,
                "csChargingProfiles": {
                    "chargingProfileId": boost.pk,
                    "transactionId": started.transaction_id,
                    "stackLevel": 1,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Relative",
                    "chargingSchedule": {
                        "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}],
                    },
                },
            },
        )
    ]
    assert log.status == "accepted"


async def test_tc_066_get_composite_schedule_returns_the_station_schedule(ocpp_server, setup):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run(
            "get_composite_schedule",
            {"connector_id": 1, "duration": 3600, "charging_rate_unit": "W"},
        )

    assert cp.received == [
        ("GetCompositeSchedule", {"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"})
    ]
    assert log.status == "accepted"
    assert log.response["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 11000.0},
        {"startPeriod": 1800, "limit": 7400.0},
    ]


async def test_tc_066_get_composite_schedule_of_the_whole_station_uses_connector_0(
    ocpp_server, setup
):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        await run("get_composite_schedule", {"duration": 600})

    assert cp.received == [("GetCompositeSchedule", {"connectorId": 0, "duration": 600})]


async def test_tc_067_clear_charging_profile_by_its_id(ocpp_server, setup, db_call, org):
    night = await make_profile(db_call, org)
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run("clear_charging_profile", {"profile": night.pk})

    assert cp.received == [("ClearChargingProfile", {"id": night.pk})]
    assert (log.command, log.status, log.response) == (
        "clear_charging_profile",
        "accepted",
        {"status": "Accepted"},
    )


async def test_tc_067_clear_charging_profiles_by_criteria_keeps_connector_0_apart_from_all(
    ocpp_server, setup
):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["ClearChargingProfile"] = "Unknown"
        by_criteria = await run(
            "clear_charging_profile",
            {"connector_id": 0, "purpose": "TxDefaultProfile", "stack_level": 1},
        )
        everything = await run("clear_charging_profile")

    assert cp.received == [
        (
            "ClearChargingProfile",
            {"connectorId": 0, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1},
        ),
        ("ClearChargingProfile", {}),
    ]
    assert (by_criteria.status, everything.response) == ("rejected", {"status": "Unknown"})


# --- Data transfer ------------------------------------------------------------------------------


async def test_a_data_transfer_is_sent_and_kept_as_an_outgoing_message(ocpp_server, setup, db_call):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        log = await run(
            "data_transfer", {"vendor_id": "com.acme", "message_id": "ping", "data": "{}"}
        )

    assert cp.received == [
        ("DataTransfer", {"vendorId": "com.acme", "messageId": "ping", "data": "{}"})
    ]
    assert (log.status, log.response) == ("accepted", {"status": "Accepted", "data": "pong"})
    kept = await db_call(lambda: list(StationDataTransfer.objects.values()))
    assert len(kept) == 1
    assert {k: kept[0][k] for k in ("direction", "vendor_id", "message_id", "data")} == {
        "direction": "out",
        "vendor_id": "com.acme",
        "message_id": "ping",
        "data": "{}",
    }
    assert (kept[0]["status"], kept[0]["response_data"]) == ("Accepted", "pong")


async def test_a_data_transfer_the_station_does_not_know_is_kept_with_its_answer(
    ocpp_server, setup, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=MaintainedStation) as cp:
        cp.answers["DataTransfer"] = "UnknownVendorId"
        log = await run("data_transfer", {"vendor_id": "org.other"})

    assert cp.received == [("DataTransfer", {"vendorId": "org.other"})]
    assert log.status == "rejected"
    kept = await db_call(StationDataTransfer.objects.get)
    assert (kept.direction, kept.status, kept.message_id, kept.data) == (
        "out",
        "UnknownVendorId",
        "",
        None,
    )


# --- Availability, roles and parameters (no socket) ---------------------------------------------

MAINTENANCE_COMMANDS = {
    "clear_rfid_cache": Role.OPERATOR,
    "restart_station": Role.OPERATOR,
    "change_availability": Role.OPERATOR,
    "get_configuration": Role.OPERATOR,
    "change_configuration": Role.ADMIN,
    "trigger_message": Role.OPERATOR,
    "update_firmware": Role.ADMIN,
    "get_diagnostics": Role.ADMIN,
    "send_local_list": Role.OPERATOR,
    "get_local_list_version": Role.OPERATOR,
    "set_charging_profile": Role.ADMIN,
    "clear_charging_profile": Role.ADMIN,
    "get_composite_schedule": Role.OPERATOR,
    "data_transfer": Role.ADMIN,
}


def valid_params(name: str, org) -> dict:
    """Parameters each command accepts, so only the station's state can stop it."""
    if name in ("set_charging_profile", "clear_charging_profile"):
        night = ChargingProfile.objects.create(
            organization=org, name="Night", schedule_periods=[{"start_period": 0, "limit": 16}]
        )
        return {"profile": night.pk}
    return {
        "change_availability": {"type": "Inoperative"},
        "change_configuration": {"key": "HeartbeatInterval", "value": "60"},
        "trigger_message": {"requested_message": "Heartbeat"},
        "update_firmware": {"location": FIRMWARE_URL},
        "get_diagnostics": {"location": UPLOAD_URL},
        "get_composite_schedule": {"duration": 60},
        "data_transfer": {"vendor_id": "com.acme"},
    }.get(name, {})


@pytest.fixture
def online_station(station):
    """A station the database believes online (no socket: nothing must be sent)."""
    ChargingStation.objects.filter(pk=station.pk).update(connection_state=ConnectionState.ONLINE)
    station.refresh_from_db()
    return station


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MAINTENANCE_COMMANDS))
def test_each_command_is_refused_on_an_offline_station_with_the_reason(station, org, name):
    with pytest.raises(CommandNotAllowed) as refusal:
        execute_command(station, name, valid_params(name, org), actor=OWNER)

    assert str(refusal.value.reason) == "The station is offline."
    assert not CommandLog.objects.exists()


@pytest.mark.django_db
def test_every_maintenance_command_is_listed_and_greyed_out_on_an_offline_station(station):
    reasons = {check.spec.name: check.reason for check in available_commands(station, OWNER)}

    assert {name: reasons.get(name) for name in MAINTENANCE_COMMANDS} == dict.fromkeys(
        MAINTENANCE_COMMANDS, "The station is offline."
    )


@pytest.mark.django_db
def test_every_maintenance_command_is_available_on_an_online_station(online_station):
    reasons = {c.spec.name: c.reason for c in available_commands(online_station, OWNER)}

    assert {name: reasons.get(name, "missing") for name in MAINTENANCE_COMMANDS} == dict.fromkeys(
        MAINTENANCE_COMMANDS
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), sorted(MAINTENANCE_COMMANDS.items()))
def test_each_command_needs_its_role_and_a_connection(station, name, role):
    assert (COMMANDS[name].min_role, COMMANDS[name].needs_online) == (role, True)


INVALID = [
    ("restart_station", {"type": "Warm"}, "type"),
    ("change_availability", {"connector_id": 1}, "type"),
    ("change_availability", {"connector_id": 9, "type": "Operative"}, "connector_id"),
    ("change_availability", {"connector_id": -1, "type": "Operative"}, "connector_id"),
    ("change_availability", {"connector_id": "one", "type": "Operative"}, "connector_id"),
    ("get_configuration", {"keys": ["K" * 51]}, "keys"),
    ("change_configuration", {"value": "60"}, "key"),
    ("change_configuration", {"key": "HeartbeatInterval"}, "value"),
    ("change_configuration", {"key": "HeartbeatInterval", "value": "9" * 501}, "value"),
    ("trigger_message", {"requested_message": "Authorize"}, "requested_message"),
    ("trigger_message", {"requested_message": "Heartbeat", "connector_id": 1}, "connector_id"),
    ("trigger_message", {"requested_message": "MeterValues", "connector_id": 0}, "connector_id"),
    ("update_firmware", {}, "location"),
    ("update_firmware", {"location": "not a location"}, "location"),
    ("update_firmware", {"location": FIRMWARE_URL, "retrieve_date": "soon"}, "retrieve_date"),
    ("update_firmware", {"location": FIRMWARE_URL, "retries": -1}, "retries"),
    (
        "get_diagnostics",
        {
            "location": UPLOAD_URL,
            "start_time": "2026-03-01T00:00:00Z",
            "stop_time": "2026-02-01T00:00:00Z",
        },
        "stop_time",
    ),
    ("get_diagnostics", {"location": UPLOAD_URL, "retry_interval": -5}, "retry_interval"),
    ("send_local_list", {"update_type": "Partial"}, "update_type"),
    ("set_charging_profile", {}, "profile"),
    ("set_charging_profile", {"profile": 999999}, "profile"),
    ("clear_charging_profile", {"connector_id": 7}, "connector_id"),
    ("clear_charging_profile", {"purpose": "Whatever"}, "purpose"),
    ("clear_charging_profile", {"stack_level": -1}, "stack_level"),
    ("get_composite_schedule", {}, "duration"),
    ("get_composite_schedule", {"duration": 0}, "duration"),
    ("get_composite_schedule", {"duration": 60, "charging_rate_unit": "kW"}, "charging_rate_unit"),
    ("data_transfer", {}, "vendor_id"),
    ("data_transfer", {"vendor_id": "com.acme", "message_id": "m" * 51}, "message_id"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "params", "field"), INVALID)
def test_invalid_parameters_are_field_errors(online_station, name, params, field):
    with pytest.raises(InvalidCommandParameters) as invalid:
        execute_command(online_station, name, params, actor=OWNER)

    assert set(invalid.value.errors) == {field}
    assert not CommandLog.objects.exists()


ACCEPTED_LOCATIONS = [
    "http://app:9/upload",
    "https://files/firmware.bin",
    "ftp://user:secret@10.0.0.5/diag/",
    "FTPS://Depot-Server:990/in",
    "sftp://files.example.com/in/",
    "http://[fd00::5]:8080/fw.bin",
    "https://firmware.example.com/wallbox-2.0.0.bin?sig=a%20b",
]
REFUSED_LOCATIONS = [
    "not a location",
    "/firmware/2.0.bin",
    "files/firmware.bin",
    "mailto:ops@example.com",
    "file:///etc/passwd",
    "gopher://app/1",
    "http://",
    "http:///no-host",
    "http://app:99999/",
    "http://app:port/",
    "http://app/with space",
    "http://app/\nInjected",
]


@pytest.mark.django_db
@pytest.mark.parametrize("location", ACCEPTED_LOCATIONS)
@pytest.mark.parametrize("name", ["update_firmware", "get_diagnostics"])
def test_any_absolute_uri_with_a_station_scheme_is_a_valid_location(station, name, location):
    serializer = COMMANDS[name].params(data={"location": location}, context={"station": station})

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["location"] == location


@pytest.mark.django_db
@pytest.mark.parametrize("location", REFUSED_LOCATIONS)
@pytest.mark.parametrize("name", ["update_firmware", "get_diagnostics"])
def test_a_location_that_is_no_absolute_station_uri_is_a_field_error(station, name, location):
    serializer = COMMANDS[name].params(data={"location": location}, context={"station": station})

    assert not serializer.is_valid()
    assert set(serializer.errors) == {"location"}
    assert "absolute URI" in str(serializer.errors["location"][0])


@pytest.mark.django_db
def test_a_charging_profile_of_another_organization_is_a_field_error(online_station, other_org):
    theirs = ChargingProfile.objects.create(
        organization=other_org, name="Theirs", schedule_periods=[{"start_period": 0, "limit": 32}]
    )

    for name in ("set_charging_profile", "clear_charging_profile"):
        with pytest.raises(InvalidCommandParameters) as invalid:
            execute_command(online_station, name, {"profile": theirs.pk}, actor=OWNER)
        assert set(invalid.value.errors) == {"profile"}
        assert "does not exist" in str(invalid.value.errors["profile"][0])


def profile_of(org, purpose, kind="Absolute"):
    return ChargingProfile.objects.create(
        organization=org,
        name=purpose,
        purpose=purpose,
        kind=kind,
        schedule_periods=[{"start_period": 0, "limit": 16}],
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("purpose", "params", "field"),
    [
        ("ChargePointMaxProfile", {"connector_id": 1}, "connector_id"),
        ("TxProfile", {}, "connector_id"),
        ("TxProfile", {"connector_id": 0}, "connector_id"),
        ("TxDefaultProfile", {"transaction_id": 12}, "transaction_id"),
    ],
)
def test_a_profile_sent_where_its_purpose_does_not_apply_is_a_field_error(
    online_station, org, purpose, params, field
):
    chosen = profile_of(org, purpose)

    with pytest.raises(InvalidCommandParameters) as invalid:
        execute_command(
            online_station, "set_charging_profile", {"profile": chosen.pk} | params, actor=OWNER
        )

    assert set(invalid.value.errors) == {field}


@pytest.mark.django_db
def test_a_tx_profile_without_a_running_transaction_is_refused_with_the_reason(online_station, org):
    boost = profile_of(org, "TxProfile", kind="Relative")

    with pytest.raises(CommandNotAllowed) as refusal:
        execute_command(
            online_station,
            "set_charging_profile",
            {"profile": boost.pk, "connector_id": 1},
            actor=OWNER,
        )

    assert str(refusal.value.reason) == (
        "No transaction is running on connector 1: a TxProfile needs one."
    )
    assert not CommandLog.objects.exists()


@pytest.mark.django_db
def test_a_tx_profile_for_another_transaction_than_the_running_one_is_refused(online_station, org):
    boost = profile_of(org, "TxProfile", kind="Relative")
    ChargingSessionFactory(station=online_station, transaction_id="41")

    with pytest.raises(CommandNotAllowed) as refusal:
        execute_command(
            online_station,
            "set_charging_profile",
            {"profile": boost.pk, "connector_id": 1, "transaction_id": 40},
            actor=OWNER,
        )

    assert str(refusal.value.reason) == "Transaction 40 is not the one running on connector 1."


@pytest.mark.django_db
def test_a_tx_profile_is_refused_for_a_transaction_without_an_ocpp_16_id(online_station, org):
    boost = profile_of(org, "TxProfile", kind="Relative")
    ChargingSessionFactory(station=online_station, transaction_id="b7f3c2e0-tx")

    with pytest.raises(CommandNotAllowed) as refusal:
        execute_command(
            online_station,
            "set_charging_profile",
            {"profile": boost.pk, "connector_id": 1},
            actor=OWNER,
        )

    assert str(refusal.value.reason) == "The running transaction has no OCPP 1.6 transaction id."
