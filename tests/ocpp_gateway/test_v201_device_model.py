"""OCPP 2.0.1 device model (OCTT block B, CSMS under test) over a real socket; 1.6 keys too."""

import asyncio
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import Client
from ocpp.routing import after, on
from ocpp.v16 import call_result as call_result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from cms.celery import app as celery_app
from core.events import Event
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import Actor, CommandNotAllowed, execute_command
from ocpp_gateway.remote import device_model as device_model_commands
from ocpp_gateway.remote.device_model import refresh_after_boot, refresh_device_model
from organizations.choices import Role
from stations.events import STATION_BOOTED
from stations.models import ChargingStation, DeviceModelReport, StationVariable
from tests.apiclients import member
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import (
    Station,
    Station201,
    connected_station,
    connected_station201,
)

IDENTITY = "CS-DM-201"
OWNER = Actor(role=Role.OWNER)


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def entry(
    component,
    variable,
    value=None,
    *,
    evse=None,
    connector=None,
    component_instance=None,
    variable_instance=None,
    mutability="ReadWrite",
    attribute_type="Actual",
    data_type="string",
    **characteristics,
) -> dict:
    """A ReportDataType as the `ocpp` package takes it (snake_case keys)."""
    component_data = {"name": component}
    if component_instance:
        component_data["instance"] = component_instance
    if evse is not None:
        component_data["evse"] = {"id": evse}
        if connector is not None:
            component_data["evse"]["connector_id"] = connector
    variable_data = {"name": variable}
    if variable_instance:
        variable_data["instance"] = variable_instance
    attribute = {"type": attribute_type, "mutability": mutability}
    if value is not None:
        attribute["value"] = value
    return {
        "component": component_data,
        "variable": variable_data,
        "variable_attribute": [attribute],
        "variable_characteristics": {
            "data_type": data_type,
            "supports_monitoring": False,
            **characteristics,
        },
    }


INVENTORY = [
    entry("OCPPCommCtrlr", "HeartbeatInterval", "300", data_type="integer", unit="s"),
    entry("AuthCtrlr", "Enabled", "true", data_type="boolean"),
    entry("SecurityCtrlr", "Identity", "CS-DM-201", mutability="ReadOnly"),
    entry("EVSE", "Power", "22000", evse=1, data_type="decimal", unit="W", max_limit=22000),
    entry("Connector", "ConnectorType", "cType2", evse=1, connector=1, mutability="ReadOnly"),
    entry(
        "DeviceDataCtrlr",
        "ItemsPerMessage",
        "2",
        variable_instance="GetVariables",
        mutability="ReadOnly",
        data_type="integer",
    ),
    entry("SampledDataCtrlr", "TxUpdatedMeasurands", "Energy.Active.Import.Register"),
]
# What a ConfigurationInventory holds: the writable variables.
CONFIGURATION = [e for e in INVENTORY if e["variable_attribute"][0]["mutability"] != "ReadOnly"]


def key_of(component: dict, variable: dict, attribute_type: str | None) -> tuple:
    evse = component.get("evse") or {}
    return (
        component["name"],
        component.get("instance"),
        evse.get("id"),
        evse.get("connector_id"),
        variable["name"],
        variable.get("instance"),
        attribute_type or "Actual",
    )


class DeviceModelStation(Station201):
    """A 2.0.1 station with a device model it reads, writes and reports in parts."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []
        self.model = {
            key_of(e["component"], e["variable"], e["variable_attribute"][0]["type"]): e
            for e in INVENTORY
        }
        self.report_status = "Accepted"
        self.part_size = 3
        self.reported = asyncio.Event()
        # Set by the test once the command is recorded: a report comes later than its answer,
        # and on SQLite's shared-cache test database two writers at once would lock each other.
        self.release = asyncio.Event()
        # variable name → (status, statusInfo) a SetVariables of it is answered with.
        self.set_answers: dict[str, tuple[str, dict | None]] = {}

    async def _handle_call(self, msg):
        # The payload exactly as it came off the wire, before the library renames its keys.
        self.received.append((msg.action, msg.payload))
        return await super()._handle_call(msg)

    def calls_of(self, action: str) -> list[dict]:
        return [payload for name, payload in self.received if name == action]

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data, **_):
        results = []
        for item in get_variable_data:
            found = self.model.get(
                key_of(item["component"], item["variable"], item.get("attribute_type"))
            )
            result = {"component": item["component"], "variable": item["variable"]}
            if item.get("attribute_type"):
                result["attribute_type"] = item["attribute_type"]
            if found is None:
                result["attribute_status"] = "UnknownVariable"
            else:
                result["attribute_status"] = "Accepted"
                result["attribute_value"] = found["variable_attribute"][0]["value"]
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data, **_):
        results = []
        for item in set_variable_data:
            key = key_of(item["component"], item["variable"], item.get("attribute_type"))
            status, info = self.set_answers.get(item["variable"]["name"], ("Accepted", None))
            if key not in self.model:
                status = "UnknownVariable"
            elif status == "Accepted":
                self.model[key]["variable_attribute"][0]["value"] = item["attribute_value"]
            result = {
                "attribute_status": status,
                "component": item["component"],
                "variable": item["variable"],
            }
            if info:
                result["attribute_status_info"] = info
            results.append(result)
        return call_result.SetVariables(set_variable_result=results)

    def inventory(self, report_base: str) -> list[dict]:
        if report_base == "ConfigurationInventory":
            return CONFIGURATION
        if report_base == "SummaryInventory":
            return [e for e in INVENTORY if e["component"]["name"] == "SecurityCtrlr"]
        return list(self.model.values())

    @on(Action.get_base_report)
    def on_get_base_report(self, request_id, report_base, **_):
        return call_result.GetBaseReport(status=self.report_status)

    @after(Action.get_base_report)
    async def send_base_report(self, request_id, report_base, **_):
        if self.report_status == "Accepted":
            await self.send_report(request_id, self.inventory(report_base))
        self.reported.set()

    @on(Action.get_report)
    def on_get_report(self, request_id, **_):
        return call_result.GetReport(status=self.report_status)

    @after(Action.get_report)
    async def send_custom_report(self, request_id, component_variable=None, **_):
        names = {item["component"]["name"] for item in component_variable or ()}
        await self.send_report(
            request_id, [e for e in INVENTORY if e["component"]["name"] in names]
        )
        self.reported.set()

    async def send_report(self, request_id: int, entries: list[dict]) -> None:
        await asyncio.wait_for(self.release.wait(), 10)
        parts = [
            entries[start : start + self.part_size]
            for start in range(0, len(entries), self.part_size)
        ] or [[]]
        for seq_no, part in enumerate(parts):
            await self.call(
                call.NotifyReport(
                    request_id=request_id,
                    generated_at=now(),
                    seq_no=seq_no,
                    tbc=seq_no < len(parts) - 1,
                    report_data=part or None,
                )
            )


def boot():
    return call.BootNotification(
        charging_station={"model": "Wallbox 2", "vendor_name": "ACME"}, reason="PowerUp"
    )


@pytest.fixture
async def station(db_call, org):
    return await db_call(ChargingStationFactory, organization=org, ocpp_id=IDENTITY)


async def in_thread(fn):
    """Run sync code as a view or a worker would: in a thread of its own, while the loop serves."""

    def run():
        try:
            return fn()
        finally:
            connections.close_all()

    return await sync_to_async(run, thread_sensitive=False)()


async def run(name: str, params: dict | None = None, identity: str = IDENTITY):
    """Run a command for the organization's owner on a fresh station row."""

    def command():
        station = ChargingStation.objects.get(ocpp_id=identity)
        return execute_command(station, name, params, actor=OWNER)

    return await in_thread(command)


async def stored(db_call, station, **filters) -> dict:
    """The station's variables as (component, variable, instance, attribute type) → row."""

    def read():
        rows = StationVariable.objects.filter(station=station, **filters)
        return {(r.component, r.variable, r.variable_instance, r.attribute_type): r for r in rows}

    return await db_call(read)


async def full_inventory(cs, db_call, station):
    """Have the station report its whole device model, and wait until it is stored."""
    await run("get_base_report", {"report_base": "FullInventory"})
    await received_report(cs)


async def received_report(cs):
    """Let the station send the report it was asked for; wait until every part is stored."""
    cs.release.set()
    await asyncio.wait_for(cs.reported.wait(), 10)
    cs.reported.clear()
    cs.release.clear()


# --- GetVariables ---------------------------------------------------------------------------------


async def test_tc_b_06_get_variables_single_value(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        log = await run(
            "get_variables",
            {"variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}]},
        )
    assert cs.calls_of("GetVariables") == [
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]
        }
    ]
    assert log.status == "accepted"
    assert log.response["getVariableResult"][0]["attributeValue"] == "300"
    row = (await stored(db_call, station))[("OCPPCommCtrlr", "HeartbeatInterval", "", "Actual")]
    assert (row.value, row.source) == ("300", "get_variables")
    assert row.reported_at is not None


async def test_tc_b_07_get_variables_multiple_values(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        await run(
            "get_variables",
            {
                "variables": [
                    {"component": "AuthCtrlr", "variable": "Enabled"},
                    {"component": "EVSE", "evse_id": 1, "variable": "Power"},
                    {
                        "component": "Connector",
                        "evse_id": 1,
                        "connector_id": 1,
                        "variable": "ConnectorType",
                    },
                    {"component": "AuthCtrlr", "variable": "NoSuchVariable"},
                ]
            },
        )
    [request] = cs.calls_of("GetVariables")
    assert request["getVariableData"][2]["component"] == {
        "name": "Connector",
        "evse": {"id": 1, "connectorId": 1},
    }
    rows = await stored(db_call, station)
    assert rows[("AuthCtrlr", "Enabled", "", "Actual")].value == "true"
    assert rows[("EVSE", "Power", "", "Actual")].evse_number == 1
    connector = rows[("Connector", "ConnectorType", "", "Actual")]
    assert (connector.evse_number, connector.connector_number, connector.value) == (1, 1, "cType2")
    # A variable the station does not know is not invented.
    assert ("AuthCtrlr", "NoSuchVariable", "", "Actual") not in rows


async def test_tc_b_08_get_variables_is_split_to_the_stations_items_per_message(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        # The report tells the CSMS ItemsPerMessageGetVariables = 2.
        await full_inventory(cs, db_call, station)
        names = ["HeartbeatInterval", "A", "B", "C", "D"]
        log = await run(
            "get_variables",
            {"variables": [{"component": "OCPPCommCtrlr", "variable": name} for name in names]},
        )
    sizes = [len(payload["getVariableData"]) for payload in cs.calls_of("GetVariables")]
    assert sizes == [2, 2, 1]
    sent = [
        item["variable"]["name"]
        for payload in cs.calls_of("GetVariables")
        for item in payload["getVariableData"]
    ]
    assert sent == names
    assert log.status == "accepted"
    count = await db_call(CommandLog.objects.filter(command="get_variables").count)
    assert count == 3


# --- SetVariables ---------------------------------------------------------------------------------


async def test_tc_b_09_set_variables_single_value(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        await full_inventory(cs, db_call, station)
        log = await run(
            "set_variables",
            {
                "variables": [
                    {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "60"}
                ]
            },
        )
    assert cs.calls_of("SetVariables") == [
        {
            "setVariableData": [
                {
                    "attributeValue": "60",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        }
    ]
    assert log.status == "accepted"
    row = (await stored(db_call, station))[("OCPPCommCtrlr", "HeartbeatInterval", "", "Actual")]
    assert (row.value, row.set_value, row.set_status, row.source) == (
        "60",
        "60",
        "Accepted",
        "set_variables",
    )
    # What the report said of it stays.
    assert (row.data_type, row.unit) == ("integer", "s")


async def test_tc_b_10_set_variables_multiple_values_keep_each_answer(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        await full_inventory(cs, db_call, station)
        cs.set_answers["Enabled"] = (
            "Rejected",
            {"reason_code": "OutOfRange", "additional_info": "Not now"},
        )
        cs.set_answers["Power"] = ("RebootRequired", None)
        await run(
            "set_variables",
            {
                "variables": [
                    {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "90"},
                    {"component": "AuthCtrlr", "variable": "Enabled", "value": "false"},
                    {"component": "EVSE", "evse_id": 1, "variable": "Power", "value": "11000"},
                ]
            },
        )
    [request] = cs.calls_of("SetVariables")
    assert len(request["setVariableData"]) == 3
    rows = await stored(db_call, station)
    heartbeat = rows[("OCPPCommCtrlr", "HeartbeatInterval", "", "Actual")]
    enabled = rows[("AuthCtrlr", "Enabled", "", "Actual")]
    power = rows[("EVSE", "Power", "", "Actual")]
    assert (heartbeat.value, heartbeat.set_status) == ("90", "Accepted")
    assert (enabled.value, enabled.set_value, enabled.set_status) == ("true", "false", "Rejected")
    assert enabled.set_status_info == "OutOfRange: Not now"
    # Taken only after a reboot: the value in use is still the old one.
    assert (power.value, power.set_value, power.set_status) == ("22000", "11000", "RebootRequired")


# --- Reports --------------------------------------------------------------------------------------


async def test_tc_b_12_configuration_inventory_is_stored_and_keeps_the_rest(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        await full_inventory(cs, db_call, station)
        await run("get_base_report", {"report_base": "ConfigurationInventory"})
        await received_report(cs)
    assert cs.calls_of("GetBaseReport")[-1] == {
        "requestId": 2,
        "reportBase": "ConfigurationInventory",
    }
    report = await db_call(DeviceModelReport.objects.get, station=station, request_id=2)
    assert (report.kind, report.status, report.parts, report.variables) == (
        "ConfigurationInventory",
        "Accepted",
        2,
        len(CONFIGURATION),
    )
    assert report.completed_at is not None
    # A configuration report says nothing of read-only variables: they stay.
    rows = await stored(db_call, station)
    assert ("SecurityCtrlr", "Identity", "", "Actual") in rows
    assert len(rows) == len(INVENTORY)


async def test_tc_b_13_full_inventory_in_parts_is_stored_with_characteristics(
    ocpp_server, station, db_call
):
    await db_call(
        StationVariable.objects.create,
        station=station,
        component="OldCtrlr",
        variable="Gone",
        value="x",
        reported_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    await db_call(
        StationVariable.objects.create, station=station, variable="HeartbeatInterval", value="1"
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        log = await run("get_base_report", {"report_base": "FullInventory"})
        await received_report(cs)
    assert cs.calls_of("GetBaseReport") == [{"requestId": 1, "reportBase": "FullInventory"}]
    assert log.response == {"status": "Accepted"}
    report = await db_call(DeviceModelReport.objects.get, station=station)
    # 7 variables in parts of 3: seqNo 0, 1, 2.
    assert (report.parts, report.last_seq_no, report.variables) == (3, 2, len(INVENTORY))
    rows = await stored(db_call, station)
    power = rows[("EVSE", "Power", "", "Actual")]
    assert (power.value, power.data_type, power.unit, power.max_limit) == (
        "22000",
        "decimal",
        "W",
        22000,
    )
    identity = rows[("SecurityCtrlr", "Identity", "", "Actual")]
    assert (identity.mutability, identity.source) == ("ReadOnly", "report")
    items = rows[("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables", "Actual")]
    assert items.value == "2"
    # The complete inventory did not list OldCtrlr.Gone: the station no longer has it. A 1.6
    # key (no component) is not the report's to judge.
    assert ("OldCtrlr", "Gone", "", "Actual") not in rows
    assert ("", "HeartbeatInterval", "", "Actual") in rows


async def test_tc_b_14_summary_inventory(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        await run("get_base_report", {"report_base": "SummaryInventory"})
        await received_report(cs)
    assert cs.calls_of("GetBaseReport") == [{"requestId": 1, "reportBase": "SummaryInventory"}]
    report = await db_call(DeviceModelReport.objects.get, station=station)
    assert (report.kind, report.parts, report.variables) == ("SummaryInventory", 1, 1)
    assert list(await stored(db_call, station)) == [("SecurityCtrlr", "Identity", "", "Actual")]


async def test_a_report_the_station_cannot_give_is_closed_with_its_answer(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        cs.report_status = "NotSupported"
        log = await run("get_base_report", {"report_base": "SummaryInventory"})
    assert log.status == "rejected"
    report = await db_call(DeviceModelReport.objects.get, station=station)
    assert report.status == "NotSupported"
    assert report.completed_at is not None


async def test_tc_b_18_custom_report_with_criteria_and_components(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        await run(
            "get_report",
            {
                "criteria": ["Available", "Enabled"],
                "components": [
                    {"component": "EVSE", "evse_id": 1, "variable": "Power"},
                    {"component": "AuthCtrlr"},
                ],
            },
        )
        await received_report(cs)
    assert cs.calls_of("GetReport") == [
        {
            "requestId": 1,
            "componentCriteria": ["Available", "Enabled"],
            "componentVariable": [
                {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}},
                {"component": {"name": "AuthCtrlr"}},
            ],
        }
    ]
    rows = await stored(db_call, station)
    assert set(rows) == {("EVSE", "Power", "", "Actual"), ("AuthCtrlr", "Enabled", "", "Actual")}
    report = await db_call(DeviceModelReport.objects.get, station=station)
    assert (report.kind, report.completed_at is not None) == ("Custom", True)


async def test_a_report_nobody_asked_for_is_stored_too(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        cs.release.set()
        await cs.send_report(77, INVENTORY[:2])
    report = await db_call(DeviceModelReport.objects.get, station=station)
    assert (report.request_id, report.kind, report.variables) == (77, "", 2)
    assert len(await stored(db_call, station)) == 2


async def test_a_report_of_thousands_of_variables_in_parts_is_stored_whole(
    ocpp_server, station, db_call
):
    many = [entry("Ctrlr", f"Var{n:04d}", "x" * 50, data_type="string") for n in range(2500)]
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        # Parts of 200 stay within the gateway's 64 KiB frames.
        cs.part_size = 200
        cs.release.set()
        await cs.send_report(5, many)
    assert await db_call(StationVariable.objects.filter(station=station).count) == 2500


# --- Refreshed at boot ------------------------------------------------------------------------


async def test_an_accepted_boot_queues_a_full_inventory_request(
    ocpp_server, station, db_call, monkeypatch
):
    # A Celery worker takes the tasks (production), whatever this pass configured.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    queued = []
    monkeypatch.setattr(
        device_model_commands, "enqueue_now", lambda task, *ids: queued.append((task, ids))
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        # The boot itself announced it (stations.services.record_boots) and was queued; a
        # pending station's boot asks for nothing.
        pending = Event(
            STATION_BOOTED,
            {
                "organization_id": station.organization_id,
                "station_id": station.pk,
                "registration_status": "Pending",
            },
        )
        await db_call(refresh_after_boot, [pending])
        assert queued == [(refresh_device_model, (station.pk,))]
        # The worker's run of the task.
        outcome = await in_thread(lambda: refresh_device_model(station.pk))
        await received_report(cs)
    assert outcome == "accepted"
    assert cs.calls_of("GetBaseReport") == [{"requestId": 1, "reportBase": "FullInventory"}]
    log = await db_call(CommandLog.objects.get, command="get_base_report")
    assert log.requested_via == "system"
    assert len(await stored(db_call, station)) == len(INVENTORY)


def test_a_16_boot_queues_nothing(org, monkeypatch):
    # A Celery worker takes the tasks (production), whatever this pass configured.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    queued = []
    monkeypatch.setattr(
        device_model_commands, "enqueue_now", lambda task, *ids: queued.append((task, ids))
    )
    station16 = ChargingStationFactory(organization=org, ocpp_version="ocpp1.6")
    refresh_after_boot(
        [Event(STATION_BOOTED, {"station_id": station16.pk, "registration_status": "Accepted"})]
    )
    assert queued == []


# --- The portal page sends SetVariables -----------------------------------------------------


async def test_setting_a_value_on_the_page_sends_set_variables_and_shows_the_answer(
    ocpp_server, station, db_call, org
):
    user = await db_call(member, (org, Role.ADMIN))
    client = Client()
    await db_call(client.force_login, user)
    url = f"/o/{org.slug}/stations/{station.pk}/device-model/"
    async with connected_station201(ocpp_server, IDENTITY, cls=DeviceModelStation) as cs:
        await cs.call(boot())
        await full_inventory(cs, db_call, station)
        cs.set_answers["Power"] = ("Rejected", {"reason_code": "ValueTooHigh"})
        power = await db_call(StationVariable.objects.get, station=station, variable="Power")
        response = await in_thread(
            lambda: client.post(
                url, {"action": "set", "variable": power.pk, "value": "99999", "q": "pow"}
            )
        )
        page = await in_thread(lambda: client.get(response["Location"]))
    assert response.status_code == 302
    assert response["Location"].endswith("?q=pow")
    [request] = cs.calls_of("SetVariables")
    assert request["setVariableData"] == [
        {
            "attributeValue": "99999",
            "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "Power"},
        }
    ]
    html = page.content.decode()
    assert "the station answered Rejected (ValueTooHigh)" in html
    assert "99999" in html


# --- Version rules ---------------------------------------------------------------------------


def test_device_model_commands_are_refused_for_a_16_station(org):
    station16 = ChargingStationFactory(organization=org, ocpp_version="ocpp1.6")
    with pytest.raises(CommandNotAllowed, match=r"Only for OCPP 2\.0\.1"):
        execute_command(station16, "get_base_report", {"report_base": "FullInventory"}, actor=OWNER)


# --- OCPP 1.6 configuration keys in the same model ------------------------------------------


class ConfiguredStation(Station):
    """A 1.6 station with three configuration keys."""

    keys = [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "ChargePointModel", "readonly": True, "value": "Wallbox <b>X</b> ✓"},
        {"key": "AuthorizationKey", "readonly": False},
    ]

    @on(Action16.get_configuration)
    def on_get_configuration(self, key=None, **_):
        keys = [k for k in self.keys if not key or k["key"] in key]
        unknown = [k for k in key or () if k not in {c["key"] for c in self.keys}]
        return call_result16.GetConfiguration(configuration_key=keys, unknown_key=unknown or None)

    @on(Action16.change_configuration)
    def on_change_configuration(self, key, value, **_):
        return call_result16.ChangeConfiguration(
            status="Accepted" if key == "HeartbeatInterval" else "Rejected"
        )


async def test_16_get_configuration_keys_are_stored_as_variables(ocpp_server, db_call, org):
    station16 = await db_call(
        ChargingStationFactory, organization=org, ocpp_id="CS-DM-16", ocpp_version="ocpp1.6"
    )
    await db_call(StationVariable.objects.create, station=station16, variable="Removed")
    async with connected_station(ocpp_server, "CS-DM-16", cls=ConfiguredStation):
        await run("get_configuration", identity="CS-DM-16")
        await run("change_configuration", {"key": "HeartbeatInterval", "value": "60"}, "CS-DM-16")
        await run("change_configuration", {"key": "ChargePointModel", "value": "Y"}, "CS-DM-16")
    rows = {r.variable: r for r in (await stored(db_call, station16)).values()}
    assert set(rows) == {"HeartbeatInterval", "ChargePointModel", "AuthorizationKey"}
    assert rows["ChargePointModel"].value == "Wallbox <b>X</b> ✓"
    assert rows["ChargePointModel"].mutability == "ReadOnly"
    assert rows["AuthorizationKey"].value == ""
    assert (rows["HeartbeatInterval"].value, rows["HeartbeatInterval"].set_status) == (
        "60",
        "Accepted",
    )
    assert (rows["ChargePointModel"].value, rows["ChargePointModel"].set_status) == (
        "Wallbox <b>X</b> ✓",
        "Rejected",
    )
    assert all(r.component == "" for r in rows.values())


async def test_16_get_configuration_of_some_keys_keeps_the_others(ocpp_server, db_call, org):
    station16 = await db_call(
        ChargingStationFactory, organization=org, ocpp_id="CS-DM-16", ocpp_version="ocpp1.6"
    )
    await db_call(StationVariable.objects.create, station=station16, variable="Other")
    async with connected_station(ocpp_server, "CS-DM-16", cls=ConfiguredStation):
        await run("get_configuration", {"keys": ["HeartbeatInterval", "Nope"]}, "CS-DM-16")
    rows = {r.variable for r in (await stored(db_call, station16)).values()}
    assert rows == {"Other", "HeartbeatInterval"}
