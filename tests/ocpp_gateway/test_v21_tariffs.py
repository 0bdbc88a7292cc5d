"""OCPP 2.1 tariffs: the organization's tariffs pushed to a 2.1 station, refused for older ones."""

from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.routing import on
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call, call_result
from ocpp.v21.enums import Action

from billing.models import TariffAssignment
from ocpp_gateway.remote import Actor, CommandNotAllowed, check_command, execute_command
from ocpp_gateway.v21.tariffs import tariff_type
from organizations.choices import Role
from sessions_app.models import ChargingSession
from stations.models import ChargingStation
from tests.apiclients import client_as
from tests.factories import (
    AccessGroupFactory,
    ChargingStationFactory,
    IdTokenFactory,
    TariffFactory,
    energy_elements,
)
from tests.ocpp_gateway.conftest import connected_station201

IDENTITY = "CS-21-TARIFF"
CARD = "04TARIFF0021"
OPERATOR, ADMIN = Actor(role=Role.OPERATOR), Actor(role=Role.ADMIN)
NIGHT_AND_DAY = [
    {
        "price_components": [{"type": "ENERGY", "price": "0.29"}],
        "restrictions": {"start_time": "22:00", "end_time": "06:00", "day_of_week": ["MONDAY"]},
    },
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.39"},
            {"type": "FLAT", "price": "0.50"},
            {"type": "PARKING_TIME", "price": "2.40"},
            {"type": "TIME", "price": "1.20"},
        ]
    },
]


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class TariffStation(ChargePoint21):
    """A 2.1 station that takes tariffs and remembers what it was sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []

    @on(Action.set_default_tariff)
    def on_set_default_tariff(self, **kwargs):
        self.received.append(("SetDefaultTariff", kwargs))
        return call_result.SetDefaultTariff(status="Accepted")

    @on(Action.get_tariffs)
    def on_get_tariffs(self, **kwargs):
        self.received.append(("GetTariffs", kwargs))
        return call_result.GetTariffs(
            status="Accepted",
            tariff_assignments=[{"tariff_id": "1", "tariff_kind": "DefaultTariff"}],
        )

    @on(Action.clear_tariffs)
    def on_clear_tariffs(self, **kwargs):
        self.received.append(("ClearTariffs", kwargs))
        return call_result.ClearTariffs(
            clear_tariffs_result=[{"tariff_id": "1", "status": "Accepted"}]
        )

    @on(Action.change_transaction_tariff)
    def on_change_transaction_tariff(self, **kwargs):
        self.received.append(("ChangeTransactionTariff", kwargs))
        return call_result.ChangeTransactionTariff(status="Accepted")


@pytest.fixture
async def setup(db_call, org, other_org):
    def build():
        station = ChargingStationFactory(organization=org, ocpp_id=IDENTITY)
        group = AccessGroupFactory(organization=org)
        station.site.access_groups.add(group)
        IdTokenFactory(organization=org, uid=CARD, access_groups=[group])
        tariff = TariffFactory(
            organization=org, name="Day and night", elements=NIGHT_AND_DAY, tax_rate="19.00"
        )
        TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
        flat = TariffFactory(
            organization=org, name="Flat", elements=energy_elements("0.35"), tax_rate="19.00"
        )
        theirs = TariffFactory(organization=other_org, name="Theirs")
        return station, tariff, flat, theirs

    return await db_call(build)


async def run(name, params, actor=ADMIN):
    """A command from a worker thread, as a server runs it, while the loop serves OCPP."""

    def work():
        try:
            station = ChargingStation.objects.get(ocpp_id=IDENTITY)
            return execute_command(station, name, params, actor=actor)
        finally:
            connections.close_all()

    return await sync_to_async(work, thread_sensitive=False)()


def test_a_tariff_becomes_a_21_tariff_type_with_its_conditions_and_tax():
    definition = TariffFactory.build(elements=NIGHT_AND_DAY, tax_rate="19.00").definition()
    shaped = tariff_type("7", definition, "Day and night")
    assert shaped["tariffId"] == "7" and shaped["currency"] == "EUR"
    assert shaped["energy"]["prices"] == [
        {
            "priceKwh": 0.29,
            "conditions": {
                "startTimeOfDay": "22:00",
                "endTimeOfDay": "06:00",
                "dayOfWeek": ["Monday"],
            },
        },
        {"priceKwh": 0.39},
    ]
    # OCPI prices time per hour, 2.1 per minute.
    assert shaped["idleTime"]["prices"] == [{"priceMinute": 0.04}]
    assert shaped["chargingTime"]["prices"] == [{"priceMinute": 0.02}]
    assert shaped["fixedFee"]["prices"] == [{"priceFixed": 0.5}]
    assert shaped["energy"]["taxRates"] == [{"type": "VAT", "tax": 19.0}]


async def test_tariffs_are_pushed_read_and_cleared_on_a_21_station(ocpp_server, setup):
    _, tariff, _, theirs = setup
    async with connected_station201(
        ocpp_server, IDENTITY, cls=TariffStation, subprotocol="ocpp2.1"
    ) as cs:
        await cs.call(
            call.BootNotification(
                charging_station={"model": "W21", "vendor_name": "ACME"}, reason="PowerUp"
            )
        )
        pushed = await run("set_default_tariff", {"tariff": tariff.pk})
        read = await run("get_tariffs", {}, actor=OPERATOR)
        cleared = await run("clear_tariffs", {"tariff_ids": [str(tariff.pk)]})
        with pytest.raises(Exception) as refused:
            await run("set_default_tariff", {"tariff": theirs.pk})
    assert (pushed.status, read.status, cleared.status) == ("accepted",) * 3
    (_, sent), (_, asked), (_, clear) = cs.received
    assert sent["evse_id"] == 0
    assert sent["tariff"]["tariff_id"] == str(tariff.pk)
    assert sent["tariff"]["description"] == [{"format": "UTF8", "content": "Day and night"}]
    assert asked == {"evse_id": 0}
    assert clear == {"tariff_ids": [str(tariff.pk)]}
    # Another organization's tariff is a field error, as one that does not exist.
    assert "tariff" in refused.value.errors


async def test_a_running_21_transaction_changes_tariff(ocpp_server, setup):
    flat = setup[2]
    async with connected_station201(
        ocpp_server, IDENTITY, cls=TariffStation, subprotocol="ocpp2.1"
    ) as cs:
        await cs.call(
            call.BootNotification(
                charging_station={"model": "W21", "vendor_name": "ACME"}, reason="PowerUp"
            )
        )
        # The 2.1 TransactionEvent goes through the 2.0.1 handler; its answer fits 2.1's schema.
        started = await cs.call(
            call.TransactionEvent(
                event_type="Started",
                timestamp=now(),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": "TX-21-1", "charging_state": "Charging"},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": CARD, "type": "ISO14443"},
            )
        )
        assert started.id_token_info["status"] == "Accepted"
        changed = await run("change_transaction_tariff", {"tariff": flat.pk})
    assert changed.status == "accepted"
    assert changed.session.transaction_id == "TX-21-1"
    (_, sent) = cs.received[-1]
    assert sent["transaction_id"] == "TX-21-1"
    assert sent["tariff"]["energy"]["prices"] == [{"price_kwh": 0.35}]


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
def test_tariff_commands_are_only_for_21_stations(db, org, version):
    station = ChargingStationFactory(
        organization=org, ocpp_version=version, connection_state="online"
    )
    tariff = TariffFactory(organization=org)
    check = check_command(station, "set_default_tariff", ADMIN)
    assert check.reason == "Only for OCPP 2.1 stations."
    with pytest.raises(CommandNotAllowed, match=r"Only for OCPP 2\.1 stations\."):
        execute_command(station, "set_default_tariff", {"tariff": tariff.pk}, actor=ADMIN)
    # What 2.0.1 has, 2.1 has too: those commands still name 2.0.1 alone.
    if version == "ocpp1.6":
        assert (
            check_command(station, "get_variables", OPERATOR).reason
            == "Only for OCPP 2.0.1 stations."
        )


async def test_what_a_21_transaction_adds_is_shown_with_its_events(
    ocpp_server, setup, db_call, org
):
    tariff = setup[1]
    async with connected_station201(
        ocpp_server, IDENTITY, cls=TariffStation, subprotocol="ocpp2.1"
    ) as cs:
        await cs.call(
            call.BootNotification(
                charging_station={"model": "W21", "vendor_name": "ACME"}, reason="PowerUp"
            )
        )
        await cs.call(
            call.TransactionEvent(
                event_type="Started",
                timestamp=now(),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={
                    "transaction_id": "TX-21-2",
                    "tariff_id": str(tariff.pk),
                    "transaction_limit": {"max_cost": 20.0, "max_energy": 30000.0},
                },
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": CARD, "type": "ISO14443"},
            )
        )
        await cs.call(
            call.TransactionEvent(
                event_type="Ended",
                timestamp=now(),
                trigger_reason="StopAuthorized",
                seq_no=1,
                transaction_info={"transaction_id": "TX-21-2", "stopped_reason": "Local"},
                cost_details={
                    "total_cost": {
                        "currency": "EUR",
                        "type_of_cost": "NormalCost",
                        "total": {"excl_tax": 4.2, "incl_tax": 5.0},
                    },
                    "total_usage": {"energy": 12000.0, "charging_time": 3600, "idle_time": 0},
                },
            )
        )

    def read():
        session = ChargingSession.objects.get(transaction_id="TX-21-2")
        return client_as(org, Role.VIEWER).get(f"/api/v1/sessions/{session.pk}/")

    response = await db_call(read)
    assert response.status_code == 200, response.data
    started, ended = response.data["transaction_events"]
    assert started["tariff_id"] == str(tariff.pk)
    assert started["transaction_limit"] == {"maxCost": 20.0, "maxEnergy": 30000.0}
    assert ended["cost_details"]["totalCost"]["total"] == {"exclTax": 4.2, "inclTax": 5.0}
