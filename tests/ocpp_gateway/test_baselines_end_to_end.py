"""Baselines over real OCPP sockets: drift found and corrected (1.6 and 2.0.1), first-boot apply."""

import asyncio
from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.routing import after, on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as call_result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from alerts.choices import RuleKind
from alerts.models import Alert, AlertRule
from baselines.choices import RunStatus, RunTrigger
from baselines.models import BaselineRun, StationDrift
from ocpp_gateway.remote import Actor, execute_command
from organizations.choices import Role
from stations.models import ChargingStation
from tests.apiclients import client_as
from tests.baselines.factories_baselines import make_baseline
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import (
    Station,
    Station201,
    connected_station,
    connected_station201,
    until,
)

OWNER = Actor(role=Role.OWNER)
# Long enough for a loaded CI machine; the waits end as soon as the thing happened.
PATIENCE = 20.0


class ConfiguredStation(Station):
    """A 1.6 station with configuration keys it reports and changes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config = {"HeartbeatInterval": "900", "MeterValueSampleInterval": "60"}

    @on(Action16.get_configuration)
    def on_get_configuration(self, key=None, **_):
        keys = key or list(self.config)
        return call_result16.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": False, "value": self.config[k]}
                for k in keys
                if k in self.config
            ]
        )

    @on(Action16.change_configuration)
    def on_change_configuration(self, key, value, **_):
        self.config[key] = value
        return call_result16.ChangeConfiguration(status="Accepted")


class DeviceModelStation(Station201):
    """A 2.0.1 station with a small device model it reports, reads and writes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = {("OCPPCommCtrlr", "HeartbeatInterval"): "30"}
        self.release = asyncio.Event()
        self.reported = asyncio.Event()

    @on(Action.get_base_report)
    def on_get_base_report(self, request_id, report_base, **_):
        return call_result.GetBaseReport(status="Accepted")

    @after(Action.get_base_report)
    async def send_report(self, request_id, report_base, **_):
        # Once the test saw the answer recorded: the report comes after it, as stations do.
        await asyncio.wait_for(self.release.wait(), PATIENCE)
        data = [
            {
                "component": {"name": component},
                "variable": {"name": variable},
                "variable_attribute": [{"type": "Actual", "value": value}],
            }
            for (component, variable), value in self.model.items()
        ]
        stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        await self.call(
            call.NotifyReport(request_id=request_id, generated_at=stamp, seq_no=0, report_data=data)
        )
        self.reported.set()

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data, **_):
        results = []
        for item in set_variable_data:
            key = (item["component"]["name"], item["variable"]["name"])
            status = "Accepted" if key in self.model else "UnknownVariable"
            if status == "Accepted":
                self.model[key] = item["attribute_value"]
            results.append(
                {
                    "attribute_status": status,
                    "component": item["component"],
                    "variable": item["variable"],
                }
            )
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data, **_):
        return call_result.GetVariables(
            get_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "component": item["component"],
                    "variable": item["variable"],
                    "attribute_value": self.model[
                        (item["component"]["name"], item["variable"]["name"])
                    ],
                }
                for item in get_variable_data
            ]
        )


async def in_thread(fn):
    """Run sync code as a view or a worker would: in a thread of its own, while the loop serves."""

    def run():
        try:
            return fn()
        finally:
            connections.close_all()

    return await sync_to_async(run, thread_sensitive=False)()


def command(identity: str, name: str, params: dict):
    return lambda: execute_command(
        ChargingStation.objects.get(ocpp_id=identity), name, params, actor=OWNER
    )


def finished_run(**filters):
    return lambda: BaselineRun.objects.filter(finished__isnull=False, **filters).first()


async def apply_to_drifting(org, baseline, db_call):
    api = await db_call(client_as, org, Role.OPERATOR)
    response = await in_thread(
        lambda: api.post(
            f"/api/v1/configuration-baselines/{baseline.pk}/apply/",
            {"drifting": True},
            format="json",
        )
    )
    assert response.status_code == 202, response.json()
    return response.json()["runs"]


async def test_a_16_station_drifts_is_corrected_and_a_new_station_gets_the_first_boot_baseline(
    ocpp_server, org, db_call, eager_celery
):
    await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-BL-16", connectors=0)
    await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-BL-NEW", connectors=0)
    await db_call(
        AlertRule.objects.create, organization=org, kind=RuleKind.CONFIGURATION_DRIFT, name="d"
    )
    baseline = await db_call(make_baseline, org, "HeartbeatInterval = 300", vendor="ABB")
    await db_call(
        make_baseline,
        org,
        "MeterValueSampleInterval = 15",
        vendor="Alpitronic",
        apply_at_first_boot=True,
    )

    async with connected_station(ocpp_server, "CS-BL-16", cls=ConfiguredStation) as cp:
        await cp.call(call16.BootNotification(charge_point_vendor="ABB", charge_point_model="X"))
        # The configuration read: the station says 900 where the baseline wants 300.
        await in_thread(command("CS-BL-16", "get_configuration", {}))
        drift = await db_call(StationDrift.objects.get)
        assert drift.keys[0] | {"reported_at": None} == {
            "key": "HeartbeatInterval",
            "desired": "300",
            "reported": "900",
            "reported_at": None,
        }
        assert (
            await db_call(Alert.objects.live().filter(kind=RuleKind.CONFIGURATION_DRIFT).count) == 1
        )

        [run] = await apply_to_drifting(org, baseline, db_call)
        done = await until(finished_run(pk=run["id"]), db_call)
        assert done.status == RunStatus.ACCEPTED
        assert cp.config["HeartbeatInterval"] == "300"
        assert not await db_call(StationDrift.objects.exists)
        assert not await db_call(Alert.objects.live().exists)
        # ABB's baseline is not for first boots: the station's own first boot sent nothing more.
        assert await db_call(BaselineRun.objects.count) == 1

    async with connected_station(ocpp_server, "CS-BL-NEW", cls=ConfiguredStation) as new:
        await new.call(
            call16.BootNotification(charge_point_vendor="Alpitronic", charge_point_model="HYC")
        )
        first = await until(finished_run(station__ocpp_id="CS-BL-NEW"), db_call)
        assert (first.trigger, first.status) == (RunTrigger.FIRST_BOOT, RunStatus.ACCEPTED)
        assert new.config["MeterValueSampleInterval"] == "15"
        # A second boot is no first boot.
        await new.call(
            call16.BootNotification(charge_point_vendor="Alpitronic", charge_point_model="HYC")
        )
    assert await db_call(BaselineRun.objects.filter(station__ocpp_id="CS-BL-NEW").count) == 1


async def test_a_201_station_drifts_in_its_report_and_set_variables_corrects_it(
    ocpp_server, org, db_call, eager_celery
):
    await db_call(ChargingStationFactory, organization=org, ocpp_id="CS-BL-201", connectors=0)
    baseline = await db_call(
        make_baseline, org, "OCPPCommCtrlr/HeartbeatInterval = 300", vendor="ACME"
    )
    async with connected_station201(ocpp_server, "CS-BL-201", cls=DeviceModelStation) as cs:
        await cs.call(
            call.BootNotification(
                charging_station={"model": "W2", "vendor_name": "ACME"}, reason="PowerUp"
            )
        )
        await in_thread(
            command("CS-BL-201", "get_base_report", {"report_base": "ConfigurationInventory"})
        )
        cs.release.set()
        drift = await until(StationDrift.objects.first, db_call)
        assert (drift.keys[0]["key"], drift.keys[0]["reported"]) == (
            "OCPPCommCtrlr/HeartbeatInterval",
            "30",
        )

        [run] = await apply_to_drifting(org, baseline, db_call)
        done = await until(finished_run(pk=run["id"]), db_call)
        assert done.status == RunStatus.ACCEPTED
        assert cs.model[("OCPPCommCtrlr", "HeartbeatInterval")] == "300"
        assert not await db_call(StationDrift.objects.exists)
