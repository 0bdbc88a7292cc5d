"""From the wire to the bill: an OCPP 1.6 station charges, the API shows the priced session."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ocpp.v16 import call
from ocpp.v16.enums import AuthorizationStatus, Reason

from billing.models import TariffAssignment
from organizations.choices import Role
from sessions_app.models import ChargingSession
from tests.apiclients import client_as
from tests.factories import (
    AccessGroupFactory,
    ChargingStationFactory,
    IdTokenFactory,
    TariffFactory,
)
from tests.ocpp_gateway.conftest import connected_station

IDENTITY = "CS-E2E-BILL"
CARD = "04E2E0000001"
# 21:30 in Berlin (UTC+1 in January), half an hour before the night price starts.
START = datetime(2026, 1, 15, 20, 30, tzinfo=UTC)
NIGHT_AND_DAY = [
    {
        "price_components": [{"type": "ENERGY", "price": "0.29"}],
        "restrictions": {"start_time": "22:00", "end_time": "06:00"},
    },
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.39"},
            {"type": "FLAT", "price": "0.50"},
            {"type": "PARKING_TIME", "price": "2.40"},
        ]
    },
]


def ts(minutes: int) -> str:
    """An OCPP timestamp `minutes` after the session start."""
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def energy(transaction_id: int, minutes: int, wh: int):
    return call.MeterValues(
        connector_id=1,
        transaction_id=transaction_id,
        meter_value=[
            {
                "timestamp": ts(minutes),
                "sampledValue": [
                    {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                ],
            }
        ],
    )


def energy_per_phase(transaction_id: int, minutes: int, kwh_per_phase: str):
    sampled = [
        {
            "value": kwh_per_phase,
            "measurand": "Energy.Active.Import.Register",
            "phase": phase,
            "unit": "kWh",
        }
        for phase in ("L1", "L2", "L3")
    ]
    return call.MeterValues(
        connector_id=1,
        transaction_id=transaction_id,
        meter_value=[{"timestamp": ts(minutes), "sampledValue": sampled}],
    )


@pytest.fixture
async def priced_station(db_call, org):
    """A station of `org` with a day/night tariff as the org default, and a driver's card."""

    def build():
        station = ChargingStationFactory(organization=org, ocpp_id=IDENTITY)
        group = AccessGroupFactory(organization=org, name="Drivers")
        station.site.access_groups.add(group)
        IdTokenFactory(organization=org, uid=CARD, access_groups=[group])
        tariff = TariffFactory(organization=org, elements=NIGHT_AND_DAY, tax_rate="19.00")
        TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
        return station

    return await db_call(build)


async def test_a_charged_session_is_rated_and_its_cost_is_the_cdr_total(
    ocpp_server, priced_station, db_call, eager_celery, org, other_org
):
    async with connected_station(ocpp_server, IDENTITY) as cp:
        await cp.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X"))
        auth = await cp.call(call.Authorize(id_tag=CARD))
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=CARD, meter_start=50_000, timestamp=ts(0))
        )
        tx = start.transaction_id
        await cp.call(energy(tx, 15, 53_000))
        await cp.call(energy(tx, 30, 56_400))
        await cp.call(energy_per_phase(tx, 45, "20.000"))
        await cp.call(energy(tx, 60, 62_000))
        # Full at 22:30; the car stays plugged in for a quarter of an hour more.
        stop = await cp.call(
            call.StopTransaction(
                transaction_id=tx,
                meter_stop=62_000,
                timestamp=ts(75),
                reason=Reason.ev_disconnected,
            )
        )
    assert (auth.id_tag_info["status"], start.id_tag_info["status"]) == (
        AuthorizationStatus.accepted,
        AuthorizationStatus.accepted,
    )
    assert stop is not None
    session = await db_call(ChargingSession.objects.get, station__ocpp_id=IDENTITY)

    # By hand: 21:30–22:00 local 6.4 kWh × 0.39 = 2.496 → 2.50; 22:00–22:30 5.6 kWh × 0.29 =
    # 1.624 → 1.62; idle 22:30–22:45, 0.25 h × 2.40 = 0.60; session fee 0.50. 5.22 excl. tax,
    # tax 19 % = 0.9918 → 0.99, 6.21 in all.
    def read_api():
        viewer = client_as(org, Role.VIEWER)
        return (
            viewer.get("/api/v1/charge-detail-records/"),
            viewer.get(f"/api/v1/sessions/{session.pk}/"),
            client_as(other_org, Role.OWNER).get("/api/v1/charge-detail-records/"),
        )

    cdrs, detail, outsider = await db_call(read_api)
    assert cdrs.status_code == 200, cdrs.data
    [cdr] = cdrs.data["results"]
    assert (cdr["session"], cdr["kind"], cdr["currency"]) == (session.pk, "charge", "EUR")
    assert (cdr["energy_wh"], cdr["charging_seconds"], cdr["idle_seconds"]) == (12_000, 3600, 900)
    assert [(c["component"], c["amount"]) for c in cdr["components"]] == [
        ("ENERGY", "2.50"),
        ("ENERGY", "1.62"),
        ("PARKING_TIME", "0.60"),
        ("FLAT", "0.50"),
    ]
    totals = (cdr["total_excl_tax"], cdr["tax_amount"], cdr["total_incl_tax"])
    assert tuple(Decimal(value) for value in totals) == (
        Decimal("5.22"),
        Decimal("0.99"),
        Decimal("6.21"),
    )
    assert detail.status_code == 200, detail.data
    assert (Decimal(detail.data["cost"]), detail.data["currency"]) == (Decimal("6.21"), "EUR")
    assert outsider.data["results"] == []
