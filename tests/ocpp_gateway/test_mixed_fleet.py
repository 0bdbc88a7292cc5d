"""A 1.6 and a 2.0.1 station on one site: both charge, are controlled, priced, invoiced, summed."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from billing.invoicing import close_period
from billing.models import ChargeDetailRecord, InvoiceLine, TariffAssignment
from ocpp_gateway.models import CommandLog
from organizations.choices import Role
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession
from tests.apiclients import client_as
from tests.factories import (
    AccessGroupFactory,
    ChargingStationFactory,
    IdTokenFactory,
    TariffFactory,
    energy_elements,
)
from tests.ocpp_gateway.conftest import (
    Station,
    Station201,
    connected_station,
    connected_station201,
)
from tests.portalclients import org_url, portal_client

ID16, ID201 = "CS-MIX-16", "CS-MIX-201"
CARD16, CARD201 = "04MIX0000016", "04MIX0000201"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def ts(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


class Station16(Station):
    """A 1.6 station that accepts remote stops and resets and remembers them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []

    @on(Action16.remote_stop_transaction)
    def on_remote_stop(self, transaction_id, **_):
        self.received.append(("RemoteStopTransaction", transaction_id))
        return result16.RemoteStopTransaction(status="Accepted")

    @on(Action16.reset)
    def on_reset(self, type, **_):
        self.received.append(("Reset", type))
        return result16.Reset(status="Accepted")


class Station2(Station201):
    """A 2.0.1 station that accepts remote stops and resets and remembers them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []

    @on(Action201.request_stop_transaction)
    def on_request_stop(self, transaction_id, **_):
        self.received.append(("RequestStopTransaction", transaction_id))
        return result201.RequestStopTransaction(status="Accepted")

    @on(Action201.reset)
    def on_reset(self, type, **_):
        self.received.append(("Reset", type))
        return result201.Reset(status="Accepted")


@pytest.fixture
async def fleet(db_call, org):
    """Two stations of `org` on one site, a card for each, an energy tariff for the org."""

    def build():
        first = ChargingStationFactory(organization=org, ocpp_id=ID16)
        second = ChargingStationFactory(organization=org, ocpp_id=ID201, site=first.site)
        group = AccessGroupFactory(organization=org, name="Drivers")
        first.site.access_groups.add(group)
        IdTokenFactory(organization=org, uid=CARD16, access_groups=[group])
        IdTokenFactory(organization=org, uid=CARD201, access_groups=[group])
        tariff = TariffFactory(
            organization=org, elements=energy_elements("0.4000"), tax_rate="19.00"
        )
        TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
        return first, second

    return await db_call(build)


async def in_thread(request):
    """A request from a worker thread, as a server makes it, while the loop serves OCPP."""

    def run():
        try:
            return request()
        finally:
            connections.close_all()

    return await sync_to_async(run, thread_sensitive=False)()


def energy201(wh: int, minutes: int, context: str) -> list[dict]:
    return [
        {
            "timestamp": ts(minutes),
            "sampled_value": [
                {
                    "value": wh,
                    "measurand": "Energy.Active.Import.Register",
                    "context": context,
                    "unit_of_measure": {"unit": "Wh"},
                }
            ],
        }
    ]


def transaction_event(event_type, minutes, seq_no, trigger, **fields):
    return call201.TransactionEvent(
        event_type=event_type,
        timestamp=ts(minutes),
        trigger_reason=trigger,
        seq_no=seq_no,
        **fields,
    )


async def test_a_mixed_fleet_charges_is_controlled_priced_invoiced_and_summed(
    ocpp_server, fleet, db_call, eager_celery, org, other_org
):
    station16, station201 = fleet
    api = await db_call(client_as, org, Role.OPERATOR)
    portal = await db_call(portal_client, org, Role.OPERATOR)
    async with (
        connected_station(ocpp_server, ID16, cls=Station16) as cp16,
        connected_station201(ocpp_server, ID201, cls=Station2) as cs201,
    ):
        await cp16.call(
            call16.BootNotification(charge_point_vendor="ACME", charge_point_model="16")
        )
        await cp16.call(
            call16.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )
        await cs201.call(
            call201.BootNotification(
                charging_station={"model": "201", "vendor_name": "ACME"}, reason="PowerUp"
            )
        )
        await cs201.call(
            call201.StatusNotification(
                timestamp=ts(0), connector_status="Available", evse_id=1, connector_id=1
            )
        )

        # Both drivers start with their cards.
        start = await cp16.call(
            call16.StartTransaction(
                connector_id=1, id_tag=CARD16, meter_start=10_000, timestamp=ts(0)
            )
        )
        await cp16.call(
            call16.MeterValues(
                connector_id=1,
                transaction_id=start.transaction_id,
                meter_value=[
                    {
                        "timestamp": ts(30),
                        "sampledValue": [
                            {"value": "13000", "measurand": "Energy.Active.Import.Register"}
                        ],
                    }
                ],
            )
        )
        started = await cs201.call(
            transaction_event(
                "Started",
                0,
                0,
                "Authorized",
                transaction_info={"transaction_id": "TX-MIX-1", "charging_state": "Charging"},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": CARD201, "type": "ISO14443"},
                meter_value=energy201(20_000, 0, "Transaction.Begin"),
            )
        )
        assert started.id_token_info["status"] == "Accepted"
        await cs201.call(
            transaction_event(
                "Updated",
                30,
                1,
                "MeterValuePeriodic",
                transaction_info={"transaction_id": "TX-MIX-1", "charging_state": "Charging"},
                meter_value=energy201(24_000, 30, "Sample.Periodic"),
            )
        )
        running = await in_thread(lambda: api.get("/api/v1/sessions/", {"state": "active"}))
        assert running.status_code == 200, running.data
        assert {row["station"] for row in running.data["results"]} == {
            station16.pk,
            station201.pk,
        }

        # Both stopped from the API, each in its version's words.
        for station in (station16, station201):
            response = await in_thread(
                lambda station=station: api.post(
                    f"/api/v1/stations/{station.pk}/commands/",
                    {"command": "stop_charging"},
                    format="json",
                )
            )
            assert response.status_code == 200, response.data
            assert response.data["status"] == "accepted"
        assert cp16.received == [("RemoteStopTransaction", start.transaction_id)]
        assert cs201.received == [("RequestStopTransaction", "TX-MIX-1")]
        await cp16.call(
            call16.StopTransaction(
                transaction_id=start.transaction_id,
                meter_stop=16_000,
                timestamp=ts(60),
                reason="Remote",
            )
        )
        await cs201.call(
            transaction_event(
                "Ended",
                60,
                2,
                "RemoteStop",
                transaction_info={"transaction_id": "TX-MIX-1", "stopped_reason": "Remote"},
                meter_value=energy201(29_000, 60, "Transaction.End"),
            )
        )

        # Both restarted from the portal's control panel.
        for station in (station16, station201):
            response = await in_thread(
                lambda station=station: portal.post(
                    org_url(org, f"stations/{station.pk}/commands/"),
                    {"command": "restart_station", "type": "Soft", "confirm": "yes"},
                )
            )
            assert response.status_code == 200
        assert cp16.received[-1] == ("Reset", "Soft")
        assert cs201.received[-1] == ("Reset", "OnIdle")

    def outcome():
        sessions = {s.station_id: s for s in ChargingSession.objects.filter(organization=org)}
        cdrs = {
            c.session.station_id: c for c in ChargeDetailRecord.objects.select_related("session")
        }
        period = close_period(org, START - timedelta(days=1), datetime.now(UTC) + timedelta(days=1))
        lines = list(
            InvoiceLine.objects.filter(invoice__billing_period=period).select_related(
                "cdr__session"
            )
        )
        analytics = client_as(org, Role.VIEWER).get("/api/v1/analytics/", {"group_by": "site"})
        outsider = client_as(other_org, Role.OWNER).get("/api/v1/analytics/", {"group_by": "site"})
        logs = list(CommandLog.objects.order_by("pk").values_list("station_id", "action", "status"))
        return sessions, cdrs, lines, analytics, outsider, logs

    sessions, cdrs, lines, analytics, outsider, logs = await db_call(outcome)
    assert {pk: (s.state, s.energy_wh) for pk, s in sessions.items()} == {
        station16.pk: (SessionState.COMPLETED, 6_000),
        station201.pk: (SessionState.COMPLETED, 9_000),
    }
    # 6 kWh and 9 kWh at 0.40 plus 19 % tax.
    assert {pk: Decimal(c.total_incl_tax) for pk, c in cdrs.items()} == {
        station16.pk: Decimal("2.86"),
        station201.pk: Decimal("4.28"),
    }
    assert {line.cdr.session.station_id for line in lines} == {station16.pk, station201.pk}
    assert analytics.status_code == 200, analytics.data
    [site_row] = analytics.data["results"]
    assert (site_row["sessions"], site_row["energy_wh"]) == (2, 15_000)
    # The outsider's analytics hold none of it.
    assert outsider.status_code == 200, outsider.data
    assert sum(row["energy_wh"] for row in outsider.data["results"]) == 0
    assert [(pk, action) for pk, action, _ in logs] == [
        (station16.pk, "RemoteStopTransaction"),
        (station201.pk, "RequestStopTransaction"),
        (station16.pk, "Reset"),
        (station201.pk, "Reset"),
    ]
    assert {status for *_, status in logs} == {"accepted"}
