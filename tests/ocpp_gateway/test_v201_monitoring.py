"""OCPP 2.0.1 monitoring, events, logs and customer information (OCTT block N) over a socket."""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.exceptions import OccurrenceConstraintViolationError
from ocpp.routing import on
from ocpp.v16 import call_result as call_result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from cards.models import IdToken
from core.events import subscribe, unsubscribe
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import (
    Actor,
    CommandNotAllowed,
    InvalidCommandParameters,
    check_command,
    execute_command,
)
from organizations.choices import Role
from stations.events import STATION_EVENT_REPORTED
from stations.models import (
    ChargingStation,
    CustomerInformationPart,
    MonitorSource,
    StationEvent,
    VariableMonitor,
)
from stations.station_events import ReportedMonitor, Target, open_alerts, record_monitors
from tests.apiclients import client_as
from tests.factories import AccessGroupFactory, ChargingStationFactory, IdTokenFactory
from tests.ocpp_gateway.conftest import (
    Station,
    Station201,
    connected_station,
    connected_station201,
)
from tests.portalclients import org_url, portal_client

IDENTITY = "CS-201-MON"
CARD = "04A1B2C3D4E5F6"
UPLOAD = "https://logs.example.com/upload/"
TEMPERATURE = {
    "component": {"name": "EVSE", "evse": {"id": 1}},
    "variable": {"name": "Temperature"},
}


def now(offset: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + offset).isoformat().replace("+00:00", "Z")


class MonitoredStation(Station201):
    """A 2.0.1 station that records every CSMS call as sent and answers as `answers` says."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []
        self.answers: dict[str, object] = {}

    async def _handle_call(self, msg):
        # The payload exactly as it came off the wire, before the library renames its keys.
        self.received.append((msg.action, msg.payload))
        return await super()._handle_call(msg)

    def last(self, action: str) -> dict:
        return [payload for name, payload in self.received if name == action][-1]

    def status(self, action: str, default: str = "Accepted"):
        return self.answers.get(action, default)

    @on(Action.set_variable_monitoring)
    def on_set_variable_monitoring(self, set_monitoring_data, **_):
        # Each monitor is answered in order: the status given for it, else Accepted with an id.
        statuses = self.answers.get("SetVariableMonitoring", [])
        results = []
        for index, data in enumerate(set_monitoring_data):
            status = statuses[index] if index < len(statuses) else "Accepted"
            result = {
                "status": status,
                "type": data["type"],
                "severity": data["severity"],
                "component": data["component"],
                "variable": data["variable"],
            }
            if status == "Accepted":
                result["id"] = data.get("id", 100 + index)
            results.append(result)
        return call_result.SetVariableMonitoring(set_monitoring_result=results)

    @on(Action.set_monitoring_base)
    def on_set_monitoring_base(self, **_):
        return call_result.SetMonitoringBase(status=self.status("SetMonitoringBase"))

    @on(Action.set_monitoring_level)
    def on_set_monitoring_level(self, severity, **_):
        # A station refuses a severity outside 0..9 (N05.FR.02).
        return call_result.SetMonitoringLevel(
            status="Accepted" if 0 <= severity <= 9 else "Rejected"
        )

    @on(Action.clear_variable_monitoring)
    def on_clear_variable_monitoring(self, id, **_):
        if len(id) > self.answers.get("ItemsPerMessageClearVariableMonitoring", 10):
            raise OccurrenceConstraintViolationError(description="Too many monitors at once")
        statuses = self.answers.get("ClearVariableMonitoring", {})
        return call_result.ClearVariableMonitoring(
            clear_monitoring_result=[
                {"id": monitor, "status": statuses.get(monitor, "Accepted")} for monitor in id
            ]
        )

    @on(Action.get_monitoring_report)
    def on_get_monitoring_report(self, **_):
        return call_result.GetMonitoringReport(status=self.status("GetMonitoringReport"))

    @on(Action.get_log)
    def on_get_log(self, **_):
        status = self.status("GetLog")
        if status == "Rejected":
            return call_result.GetLog(status=status)
        return call_result.GetLog(status=status, filename="log-2026.tar.gz")

    @on(Action.customer_information)
    def on_customer_information(self, **_):
        return call_result.CustomerInformation(status=self.status("CustomerInformation"))

    @on(Action.send_local_list)
    def on_send_local_list(self, **_):
        return call_result.SendLocalList(status="Accepted")


@pytest.fixture
async def station(db_call, org):
    """A 2.0.1 station of `org` whose site admits a driver's card."""

    def build():
        station = ChargingStationFactory(organization=org, ocpp_id=IDENTITY)
        group = AccessGroupFactory(organization=org, name="Drivers")
        station.site.access_groups.add(group)
        IdTokenFactory(organization=org, uid=CARD, access_groups=[group])
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


async def monitors_of(db_call, station) -> dict[int, tuple]:
    rows = await db_call(
        lambda: list(
            VariableMonitor.objects.filter(station=station).values_list(
                "monitor_id", "component", "variable", "type", "value", "severity", "status"
            )
        )
    )
    return {row[0]: row[1:] for row in rows}


def reported(monitor_id, kind="UpperThreshold", value=80.0, severity=4, target=TEMPERATURE):
    """A MonitoringDataType of one monitor, as the `ocpp` package takes it."""
    return {
        **target,
        "variable_monitoring": [
            {
                "id": monitor_id,
                "transaction": False,
                "value": value,
                "type": kind,
                "severity": severity,
            }
        ],
    }


def alert(event_id, *, offset=timedelta(), **fields) -> dict:
    """An EventDataType of the temperature monitor, as the `ocpp` package takes it."""
    return {
        "event_id": event_id,
        "timestamp": now(offset),
        "trigger": "Alerting",
        "actual_value": "85",
        "event_notification_type": "CustomMonitor",
        **TEMPERATURE,
        **fields,
    }


# --- monitoring reports (N02) ------------------------------------------------------------------


async def test_tc_n_01_monitoring_report_by_criteria_keeps_the_monitors_reported(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        log = await run(
            "get_monitoring_report",
            {"monitoring_criteria": ["ThresholdMonitoring", "DeltaMonitoring"]},
        )
        request_id = cs.last("GetMonitoringReport")["requestId"]
        # Two parts, as a station reports many monitors.
        await cs.call(
            call.NotifyMonitoringReport(
                request_id=request_id,
                seq_no=0,
                generated_at=now(),
                tbc=True,
                monitor=[reported(1)],
            )
        )
        await cs.call(
            call.NotifyMonitoringReport(
                request_id=request_id,
                seq_no=1,
                generated_at=now(),
                monitor=[reported(2, "Delta", 5.0, 7)],
            )
        )

    assert cs.last("GetMonitoringReport") == {
        "requestId": request_id,
        "monitoringCriteria": ["ThresholdMonitoring", "DeltaMonitoring"],
    }
    assert 0 < request_id < 2**31
    assert (log.command, log.status) == ("get_monitoring_report", "accepted")
    assert await monitors_of(db_call, station) == {
        1: ("EVSE", "Temperature", "UpperThreshold", 80.0, 4, "Reported"),
        2: ("EVSE", "Temperature", "Delta", 5.0, 7, "Reported"),
    }


async def test_tc_n_02_monitoring_report_of_a_component_variable(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        log = await run(
            "get_monitoring_report",
            {"components": [{"component": "EVSE", "evse_id": 1, "variable": "Temperature"}]},
        )

    assert cs.last("GetMonitoringReport") == {
        "requestId": cs.last("GetMonitoringReport")["requestId"],
        "componentVariable": [
            {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Temperature"}}
        ],
    }
    assert log.status == "accepted"


async def test_tc_n_03_monitoring_report_by_criteria_and_component_variable(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await run(
            "get_monitoring_report",
            {
                "monitoring_criteria": ["PeriodicMonitoring"],
                "components": [{"component": "ChargingStation", "variable": "Power"}],
            },
        )

    sent = cs.last("GetMonitoringReport")
    assert sent["monitoringCriteria"] == ["PeriodicMonitoring"]
    assert sent["componentVariable"] == [
        {"component": {"name": "ChargingStation"}, "variable": {"name": "Power"}}
    ]


async def test_tc_n_60_monitoring_report_by_criteria_and_a_list_of_components(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await run(
            "get_monitoring_report",
            {
                "monitoring_criteria": ["ThresholdMonitoring"],
                "components": [
                    # A component without a variable: all of its variables.
                    {"component": "Connector", "evse_id": 1, "evse_connector_id": 1},
                    {
                        "component": "EVSE",
                        "evse_id": 2,
                        "variable": "Power",
                        "variable_instance": "L1",
                    },
                ],
            },
        )

    assert cs.last("GetMonitoringReport")["componentVariable"] == [
        {"component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}},
        {
            "component": {"name": "EVSE", "evse": {"id": 2}},
            "variable": {"name": "Power", "instance": "L1"},
        },
    ]


async def test_tc_n_47_a_report_of_every_monitor_replaces_the_stored_ones(
    ocpp_server, station, db_call
):
    # A monitor the station has since dropped, known from an earlier report.
    await db_call(
        record_monitors,
        station,
        [ReportedMonitor(9, Target("Door", "Open"), "Delta", 1.0, 6)],
        MonitorSource.REPORTED,
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await run("get_monitoring_report")
        request_id = cs.last("GetMonitoringReport")["requestId"]
        await cs.call(
            call.NotifyMonitoringReport(
                request_id=request_id, seq_no=0, generated_at=now(), monitor=[reported(1)]
            )
        )

    assert cs.last("GetMonitoringReport") == {"requestId": request_id}
    assert list(await monitors_of(db_call, station)) == [1]


async def test_impossible_numbers_from_a_station_are_refused_and_store_nothing(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        answer = await cs.call(
            call.NotifyMonitoringReport(
                request_id=1, seq_no=0, generated_at=now(), monitor=[reported(1, severity=12)]
            ),
            suppress=True,
        )
        # An event id no OCPP integer holds (and no database column): refused, not a crash.
        huge = await cs.call(
            call.NotifyEvent(generated_at=now(), seq_no=0, event_data=[alert(2**40)]),
            suppress=True,
        )
        # The socket stays open: the next message is answered.
        beat = await cs.call(call.Heartbeat())

    assert answer is None and huge is None and beat.current_time
    assert await monitors_of(db_call, station) == {}
    assert await db_call(StationEvent.objects.count) == 0
    errors = [frame for frame in cs._connection.received if frame[0] == 4]
    assert [frame[2] for frame in errors] == ["PropertyConstraintViolation"] * 2


# --- setting monitors, base and level (N03, N04, N05) ------------------------------------------


async def test_tc_n_05_monitoring_base_factory_default_forgets_the_monitors_set_here(
    ocpp_server, station, db_call
):
    target = Target("EVSE", "Temperature", evse=1)
    await db_call(
        record_monitors,
        station,
        [ReportedMonitor(1, target, "UpperThreshold", 80.0, 4)],
        MonitorSource.SET,
    )
    await db_call(
        record_monitors,
        station,
        [ReportedMonitor(2, target, "Delta", 5.0, 7)],
        MonitorSource.REPORTED,
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        log = await run("set_monitoring_base", {"monitoring_base": "FactoryDefault"})

    assert cs.received == [("SetMonitoringBase", {"monitoringBase": "FactoryDefault"})]
    assert log.status == "accepted"
    assert list(await monitors_of(db_call, station)) == [2]


async def test_tc_n_08_one_monitor_is_set_and_kept_with_the_id_the_station_gave(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        log = await run(
            "set_variable_monitoring",
            {
                "monitors": [
                    {
                        "component": "EVSE",
                        "evse_id": 1,
                        "variable": "Temperature",
                        "type": "UpperThreshold",
                        "value": 72.5,
                        "severity": 3,
                    }
                ]
            },
        )

    assert cs.last("SetVariableMonitoring") == {
        "setMonitoringData": [
            {
                "value": 72.5,
                "type": "UpperThreshold",
                "severity": 3,
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Temperature"},
            }
        ]
    }
    assert log.status == "accepted"
    assert await monitors_of(db_call, station) == {
        100: ("EVSE", "Temperature", "UpperThreshold", 72.5, 3, "Accepted")
    }


async def test_tc_n_09_monitors_on_different_variables_keep_only_the_accepted_ones(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        cs.answers["SetVariableMonitoring"] = ["Accepted", "UnknownVariable"]
        log = await run(
            "set_variable_monitoring",
            {
                "monitors": [
                    {
                        "component": "ChargingStation",
                        "variable": "Power",
                        "type": "Delta",
                        "value": 1000,
                        "severity": 8,
                        "transaction": True,
                    },
                    {
                        "component": "Connector",
                        "evse_id": 1,
                        "evse_connector_id": 1,
                        "variable": "Nonexistent",
                        "type": "LowerThreshold",
                        "value": 1,
                        "severity": 5,
                    },
                ]
            },
        )

    sent = cs.last("SetVariableMonitoring")["setMonitoringData"]
    assert sent[0]["transaction"] is True and "transaction" not in sent[1]
    assert sent[1]["component"] == {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
    # The command went through; the station's answer per monitor stays in the log.
    assert log.status == "accepted"
    assert [r["status"] for r in log.response["setMonitoringResult"]] == [
        "Accepted",
        "UnknownVariable",
    ]
    assert await monitors_of(db_call, station) == {
        100: ("ChargingStation", "Power", "Delta", 1000.0, 8, "Accepted")
    }


async def test_tc_n_24_a_periodic_monitor_reports_events_with_its_severity(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await run(
            "set_variable_monitoring",
            {
                "monitors": [
                    {
                        "component": "EVSE",
                        "evse_id": 1,
                        "variable": "Temperature",
                        "type": "Periodic",
                        "value": 60,
                        "severity": 6,
                        "id": 12,
                    }
                ]
            },
        )
        await cs.call(
            call.NotifyEvent(
                generated_at=now(),
                seq_no=0,
                event_data=[alert(1, trigger="Periodic", variable_monitoring_id=12)],
            )
        )

    assert cs.last("SetVariableMonitoring")["setMonitoringData"][0]["id"] == 12
    stored = await db_call(StationEvent.objects.get, station=station)
    assert (stored.trigger, stored.variable_monitoring_id, stored.severity) == ("Periodic", 12, 6)


async def test_tc_n_16_monitoring_level_is_set(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        log = await run("set_monitoring_level", {"severity": 4})

    assert cs.received == [("SetMonitoringLevel", {"severity": 4})]
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})


async def test_tc_n_17_a_monitoring_level_out_of_range_is_rejected(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        # The command knows the range and sends nothing...
        with pytest.raises(InvalidCommandParameters) as refused:
            await run("set_monitoring_level", {"severity": 10})
        # ...an admin's raw call sends it, and the station's refusal is recorded.
        log = await run("raw_call", {"action": "SetMonitoringLevel", "payload": {"severity": 10}})

    assert "severity" in refused.value.errors
    assert cs.received == [("SetMonitoringLevel", {"severity": 10})]
    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})


# --- clearing monitors (N06) -------------------------------------------------------------------


async def test_tc_n_18_too_many_monitors_to_clear_is_an_error_and_forgets_nothing(
    ocpp_server, station, db_call
):
    target = Target("EVSE", "Temperature", evse=1)
    await db_call(
        record_monitors,
        station,
        [ReportedMonitor(i, target, "UpperThreshold", 80.0, 4) for i in (1, 2, 3)],
        MonitorSource.SET,
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        cs.answers["ItemsPerMessageClearVariableMonitoring"] = 2
        log = await run("clear_variable_monitoring", {"monitor_ids": [1, 2, 3]})
        beat = await cs.call(call.Heartbeat())

    assert cs.received == [("ClearVariableMonitoring", {"id": [1, 2, 3]})]
    assert (log.status, log.error_code) == ("error", "OccurrenceConstraintViolation")
    assert beat.current_time
    assert list(await monitors_of(db_call, station)) == [1, 2, 3]


async def test_tc_n_44_a_monitor_the_station_refuses_to_clear_is_kept(
    ocpp_server, station, db_call
):
    target = Target("EVSE", "Temperature", evse=1)
    await db_call(
        record_monitors,
        station,
        [ReportedMonitor(i, target, "UpperThreshold", 80.0, 4) for i in (1, 2, 3)],
        MonitorSource.SET,
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        cs.answers["ClearVariableMonitoring"] = {2: "Rejected", 3: "NotFound"}
        log = await run("clear_variable_monitoring", {"monitor_ids": [1, 2, 3]})

    assert log.status == "accepted"
    assert [r["status"] for r in log.response["clearMonitoringResult"]] == [
        "Accepted",
        "Rejected",
        "NotFound",
    ]
    # Cleared and never known to the station are both gone; the refused one stays.
    assert list(await monitors_of(db_call, station)) == [2]


# --- events (N07, N08) -------------------------------------------------------------------------


@pytest.fixture
def announced():
    """The station.event_reported events emitted while the test runs."""
    seen = []

    def listener(events):
        seen.extend(events)

    subscribe(STATION_EVENT_REPORTED, listener)
    yield seen
    unsubscribe(STATION_EVENT_REPORTED, listener)


async def test_tc_n_21_a_hard_wired_alert_is_stored_and_announced(
    ocpp_server, station, db_call, announced
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        answer = await cs.call(
            call.NotifyEvent(
                generated_at=now(),
                seq_no=0,
                event_data=[
                    alert(
                        7,
                        event_notification_type="HardWiredMonitor",
                        tech_code="OVERTEMP",
                        tech_info="Sensor 2 above limit",
                        transaction_id="TX-42",
                        component={"name": "EVSE", "instance": "main", "evse": {"id": 1}},
                    )
                ],
            )
        )

    assert answer is not None
    stored = await db_call(StationEvent.objects.get, station=station)
    assert (stored.kind, stored.event_id, stored.trigger, stored.event_notification_type) == (
        "notify_event",
        7,
        "Alerting",
        "HardWiredMonitor",
    )
    assert (stored.component, stored.component_instance, stored.evse_number) == ("EVSE", "main", 1)
    assert (stored.variable, stored.actual_value, stored.tech_code, stored.transaction_id) == (
        "Temperature",
        "85",
        "OVERTEMP",
        "TX-42",
    )
    assert [(e["station_event_id"], e["station_id"]) for e in announced] == [
        (stored.pk, station.pk)
    ]


async def test_tc_n_48_an_event_of_a_write_only_variable_has_no_value_and_still_shows(
    ocpp_server, station, db_call, org
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await cs.call(
            call.NotifyEvent(
                generated_at=now(),
                seq_no=0,
                event_data=[
                    alert(
                        3,
                        trigger="Delta",
                        actual_value="",
                        component={"name": "SecurityCtrlr"},
                        variable={"name": "BasicAuthPassword"},
                    )
                ],
            )
        )

    stored = await db_call(StationEvent.objects.get, station=station)
    assert (stored.variable, stored.actual_value) == ("BasicAuthPassword", "")
    page = await db_call(
        lambda: portal_client(org).get(org_url(org, f"stations/{station.pk}/events/"))
    )
    assert page.status_code == 200 and "BasicAuthPassword" in page.content.decode()


async def test_tc_n_49_thresholds_reported_cleared_after_a_reboot_close_the_alert(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await cs.call(call.NotifyEvent(generated_at=now(), seq_no=0, event_data=[alert(1)]))
    assert [a.event_id for a in await db_call(lambda: list(open_alerts(station)))] == [1]

    # The station reboots and numbers its events anew; the threshold is back to normal.
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await cs.call(
            call.BootNotification(
                charging_station={"model": "Wallbox 2", "vendor_name": "ACME"}, reason="PowerUp"
            )
        )
        await cs.call(
            call.NotifyEvent(
                generated_at=now(),
                seq_no=0,
                event_data=[alert(1, offset=timedelta(seconds=5), actual_value="40", cleared=True)],
            )
        )

    assert await db_call(lambda: list(open_alerts(station))) == []
    events = await db_call(lambda: list(StationEvent.objects.filter(station=station)))
    assert [(e.event_id, e.cleared) for e in events] == [(1, True), (1, False)]


async def test_tc_n_50_periodic_events_in_parts_are_stored_once(ocpp_server, station, db_call):
    first = call.NotifyEvent(
        generated_at=now(),
        seq_no=0,
        tbc=True,
        event_data=[alert(1, trigger="Periodic"), alert(2, trigger="Periodic")],
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await cs.call(first)
        # The answer was lost: the station sends the first part again, then the second.
        await cs.call(first)
        await cs.call(
            call.NotifyEvent(
                generated_at=now(), seq_no=1, event_data=[alert(3, trigger="Periodic")]
            )
        )

    events = await db_call(
        lambda: list(
            StationEvent.objects.filter(station=station).values_list("event_id", "trigger")
        )
    )
    assert sorted(events) == [(1, "Periodic"), (2, "Periodic"), (3, "Periodic")]


async def test_a_security_event_is_stored_shown_and_announced(
    ocpp_server, station, db_call, org, announced
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        notification = call.SecurityEventNotification(
            type="TamperDetectionActivated", timestamp=now(), tech_info="<i>lid</i> opened"
        )
        await cs.call(notification)
        # Retransmitted: stored once.
        await cs.call(notification)

    stored = await db_call(StationEvent.objects.get, station=station)
    assert (stored.kind, stored.type, stored.critical) == (
        "security_event",
        "TamperDetectionActivated",
        True,
    )
    assert [e["station_event_id"] for e in announced] == [stored.pk]
    page = await db_call(
        lambda: portal_client(org).get(org_url(org, f"stations/{station.pk}/events/"))
    )
    html = page.content.decode()
    assert "TamperDetectionActivated" in html and "&lt;i&gt;lid&lt;/i&gt; opened" in html
    api = await db_call(lambda: client_as(org).get(f"/api/v1/stations/{station.pk}/events/").json())
    assert [row["type"] for row in api["results"]] == ["TamperDetectionActivated"]


# --- logs (N01) --------------------------------------------------------------------------------


async def upload(cs, request_id: int, *statuses: str) -> None:
    for status in statuses:
        await cs.call(call.LogStatusNotification(status=status, request_id=request_id))


async def test_tc_n_25_a_diagnostics_log_is_uploaded_and_its_progress_stored(
    ocpp_server, station, db_call
):
    oldest = datetime(2026, 2, 1, tzinfo=UTC)
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        log = await run(
            "get_log",
            {"location": UPLOAD, "oldest_timestamp": oldest.isoformat(), "retries": 2,
             "retry_interval": 30},
        )  # fmt: skip
        request_id = cs.last("GetLog")["requestId"]
        await upload(cs, request_id, "Uploading")
        uploading = await db_call(ChargingStation.objects.get, pk=station.pk)
        await upload(cs, request_id, "Uploaded")

    assert cs.last("GetLog") == {
        "log": {"remoteLocation": UPLOAD, "oldestTimestamp": "2026-02-01T00:00:00.000Z"},
        "logType": "DiagnosticsLog",
        "requestId": request_id,
        "retries": 2,
        "retryInterval": 30,
    }
    assert (log.command, log.status, log.response["filename"]) == (
        "get_log",
        "accepted",
        "log-2026.tar.gz",
    )
    assert uploading.diagnostics_status == "Uploading"
    fresh = await db_call(ChargingStation.objects.get, pk=station.pk)
    assert fresh.diagnostics_status == "Uploaded" and fresh.diagnostics_status_at is not None


async def test_tc_n_34_a_refused_log_upload_is_recorded_as_rejected(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        cs.answers["GetLog"] = "Rejected"
        log = await run("get_log", {"location": UPLOAD})

    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})


async def test_tc_n_35_a_security_log_is_uploaded(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        log = await run("get_log", {"location": UPLOAD, "log_type": "SecurityLog"})
        await upload(cs, cs.last("GetLog")["requestId"], "Uploading", "Uploaded")

    assert cs.last("GetLog")["logType"] == "SecurityLog"
    assert log.status == "accepted"
    assert (await db_call(ChargingStation.objects.get, pk=station.pk)).diagnostics_status == (
        "Uploaded"
    )


async def test_tc_n_36_a_second_log_request_cancels_the_first_upload(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await run("get_log", {"location": UPLOAD})
        first = cs.last("GetLog")["requestId"]
        await upload(cs, first, "Uploading")
        cs.answers["GetLog"] = "AcceptedCanceled"
        second_log = await run("get_log", {"location": UPLOAD})
        second = cs.last("GetLog")["requestId"]
        await upload(cs, first, "AcceptedCanceled")
        await upload(cs, second, "Uploading", "Uploaded")

    # Each request has its own id, so the station can tell them apart.
    assert first != second
    assert second_log.response["status"] == "AcceptedCanceled"
    assert (await db_call(ChargingStation.objects.get, pk=station.pk)).diagnostics_status == (
        "Uploaded"
    )


async def test_get_log_on_a_16_station_is_get_diagnostics_and_has_no_security_log(
    ocpp_server, station, db_call
):
    class Station16(Station):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.received: list[dict] = []

        @on(Action16.get_diagnostics)
        def on_get_diagnostics(self, **kwargs):
            self.received.append(kwargs)
            return call_result16.GetDiagnostics(file_name="diag.zip")

    await db_call(ChargingStation.objects.filter(pk=station.pk).update, ocpp_version="ocpp1.6")
    async with connected_station(ocpp_server, IDENTITY, cls=Station16) as cp:
        log = await run("get_log", {"location": UPLOAD, "retries": 1})
        with pytest.raises(InvalidCommandParameters) as refused:
            await run("get_log", {"location": UPLOAD, "log_type": "SecurityLog"})

    assert (log.action, log.payload) == ("GetDiagnostics", {"location": UPLOAD, "retries": 1})
    assert cp.received == [{"location": UPLOAD, "retries": 1}]
    assert "log_type" in refused.value.errors


async def test_monitoring_commands_say_they_are_for_201_stations_only(
    transactional_db, station, db_call
):
    await db_call(ChargingStation.objects.filter(pk=station.pk).update, ocpp_version="ocpp1.6")
    fresh = await db_call(ChargingStation.objects.get, pk=station.pk)

    for name in ("set_variable_monitoring", "get_monitoring_report", "customer_information"):
        check = await db_call(check_command, fresh, name, Actor(role=Role.OWNER))
        assert check.reason == "Only for OCPP 2.0.1 stations.", name
    with pytest.raises(CommandNotAllowed):
        await run("set_monitoring_level", {"severity": 3})


# --- customer information (N09, N10) -----------------------------------------------------------


async def notify_customer(cs, request_id: int, *parts: str) -> None:
    for seq_no, data in enumerate(parts):
        await cs.call(
            call.NotifyCustomerInformation(
                data=data,
                seq_no=seq_no,
                generated_at=now(),
                request_id=request_id,
                tbc=seq_no < len(parts) - 1,
            )
        )


async def customer_data(db_call, org, station, request_id: int) -> dict:
    return await db_call(
        lambda: (
            client_as(org, Role.ADMIN)
            .get(f"/api/v1/stations/{station.pk}/customer-information/", {"request_id": request_id})
            .json()
        )
    )


async def test_tc_n_27_customer_information_is_reported_and_kept_by_request(
    ocpp_server, station, db_call, org
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        log = await run("customer_information", {"id_token": CARD})
        request_id = cs.last("CustomerInformation")["requestId"]
        await notify_customer(cs, request_id, "Holder: Jane Doe; ", "last session 2026-02-28")

    assert cs.last("CustomerInformation") == {
        "requestId": request_id,
        "report": True,
        "clear": False,
        "idToken": {"idToken": CARD, "type": "ISO14443"},
    }
    assert log.status == "accepted"
    assert await customer_data(db_call, org, station, request_id) == {
        "request_id": request_id,
        "parts": 2,
        "complete": True,
        "data": "Holder: Jane Doe; last session 2026-02-28",
    }


async def test_tc_n_28_customer_information_without_data(ocpp_server, station, db_call, org):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await run("customer_information", {"customer_identifier": "customer-17"})
        request_id = cs.last("CustomerInformation")["requestId"]
        await notify_customer(cs, request_id, "")

    assert cs.last("CustomerInformation")["customerIdentifier"] == "customer-17"
    data = await customer_data(db_call, org, station, request_id)
    assert (data["parts"], data["complete"], data["data"]) == (1, True, "")


async def test_tc_n_29_customer_information_not_accepted(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        cs.answers["CustomerInformation"] = "Invalid"
        log = await run("customer_information", {"id_token": CARD})

    assert (log.status, log.response) == ("rejected", {"status": "Invalid"})
    assert await db_call(CustomerInformationPart.objects.count) == 0


@pytest.mark.parametrize("parts", [("card 04A1B2C3D4E5F6 removed",), ("",)], ids=["data", "none"])
async def test_tc_n_30_31_clear_and_report_customer_information(
    ocpp_server, station, db_call, org, parts
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        log = await run("customer_information", {"id_token": CARD, "clear": True})
        request_id = cs.last("CustomerInformation")["requestId"]
        await notify_customer(cs, request_id, *parts)

    sent = cs.last("CustomerInformation")
    assert (sent["report"], sent["clear"]) == (True, True)
    assert log.status == "accepted"
    assert (await customer_data(db_call, org, station, request_id))["data"] == parts[0]


async def test_tc_n_32_clear_without_a_report(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        log = await run("customer_information", {"id_token": CARD, "report": False, "clear": True})

    sent = cs.last("CustomerInformation")
    assert (sent["report"], sent["clear"], sent["idToken"]["idToken"]) == (False, True, CARD)
    assert log.status == "accepted"


async def test_tc_n_62_clear_and_report_by_customer_identifier(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await run("customer_information", {"customer_identifier": "customer-17", "clear": True})

    sent = cs.last("CustomerInformation")
    assert (sent["customerIdentifier"], sent["clear"], sent["report"]) == (
        "customer-17",
        True,
        True,
    )
    assert "idToken" not in sent and "customerCertificate" not in sent


async def test_tc_n_63_clear_and_report_by_customer_certificate(ocpp_server, station):
    certificate = {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": "a" * 64,
        "issuer_key_hash": "b" * 64,
        "serial_number": "0A1B2C",
    }
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await run("customer_information", {"customer_certificate": certificate, "clear": True})

    assert cs.last("CustomerInformation")["customerCertificate"] == {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "a" * 64,
        "issuerKeyHash": "b" * 64,
        "serialNumber": "0A1B2C",
    }


async def test_customer_information_names_the_customer_exactly_one_way(transactional_db, station):
    for params in ({}, {"id_token": CARD, "customer_identifier": "c-1"}, {"id_token": CARD,
                   "report": False, "clear": False}):  # fmt: skip
        with pytest.raises(InvalidCommandParameters):
            await run("customer_information", params)


async def test_tc_n_46_clearing_a_customer_then_the_local_list_drops_the_card(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=MonitoredStation) as cs:
        await run("send_local_list", {"update_type": "Full"})
        cleared = await run("customer_information", {"id_token": CARD, "clear": True})
        # The operator removes the customer's card from the platform, then updates the list
        # (send_local_list is the local list's own command).
        await db_call(lambda: IdToken.objects.filter(uid=CARD).delete())
        listed = await run("send_local_list", {"update_type": "Differential"})

    assert cleared.status == "accepted"
    assert cs.last("SendLocalList") == {
        "versionNumber": 2,
        "updateType": "Differential",
        "localAuthorizationList": [{"idToken": {"idToken": CARD, "type": "ISO14443"}}],
    }
    assert listed.status == "accepted"


# --- the control panel -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_control_panel_offers_the_monitoring_commands_to_a_201_station(org):
    station = ChargingStationFactory(
        organization=org, ocpp_version="ocpp2.0.1", connection_state="online"
    )
    client = portal_client(org, Role.ADMIN)

    page = client.get(org_url(org, f"stations/{station.pk}/"))
    confirm = client.post(
        org_url(org, f"stations/{station.pk}/commands/"),
        {"command": "clear_variable_monitoring", "monitor_ids": "3, 4"},
    )

    assert page.status_code == 200
    for label in (
        "Set monitoring level",
        "Get monitoring report",
        "Get log",
        "Customer information",
    ):
        assert label in page.content.decode()
    assert confirm.status_code == 200
    assert confirm.context["confirm"].params() == {"monitor_ids": ["3", "4"]}


@pytest.mark.django_db
def test_the_control_panel_tells_a_16_station_that_monitoring_is_for_201(org):
    station = ChargingStationFactory(
        organization=org, ocpp_version="ocpp1.6", connection_state="online"
    )

    page = portal_client(org, Role.ADMIN).get(org_url(org, f"stations/{station.pk}/"))

    assert "Only for OCPP 2.0.1 stations." in page.content.decode()
