"""OCPI 2.2.1 CDRs of our CPO role: partners' drivers' sessions as billing priced them."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import ChargeDetailRecord, Tariff
from billing.services import rate_session
from roaming import tasks
from roaming.choices import Direction, InterfaceRole, Module, PushStatus, TokenType
from roaming.models import OcpiExchange, OcpiPush, PartnerCdr, RoamingToken
from roaming.ocpi import tokens
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.mapping import cdr_to_ocpi
from sessions_app.choices import AuthMethod, SessionState
from sessions_app.services import start_session, stop_session
from stations.choices import ConnectionState
from stations.models import Evse
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    MeterValueFactory,
    SiteFactory,
    TariffFactory,
    energy_elements,
)
from tests.roaming.conftest import connected_partner, make_profile

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
UID = "04A1B2C3"


def ocpi_get(client, partner, **params):
    url = f"/ocpi/{partner.organization.slug}/2.2.1/cpo/cdrs/"
    return client.get(url, params, HTTP_AUTHORIZATION=f"Token {tokens.encode(partner.token)}")


def roaming_station(organization, **fields):
    site = SiteFactory(
        organization=organization,
        name="Rathaus",
        roaming_enabled=True,
        latitude=Decimal("52.520008"),
        longitude=Decimal("13.404954"),
        street="Alexanderplatz 1",
        postal_code="10178",
    )
    return ChargingStationFactory(
        organization=organization, site=site, connection_state=ConnectionState.ONLINE, **fields
    )


def rated(partner, station=None, *, energy_wh=5000, minutes=30, **fields) -> ChargeDetailRecord:
    """The charge record of a finished session of one of the partner's drivers."""
    station = station or roaming_station(partner.organization, connectors=1)
    session = ChargingSessionFactory(
        station=station,
        roaming_partner=partner,
        id_tag=UID,
        auth_method=AuthMethod.ROAMING,
        start=START,
        stop=START + timedelta(minutes=minutes),
        meter_start=0,
        meter_stop=energy_wh,
        energy_wh=energy_wh,
        state=SessionState.COMPLETED,
        **fields,
    )
    return rate_session(session.pk)


@pytest.fixture
def profile(org):
    return make_profile(org, "DE", "CPO")


@pytest.fixture
def tariff(org):
    return TariffFactory(organization=org, elements=energy_elements("0.40"), tax_rate="19.00")


@pytest.fixture
def partner(org, profile, tariff):
    return connected_partner(org, tariff=tariff)


# --- mapping ------------------------------------------------------------------------------------


def test_a_cdr_is_valid_and_carries_the_totals_billing_computed(org, profile, partner, tariff):
    record = rated(partner)
    data = schemas.check("CDR", cdr_to_ocpi(record, profile, partner))
    # 5 kWh at the partner's 0.40 excl. VAT, 19 % VAT.
    assert data["total_cost"] == {"excl_vat": 2.0, "incl_vat": 2.38}
    assert (record.total_excl_tax, record.total_incl_tax) == (Decimal("2.00"), Decimal("2.38"))
    assert data["total_energy_cost"] == {"excl_vat": 2.0}
    assert (data["total_energy"], data["total_time"]) == (5.0, 0.5)
    assert (data["id"], data["session_id"]) == (str(record.pk), str(record.session_id))
    assert (data["start_date_time"], data["end_date_time"]) == (
        "2026-01-01T12:00:00Z",
        "2026-01-01T12:30:00Z",
    )
    assert data["currency"] == "EUR"
    assert [t["id"] for t in data["tariffs"]] == [str(tariff.pk)]
    assert {p["tariff_id"] for p in data["charging_periods"]} == {str(tariff.pk)}


def test_the_cdr_location_names_site_evse_and_connector(org, profile, partner):
    record = rated(partner)
    evse = Evse.objects.get(pk=record.session.connector.evse_id)
    location = cdr_to_ocpi(record, profile, partner)["cdr_location"]
    assert location == {
        "id": str(record.session.station.site_id),
        "name": "Rathaus",
        "address": "Alexanderplatz 1",
        "city": "Berlin",
        "postal_code": "10178",
        "country": "DEU",
        "coordinates": {"latitude": "52.520008", "longitude": "13.404954"},
        "evse_uid": str(evse.pk),
        "evse_id": evse.evse_id,
        "connector_id": "1",
        "connector_standard": "IEC_62196_T2",
        "connector_format": "SOCKET",
        "connector_power_type": "AC_3_PHASE",
    }


def test_the_cdr_keeps_the_tariff_as_it_priced_after_the_tariff_changed(
    org, profile, partner, tariff
):
    record = rated(partner)
    Tariff.objects.filter(pk=tariff.pk).update(elements=energy_elements("0.99"))
    (published,) = cdr_to_ocpi(record, profile, partner)["tariffs"]
    schemas.check("Tariff", published)
    assert published["elements"][0]["price_components"][0]["price"] == 0.4


def test_parking_is_published_with_its_time_and_cost(org, profile, partner, tariff):
    tariff.elements = [
        {
            "price_components": [
                {"type": "ENERGY", "price": "0.40", "step_size": 1},
                {"type": "PARKING_TIME", "price": "6.00", "step_size": 1},
            ]
        }
    ]
    tariff.save()
    station = roaming_station(org, connectors=1)
    session = ChargingSessionFactory(
        station=station,
        roaming_partner=partner,
        id_tag=UID,
        start=START,
        stop=START + timedelta(minutes=30),
        meter_start=0,
        meter_stop=5000,
        energy_wh=5000,
        state=SessionState.COMPLETED,
    )
    MeterValueFactory(session=session, timestamp=START + timedelta(minutes=20), value=5000)
    record = rate_session(session.pk)
    data = schemas.check("CDR", cdr_to_ocpi(record, profile, partner))
    assert data["total_parking_time"] == pytest.approx(10 / 60, abs=1e-6)
    assert data["total_parking_cost"] == {"excl_vat": float(record.idle_amount)}
    assert record.idle_amount == Decimal("1.00")
    kinds = [[d["type"] for d in p["dimensions"]] for p in data["charging_periods"]]
    assert kinds == [["ENERGY", "TIME"], ["PARKING_TIME"]]
    assert data["total_cost"]["excl_vat"] == float(record.total_excl_tax) == 3.0


def test_the_cdr_token_is_the_token_the_partner_published(org, profile, partner):
    RoamingToken.objects.create(
        organization=org,
        partner=partner,
        country_code="NL",
        party_id="MSP",
        ocpi_id=UID,
        last_updated=START,
        uid=UID,
        type=TokenType.RFID,
        contract_id="NL-MSP-C12345678",
        issuer="Mobility NL",
        whitelist="ALWAYS",
    )
    data = cdr_to_ocpi(rated(partner), profile, partner)
    assert data["cdr_token"]["contract_id"] == "NL-MSP-C12345678"
    assert data["auth_method"] == "WHITELIST"


# --- GET ----------------------------------------------------------------------------------------


def test_a_partner_sees_only_the_cdrs_of_its_own_drivers(org, partner, client):
    station = roaming_station(org, connectors=3)
    first, second, third = station.connectors.order_by("connector_id")
    ours = rated(partner, station, connector=first)
    other = connected_partner(org, "BE", "XYZ", tariff=partner.tariff)
    theirs = rated(other, station, connector=second)
    ChargingSessionFactory(station=station, connector=third)
    assert [c["id"] for c in ocpi_get(client, partner).json()["data"]] == [str(ours.pk)]
    assert [c["id"] for c in ocpi_get(client, other).json()["data"]] == [str(theirs.pk)]


def test_another_organizations_cdrs_are_never_listed(partner, other_org, client):
    theirs = connected_partner(other_org, tariff=TariffFactory(organization=other_org))
    rated(theirs)
    assert ocpi_get(client, partner).json()["data"] == []


def test_the_list_is_paged_filtered_and_valid(org, partner, client):
    station = roaming_station(org, connectors=3)
    records = [rated(partner, station, connector=c) for c in station.connectors.all()]
    ChargeDetailRecord.objects.filter(pk=records[0].pk).update(
        created=datetime(2026, 1, 1, tzinfo=UTC)
    )
    first = ocpi_get(client, partner, limit=2)
    assert first["X-Total-Count"] == "3"
    assert 'rel="next"' in first["Link"]
    for cdr in first.json()["data"]:
        schemas.check("CDR", cdr)
    recent = ocpi_get(client, partner, date_from="2026-02-01T00:00:00Z").json()["data"]
    assert [c["id"] for c in recent] == [str(r.pk) for r in records[1:]]


def test_a_bad_date_from_is_refused_with_2001(partner, client):
    answer = ocpi_get(client, partner, date_from="01.02.2026")
    assert (answer.status_code, answer.json()["status_code"]) == (400, 2001)


def test_listing_cdrs_costs_the_same_queries_for_many(
    org, partner, client, django_assert_max_num_queries
):
    station = roaming_station(org, connectors=4)
    for connector in station.connectors.all():
        rated(partner, station, connector=connector)
    # Organization, partner, profile; count, CDRs, tokens; the exchange log.
    with django_assert_max_num_queries(12):
        answer = ocpi_get(client, partner)
    assert len(answer.json()["data"]) == 4


# --- push over HTTP -------------------------------------------------------------------------------


def test_a_rated_session_of_a_partners_driver_is_posted_once_with_billings_price(ocpi_pair):
    cpo_partner = ocpi_pair.emsp_at_cpo
    cpo_partner.tariff = TariffFactory(
        organization=ocpi_pair.cpo, elements=energy_elements("0.40"), tax_rate="19.00"
    )
    cpo_partner.save()
    RoamingToken.objects.create(
        organization=ocpi_pair.cpo,
        partner=cpo_partner,
        country_code="NL",
        party_id="MSP",
        ocpi_id=UID,
        last_updated=START,
        uid=UID,
        type=TokenType.RFID,
        contract_id="NL-MSP-C1",
        issuer="Mobility NL",
        whitelist="ALWAYS",
    )
    station = roaming_station(ocpi_pair.cpo, connectors=1)
    started = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    session = start_session(
        station, connector_number=1, id_tag=UID, started_at=started, meter_start=0
    ).session
    stop_session(
        station,
        transaction_id=session.transaction_id,
        stopped_at=started + timedelta(minutes=30),
        meter_stop=12_500,
        reason="Local",
    )
    record = ChargeDetailRecord.objects.get(session=session)
    (posted,) = OcpiExchange.objects.filter(
        partner=cpo_partner, direction=Direction.OUTGOING, module=Module.CDRS
    )
    assert posted.method == "POST"
    assert posted.url == cpo_partner.endpoint(Module.CDRS, InterfaceRole.RECEIVER)
    assert posted.ocpi_status == 1000
    body = json.loads(posted.request_body)
    assert body["total_cost"] == {
        "excl_vat": float(record.total_excl_tax),
        "incl_vat": float(record.total_incl_tax),
    }
    # 12.5 kWh at 0.40 excl. VAT: 5.00, 5.95 with 19 % VAT.
    assert body["total_cost"] == {"excl_vat": 5.0, "incl_vat": 5.95}
    stored = PartnerCdr.objects.get(partner=ocpi_pair.cpo_at_emsp, ocpi_id=str(record.pk))
    assert stored.total_cost_incl_vat == record.total_incl_tax
    assert OcpiPush.objects.get(partner=cpo_partner, module=Module.CDRS).attempts == 1
    # The sweep behind cdr.created: a CDR sent once is left alone, one whose plan was lost goes.
    assert tasks.push_unpushed_cdrs() == 0
    OcpiPush.objects.filter(partner=cpo_partner, module=Module.CDRS).delete()
    assert tasks.push_unpushed_cdrs() == 1
    assert OcpiPush.objects.get(partner=cpo_partner, module=Module.CDRS).status == PushStatus.SENT
    assert PartnerCdr.objects.filter(partner=ocpi_pair.cpo_at_emsp).count() == 1


def test_a_cdr_of_a_local_card_is_never_posted(ocpi_pair):
    station = roaming_station(ocpi_pair.cpo, connectors=1)
    started = timezone.now() - timedelta(hours=1)
    session = start_session(
        station, connector_number=1, id_tag="LOCAL", started_at=started, meter_start=0
    ).session
    stop_session(
        station,
        transaction_id=session.transaction_id,
        stopped_at=started + timedelta(minutes=10),
        meter_stop=1000,
        reason="Local",
    )
    assert ChargeDetailRecord.objects.filter(session=session).exists()
    assert not OcpiPush.objects.filter(module=Module.CDRS).exists()
