"""/api/v1/charge-detail-records/: fields, filters, CSV export, read-only, tenancy."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import ChargeDetailRecord, Invoice, InvoiceLine
from organizations.choices import Role
from roaming.models import RoamingPartner
from sessions_app.choices import SessionState
from tests.apiclients import client_as
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    SiteFactory,
    TariffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/charge-detail-records/"
JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def viewer(org):
    return client_as(org, Role.VIEWER)


def make_cdr(station, *, created=None, id_tag="04A1B2C3", **fields):
    """A CDR of a new finished session on `station`."""
    session = ChargingSessionFactory(
        station=station,
        id_tag=id_tag,
        start=JAN,
        stop=JAN.replace(hour=13),
        state=SessionState.COMPLETED,
    )
    fields.setdefault("currency", "EUR")
    fields.setdefault("accounted_at", session.stop)
    cdr = ChargeDetailRecord.objects.create(
        organization=station.organization, session=session, **fields
    )
    if created is not None:
        # auto_now_add ignores a value given to create().
        ChargeDetailRecord.objects.filter(pk=cdr.pk).update(created=created)
        cdr.refresh_from_db()
    return cdr


def make_credit(charge, **fields):
    """A credit correcting `charge`."""
    return ChargeDetailRecord.objects.create(
        organization=charge.organization,
        session=charge.session,
        kind="credit",
        corrects=charge,
        currency=charge.currency,
        accounted_at=fields.pop("accounted_at", FEB),
        total_incl_tax=-charge.total_incl_tax,
        **fields,
    )


def ids(response):
    assert response.status_code == 200, response.data
    return [row["id"] for row in response.data["results"]]


def csv_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


ENERGY_LINE = {
    "component": "ENERGY",
    "tariff_element": 0,
    "volume": 12000,
    "volume_unit": "Wh",
    "quantity": "12.000",
    "unit": "kWh",
    "unit_price": "0.3900",
    "amount": "4.68",
}
PERIOD = {
    "start": "2026-01-01T12:00:00Z",
    "end": "2026-01-01T13:00:00Z",
    "charging": True,
    "energy_wh": "12000.000",
    "tariff_elements": {"ENERGY": 0},
}


@pytest.fixture
def card(org):
    return IdTokenFactory(organization=org, uid="04CAFE")


@pytest.fixture
def priced(org, station, card):
    tariff = TariffFactory(organization=org, name="Standard")
    return make_cdr(
        station,
        id_tag="04CAFE",
        id_token=card,
        created=FEB,
        accounted_at=JAN.replace(hour=13),
        tariff=tariff,
        tariff_snapshot={"id": tariff.pk, "name": "Standard", "elements": tariff.elements},
        tax_rate=Decimal("19"),
        energy_wh=12000,
        charging_seconds=3600,
        components=[ENERGY_LINE],
        periods=[PERIOD],
        energy_amount=Decimal("4.68"),
        total_excl_tax=Decimal("4.68"),
        tax_amount=Decimal("0.89"),
        total_incl_tax=Decimal("5.57"),
    )


def test_a_cdr_shows_its_session_facts_components_and_amounts(viewer, priced, station, card):
    data = viewer.get(f"{LIST}{priced.pk}/").data
    session = priced.session
    assert data == {
        "id": priced.pk,
        "organization": station.organization_id,
        "kind": "charge",
        "corrects": None,
        "session": session.pk,
        "transaction_id": session.transaction_id,
        "station": station.pk,
        "ocpp_id": "CS-DEMO-1",
        "site": station.site_id,
        "id_tag": "04CAFE",
        "id_token": card.pk,
        "id_token_uid": "04CAFE",
        "roaming_partner": None,
        "start": "2026-01-01T00:00:00Z",
        "stop": "2026-01-01T13:00:00Z",
        "energy_wh": 12000,
        "charging_seconds": 3600,
        "idle_seconds": 0,
        "parking_tolerance_wh": 0,
        "tariff": priced.tariff_id,
        "tariff_snapshot": {
            "id": priced.tariff_id,
            "name": "Standard",
            "elements": priced.tariff.elements,
        },
        "currency": "EUR",
        "tax_rate": "19.00",
        "components": [ENERGY_LINE],
        "periods": [PERIOD],
        "energy_amount": "4.6800",
        "time_amount": "0.0000",
        "idle_amount": "0.0000",
        "session_fee_amount": "0.0000",
        "price_cap_amount": "0.0000",
        "total_excl_tax": "4.6800",
        "tax_amount": "0.8900",
        "total_incl_tax": "5.5700",
        "reason": "",
        "billing_stopped_by": None,
        "accounted_at": "2026-01-01T13:00:00Z",
        "created": "2026-02-01T00:00:00Z",
    }


def test_a_credit_names_the_cdr_it_corrects_who_stopped_billing_and_why(viewer, priced):
    stopper = UserFactory(username="erika")
    credit = make_credit(
        priced, billing_stopped_by=stopper, reason="Credit: Billing stopped by erika: Meter fault"
    )
    data = viewer.get(f"{LIST}{credit.pk}/").data
    assert {
        key: data[key]
        for key in ("kind", "corrects", "total_incl_tax", "billing_stopped_by", "reason")
    } == {
        "kind": "credit",
        "corrects": priced.pk,
        "total_incl_tax": "-5.5700",
        "billing_stopped_by": "erika",
        "reason": "Credit: Billing stopped by erika: Meter fault",
    }
    assert data["accounted_at"] == "2026-02-01T00:00:00Z"


def test_a_free_cdr_says_why(viewer, station):
    cdr = make_cdr(station, reason="No tariff applies to this session")
    assert viewer.get(f"{LIST}{cdr.pk}/").data["reason"] == "No tariff applies to this session"


def test_a_roaming_cdr_names_its_partner(viewer, org, station):
    partner = RoamingPartner.objects.create(
        organization=org, name="Hubject", country_code="DE", party_id="HUB"
    )
    cdr = make_cdr(station, roaming_partner=partner)
    assert viewer.get(f"{LIST}{cdr.pk}/").data["roaming_partner"] == partner.pk


def test_cdrs_are_newest_first(viewer, station):
    old = make_cdr(station, created=JAN)
    new = make_cdr(station, created=FEB)
    assert ids(viewer.get(LIST)) == [new.pk, old.pk]


def test_cdrs_filter_by_session(viewer, station):
    wanted = make_cdr(station)
    make_cdr(station)
    assert ids(viewer.get(LIST, {"session": wanted.session_id})) == [wanted.pk]


def test_cdrs_filter_by_station_and_ocpp_id(viewer, org, station):
    make_cdr(station)
    other_station = ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    wanted = make_cdr(other_station)
    assert ids(viewer.get(LIST, {"station": other_station.pk})) == [wanted.pk]
    assert ids(viewer.get(LIST, {"ocpp_id": "CS-OTHER"})) == [wanted.pk]


def test_cdrs_filter_by_site(viewer, org, station):
    make_cdr(station)
    site = SiteFactory(organization=org)
    wanted = make_cdr(ChargingStationFactory(organization=org, site=site))
    assert ids(viewer.get(LIST, {"site": site.pk})) == [wanted.pk]


def test_cdrs_filter_by_id_tag(viewer, station):
    make_cdr(station, id_tag="04AAAA")
    wanted = make_cdr(station, id_tag="04BBBB")
    assert ids(viewer.get(LIST, {"id_tag": "04BBBB"})) == [wanted.pk]


def test_cdrs_filter_by_kind(viewer, priced):
    credit = make_credit(priced)
    assert ids(viewer.get(LIST, {"kind": "credit"})) == [credit.pk]
    assert ids(viewer.get(LIST, {"kind": "charge"})) == [priced.pk]


def test_cdrs_filter_by_card(viewer, org, station, priced, card):
    make_cdr(station, id_token=IdTokenFactory(organization=org))
    make_cdr(station)
    assert ids(viewer.get(LIST, {"id_token": card.pk})) == [priced.pk]


def test_cdrs_filter_by_roaming_partner(viewer, org, station):
    partner = RoamingPartner.objects.create(
        organization=org, name="Hubject", country_code="DE", party_id="HUB"
    )
    wanted = make_cdr(station, roaming_partner=partner)
    make_cdr(station)
    assert ids(viewer.get(LIST, {"roaming_partner": partner.pk})) == [wanted.pk]


def test_the_created_range_is_half_open(viewer, station):
    make_cdr(station, created=JAN.replace(day=1))
    inside = make_cdr(station, created=JAN.replace(day=15))
    at_the_end = make_cdr(station, created=FEB)
    found = ids(viewer.get(LIST, {"created_after": "2026-01-02T00:00:00Z", "created_before": FEB}))
    assert found == [inside.pk]
    assert at_the_end.pk in ids(viewer.get(LIST, {"created_after": FEB}))


def test_the_accounted_range_is_half_open(viewer, station):
    make_cdr(station, accounted_at=JAN)
    inside = make_cdr(station, accounted_at=JAN.replace(day=15))
    at_the_end = make_cdr(station, accounted_at=FEB)
    found = ids(viewer.get(LIST, {"accounted_after": JAN.replace(day=2), "accounted_before": FEB}))
    assert found == [inside.pk]
    assert ids(viewer.get(LIST, {"accounted_after": FEB})) == [at_the_end.pk]


def test_cdrs_filter_by_whether_they_are_invoiced(viewer, org, station, priced):
    waiting = make_cdr(station)
    invoice = Invoice.objects.create(
        organization=org,
        sequence=1,
        number="INV-000001",
        period_start=JAN,
        period_end=FEB,
        currency="EUR",
    )
    InvoiceLine.objects.create(invoice=invoice, cdr=priced, description="Charging")
    assert ids(viewer.get(LIST, {"has_invoice": "true"})) == [priced.pk]
    assert ids(viewer.get(LIST, {"has_invoice": "false"})) == [waiting.pk]


def test_a_has_invoice_that_is_no_boolean_is_a_400(viewer, priced):
    response = viewer.get(LIST, {"has_invoice": "perhaps"})
    assert response.status_code == 400
    assert list(response.data) == ["has_invoice"]


def test_a_station_of_another_organization_in_a_filter_is_a_400(viewer, other_org, station):
    make_cdr(station)
    theirs = ChargingStationFactory(organization=other_org)
    response = viewer.get(LIST, {"station": theirs.pk})
    assert response.status_code == 400
    assert "station" in response.data


def test_cdrs_are_read_only(org, priced):
    admin = client_as(org, Role.OWNER)
    assert admin.post(LIST, {}, format="json").status_code == 405
    assert admin.patch(f"{LIST}{priced.pk}/", {"currency": "USD"}, format="json").status_code == 405
    assert admin.delete(f"{LIST}{priced.pk}/").status_code == 405
    priced.refresh_from_db()
    assert priced.currency == "EUR"


def test_an_outsider_sees_no_cdr_of_ours(other_org, priced):
    outsider = client_as(other_org, Role.OWNER)
    assert outsider.get(LIST).data["results"] == []
    assert outsider.get(f"{LIST}{priced.pk}/").status_code == 404
    assert csv_rows(outsider.get(LIST, {"format": "csv"})) == []


def test_the_csv_export_has_the_json_names_and_values(viewer, priced, station):
    response = viewer.get(LIST, {"format": "csv"})
    rows = csv_rows(response)
    json_row = viewer.get(f"{LIST}{priced.pk}/").data
    assert len(rows) == 1
    # Every column is a JSON field; only the nested JSON ones are left out of the CSV.
    assert set(rows[0]) == set(json_row) - {"components", "periods", "tariff_snapshot"}
    assert rows[0]["ocpp_id"] == "CS-DEMO-1"
    assert rows[0]["id_tag"] == "04CAFE"
    assert rows[0]["transaction_id"] == priced.session.transaction_id
    assert rows[0]["start"] == "2026-01-01T00:00:00+00:00"
    assert rows[0]["energy_wh"] == "12000"
    assert rows[0]["total_incl_tax"] == "5.5700"
    assert rows[0]["corrects"] == ""
    assert (rows[0]["id_token_uid"], rows[0]["tax_rate"]) == ("04CAFE", "19.00")
    assert rows[0]["accounted_at"] == "2026-01-01T13:00:00+00:00"
    assert "attachment" in response["Content-Disposition"]


def test_the_csv_export_takes_the_list_filters(viewer, station):
    make_cdr(station, id_tag="04AAAA")
    wanted = make_cdr(station, id_tag="04BBBB")
    rows = csv_rows(viewer.get(LIST, {"format": "csv", "id_tag": "04BBBB"}))
    assert [row["id"] for row in rows] == [str(wanted.pk)]


def test_the_csv_export_is_not_paginated(viewer, station):
    for _ in range(3):
        make_cdr(station)
    assert len(csv_rows(viewer.get(LIST, {"format": "csv", "page_size": 1}))) == 3


def test_the_csv_export_does_not_query_per_cdr(viewer, org, priced):
    def export_queries():
        with CaptureQueriesContext(connection) as queries:
            rows = csv_rows(viewer.get(LIST, {"format": "csv"}))
        return len(rows), len(queries.captured_queries)

    one_row, few = export_queries()
    for _ in range(5):
        # Each with its own card, station and stopper, so a query per row would show.
        card = IdTokenFactory(organization=org)
        credit_of = make_cdr(ChargingStationFactory(organization=org), id_token=card)
        make_credit(credit_of, billing_stopped_by=UserFactory())
    eleven_rows, many = export_queries()
    assert (one_row, eleven_rows) == (1, 11)
    assert many == few
