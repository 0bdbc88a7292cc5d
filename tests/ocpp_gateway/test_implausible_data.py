"""Implausible station clocks and registers over a real OCPP 1.6 socket; retransmissions."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from ocpp.v16 import call
from ocpp.v16.enums import Reason

from billing.models import ChargeDetailRecord, TariffAssignment
from organizations.choices import Role
from sessions_app.models import ChargingSession, MeterValue
from tests.factories import ChargingStationFactory, IdTokenFactory, TariffFactory
from tests.ocpp_gateway.conftest import connected_station
from tests.portalclients import org_url, portal_client

IDENTITY = "CS-IMPLAUSIBLE"
CARD = "04BADC10C001"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def charging_station(db_call, org):
    def build():
        station = ChargingStationFactory(organization=org, ocpp_id=IDENTITY)
        IdTokenFactory(organization=org, uid=CARD)
        tariff = TariffFactory(organization=org)
        TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
        return station

    return await db_call(build)


async def test_a_start_dated_9999_is_stored_at_server_time_with_the_correction_and_held(
    ocpp_server, db_call, org, eager_celery
):
    await charging_station(db_call, org)
    far_future = "9999-12-31T23:59:59Z"
    before = timezone.now()

    async with connected_station(ocpp_server, IDENTITY) as cp:
        start = call.StartTransaction(
            connector_id=1, id_tag=CARD, meter_start=1000, timestamp=far_future
        )
        first = await cp.call(start)
        # Its answer was lost: the station sends the same StartTransaction again.
        again = await cp.call(start)

    session = await db_call(ChargingSession.objects.get, station__ocpp_id=IDENTITY)
    assert first.transaction_id == again.transaction_id == int(session.transaction_id)
    assert before <= session.start <= timezone.now()
    [correction] = session.corrections
    assert (correction["field"], correction["sent"]) == ("start", "9999-12-31T23:59:59+00:00")
    assert session.needs_review and "station clock implausible" in session.review_reason

    page = await db_call(
        lambda: portal_client(org, Role.VIEWER).get(org_url(org, f"sessions/{session.pk}/"))
    )
    assert page.status_code == 200 and b"9999-12-31T23:59:59" in page.content


async def test_negative_registers_over_ocpp_are_held_for_review_and_not_billed(
    ocpp_server, db_call, org, eager_celery
):
    await charging_station(db_call, org)
    now = timezone.now()

    async with connected_station(ocpp_server, IDENTITY) as cp:
        start = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag=CARD, meter_start=-1_000_000_000,
                timestamp=stamp(now - timedelta(minutes=30)),
            )
        )  # fmt: skip
        await cp.call(
            call.StopTransaction(
                transaction_id=start.transaction_id, meter_stop=0, timestamp=stamp(now),
                reason=Reason.local,
            )
        )  # fmt: skip

    session = await db_call(ChargingSession.objects.get, station__ocpp_id=IDENTITY)
    assert session.needs_review
    assert "meter start is negative" in session.review_reason
    assert not await db_call(ChargeDetailRecord.objects.filter(session=session).exists)


async def test_retransmitted_meter_values_store_no_duplicate_rows(ocpp_server, db_call, org):
    await charging_station(db_call, org)
    now = timezone.now()
    sampled = [
        {"value": "1500", "measurand": "Energy.Active.Import.Register"},
        {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW", "phase": "L1"},
    ]

    async with connected_station(ocpp_server, IDENTITY) as cp:
        start = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag=CARD, meter_start=1000,
                timestamp=stamp(now - timedelta(minutes=5)),
            )
        )  # fmt: skip
        values = call.MeterValues(
            connector_id=1,
            transaction_id=start.transaction_id,
            meter_value=[{"timestamp": stamp(now), "sampledValue": sampled}],
        )
        await cp.call(values)
        # No answer reached the station (or it got an InternalError): it sends them again.
        await cp.call(values)
        await cp.call(values)

    assert await db_call(MeterValue.objects.count) == 2


async def test_far_past_meter_values_are_stored_at_server_time(ocpp_server, db_call, org, settings):
    settings.OCPP_TIMESTAMP_MAX_AGE_DAYS = 60
    await charging_station(db_call, org)
    before = timezone.now()

    async with connected_station(ocpp_server, IDENTITY) as cp:
        await cp.call(
            call.MeterValues(
                connector_id=1,
                meter_value=[
                    {"timestamp": "1970-01-01T00:00:00Z", "sampledValue": [{"value": "10"}]}
                ],
            )
        )

    stored = await db_call(MeterValue.objects.get)
    assert before <= stored.timestamp <= timezone.now()
