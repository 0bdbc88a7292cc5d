"""/api/v1/invoices/: lines, filters, CSV export, read-only, tenancy."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import BillingPeriod, Invoice, InvoiceLine
from organizations.choices import Role
from roaming.models import RoamingPartner
from tests.apiclients import client_as
from tests.factories import IdTokenFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/invoices/"
PERIODS = "/api/v1/billing-periods/"
JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
APR = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.fixture
def viewer(org):
    return client_as(org, Role.VIEWER)


def make_invoice(org, *, period_start=JAN, period_end=FEB, **fields):
    """An invoice of `org` with the next sequence number."""
    sequence = Invoice.objects.filter(organization=org).count() + 1
    fields.setdefault("number", f"INV-{sequence:04d}")
    fields.setdefault("currency", "EUR")
    return Invoice.objects.create(
        organization=org,
        sequence=sequence,
        period_start=period_start,
        period_end=period_end,
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


@pytest.fixture
def card(org):
    return IdTokenFactory(organization=org, uid="04CAFE")


# The columns of the portal's invoice export, under the same names.
PORTAL_COLUMNS = (
    "number",
    "issued_at",
    "period_start",
    "period_end",
    "holder_name",
    "holder_email",
    "currency",
    "total_excl_tax",
    "tax_amount",
    "total_incl_tax",
    "status",
)
ISSUER = {
    "name": "Stadtwerke Nord",
    "billing_address": "Hafenstraße 1\n20457 Hamburg",
    "vat_id": "DE123456789",
    "contact_email": "billing@example.com",
}
TAX_BREAKDOWN = [{"rate": "19.00", "base": "10.00", "tax": "1.90"}]


@pytest.fixture
def period(org):
    return BillingPeriod.objects.create(organization=org, start=JAN, end=FEB, invoice_count=1)


@pytest.fixture
def invoice(org, card, period):
    invoice = make_invoice(
        org,
        billing_period=period,
        id_token=card,
        holder_name="Erika",
        holder_email="erika@example.com",
        issuer=ISSUER,
        total_excl_tax=Decimal("10.00"),
        tax_amount=Decimal("1.90"),
        total_incl_tax=Decimal("11.90"),
        tax_breakdown=TAX_BREAKDOWN,
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        description="Charging 20.0 kWh",
        quantity=Decimal("20"),
        unit="kWh",
        unit_price=Decimal("0.40"),
        tax_rate=Decimal("19"),
        amount_excl_tax=Decimal("8.00"),
        tax_amount=Decimal("1.52"),
        amount_incl_tax=Decimal("9.52"),
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        description="Session fee",
        unit_price=Decimal("2.00"),
        amount_excl_tax=Decimal("2.00"),
    )
    return invoice


def test_an_invoice_shows_its_totals_and_lines_in_order(viewer, invoice, card):
    data = viewer.get(f"{LIST}{invoice.pk}/").data
    assert data["number"] == "INV-0001"
    assert (data["id_token"], data["id_token_uid"]) == (card.pk, "04CAFE")
    assert (data["holder_name"], data["holder_email"]) == ("Erika", "erika@example.com")
    assert (data["period_start"], data["period_end"]) == (
        "2026-01-01T00:00:00Z",
        "2026-02-01T00:00:00Z",
    )
    assert (data["total_excl_tax"], data["tax_amount"], data["total_incl_tax"]) == (
        "10.0000",
        "1.9000",
        "11.9000",
    )
    assert data["status"] == "issued"
    assert [line["description"] for line in data["lines"]] == ["Charging 20.0 kWh", "Session fee"]
    first = data["lines"][0]
    assert {key: first[key] for key in ("quantity", "unit", "unit_price", "amount_incl_tax")} == {
        "quantity": "20.0000",
        "unit": "kWh",
        "unit_price": "0.4000",
        "amount_incl_tax": "9.5200",
    }


def test_an_invoice_shows_its_period_issuer_and_tax_per_rate(viewer, invoice, period):
    data = viewer.get(f"{LIST}{invoice.pk}/").data
    assert (data["billing_period"], data["roaming_partner"]) == (period.pk, None)
    assert data["issuer"] == ISSUER
    assert data["tax_breakdown"] == TAX_BREAKDOWN


def test_an_invoice_to_a_roaming_partner_names_it(viewer, org):
    partner = RoamingPartner.objects.create(
        organization=org, name="Hubject", country_code="DE", party_id="HUB"
    )
    invoice = make_invoice(org, roaming_partner=partner, holder_name="Hubject")
    data = viewer.get(f"{LIST}{invoice.pk}/").data
    assert (data["roaming_partner"], data["id_token"]) == (partner.pk, None)


def test_an_invoice_whose_card_was_deleted_shows_no_uid(viewer, invoice, card):
    card.delete()
    data = viewer.get(f"{LIST}{invoice.pk}/").data
    assert (data["id_token"], data["id_token_uid"]) == (None, None)


def test_invoices_filter_by_status(viewer, org, invoice):
    paid = make_invoice(org, status="paid")
    assert ids(viewer.get(LIST, {"status": "paid"})) == [paid.pk]


def test_invoices_filter_by_card(viewer, org, invoice, card):
    make_invoice(org, id_token=IdTokenFactory(organization=org))
    assert ids(viewer.get(LIST, {"id_token": card.pk})) == [invoice.pk]


def test_invoices_filter_by_number(viewer, org, invoice):
    second = make_invoice(org)
    assert ids(viewer.get(LIST, {"number": "INV-0002"})) == [second.pk]
    assert ids(viewer.get(LIST, {"number": "INV-0001"})) == [invoice.pk]


def test_invoices_filter_by_billing_period(viewer, org, invoice):
    later = BillingPeriod.objects.create(organization=org, start=FEB, end=MAR)
    february = make_invoice(org, billing_period=later, period_start=FEB, period_end=MAR)
    make_invoice(org)
    assert ids(viewer.get(LIST, {"billing_period": later.pk})) == [february.pk]


def test_invoices_filter_by_roaming_partner(viewer, org, invoice):
    partner = RoamingPartner.objects.create(
        organization=org, name="Hubject", country_code="DE", party_id="HUB"
    )
    wanted = make_invoice(org, roaming_partner=partner)
    assert ids(viewer.get(LIST, {"roaming_partner": partner.pk})) == [wanted.pk]


def test_the_invoices_of_a_quarter_are_those_whose_period_starts_in_it(viewer, org):
    december = make_invoice(org, period_start=datetime(2025, 12, 1, tzinfo=UTC), period_end=JAN)
    january = make_invoice(org, period_start=JAN, period_end=FEB)
    march = make_invoice(org, period_start=MAR, period_end=APR)
    april = make_invoice(org, period_start=APR, period_end=datetime(2026, 5, 1, tzinfo=UTC))
    found = ids(viewer.get(LIST, {"period_start_after": JAN, "period_start_before": APR}))
    assert set(found) == {january.pk, march.pk}
    assert december.pk not in found and april.pk not in found


def test_the_period_end_range_is_half_open(viewer, org):
    january = make_invoice(org, period_start=JAN, period_end=FEB)
    march = make_invoice(org, period_start=MAR, period_end=APR)
    # March ends at April 1, which period_end_before=Apr 1 leaves out.
    assert ids(viewer.get(LIST, {"period_end_before": APR})) == [january.pk]
    assert ids(viewer.get(LIST, {"period_end_after": APR})) == [march.pk]


def test_a_card_of_another_organization_in_a_filter_is_a_400(viewer, other_org, invoice):
    theirs = IdTokenFactory(organization=other_org)
    response = viewer.get(LIST, {"id_token": theirs.pk})
    assert response.status_code == 400
    assert "id_token" in response.data


def test_invoices_are_read_only(org, invoice):
    owner = client_as(org, Role.OWNER)
    assert owner.patch(f"{LIST}{invoice.pk}/", {"status": "void"}, format="json").status_code == 405
    assert owner.delete(f"{LIST}{invoice.pk}/").status_code == 405
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_an_outsider_sees_no_invoice_of_ours(other_org, invoice):
    outsider = client_as(other_org, Role.OWNER)
    assert outsider.get(LIST).data["results"] == []
    assert outsider.get(f"{LIST}{invoice.pk}/").status_code == 404
    assert csv_rows(outsider.get(LIST, {"format": "csv"})) == []


def test_the_csv_export_is_one_row_per_invoice_with_its_totals(viewer, org, invoice):
    make_invoice(org, status="paid")
    rows = csv_rows(viewer.get(LIST, {"format": "csv"}))
    # Two lines on the first invoice still make one row.
    assert len(rows) == 2
    row = next(row for row in rows if row["id"] == str(invoice.pk))
    json_row = viewer.get(f"{LIST}{invoice.pk}/").data
    # Every column is a JSON field; only the nested ones are left out.
    assert set(row) == set(json_row) - {"lines", "issuer", "tax_breakdown"}
    assert set(PORTAL_COLUMNS) <= set(row)
    assert {
        key: row[key]
        for key in ("number", "id_token_uid", "total_excl_tax", "tax_amount", "total_incl_tax")
    } == {
        "number": "INV-0001",
        "id_token_uid": "04CAFE",
        "total_excl_tax": "10.0000",
        "tax_amount": "1.9000",
        "total_incl_tax": "11.9000",
    }
    assert row["period_start"] == "2026-01-01T00:00:00+00:00"


def test_the_csv_export_takes_the_list_filters(viewer, org, invoice):
    paid = make_invoice(org, status="paid")
    rows = csv_rows(viewer.get(LIST, {"format": "csv", "status": "paid"}))
    assert [row["id"] for row in rows] == [str(paid.pk)]


def test_the_csv_export_does_not_query_per_invoice(viewer, org, invoice):
    def export_queries():
        with CaptureQueriesContext(connection) as queries:
            rows = csv_rows(viewer.get(LIST, {"format": "csv"}))
        return len(rows), len(queries.captured_queries)

    one_row, few = export_queries()
    for _ in range(5):
        make_invoice(org, id_token=IdTokenFactory(organization=org))
    six_rows, many = export_queries()
    assert (one_row, six_rows) == (1, 6)
    assert many == few


# PDF


def test_an_invoice_downloads_as_a_pdf(viewer, invoice):
    response = viewer.get(f"{LIST}{invoice.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="INV-0001.pdf"'
    assert response.content.startswith(b"%PDF-")


def test_a_pdf_asked_for_by_its_media_type_is_served(viewer, invoice):
    response = viewer.get(f"{LIST}{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")


def test_a_number_with_a_slash_gives_a_file_name_without_one(viewer, org):
    invoice = make_invoice(org, number="RE/2026/000001")

    response = viewer.get(f"{LIST}{invoice.pk}/pdf/")

    assert response["Content-Disposition"] == 'attachment; filename="RE-2026-000001.pdf"'


def test_an_outsider_gets_no_pdf_of_our_invoice_and_the_404_is_json(other_org, invoice):
    outsider = client_as(other_org, Role.OWNER)

    response = outsider.get(f"{LIST}{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


# Billing periods


def test_a_viewer_lists_the_closed_billing_periods_newest_first(viewer, org, period):
    later = BillingPeriod.objects.create(organization=org, start=FEB, end=MAR, invoice_count=4)

    response = viewer.get(PERIODS)

    assert ids(response) == [later.pk, period.pk]
    first = dict(response.data["results"][0])
    assert first.pop("closed_at") is not None
    assert first == {
        "id": later.pk,
        "organization": org.pk,
        "start": "2026-02-01T00:00:00Z",
        "end": "2026-03-01T00:00:00Z",
        "invoice_count": 4,
    }


def test_billing_periods_filter_by_start(viewer, org, period):
    later = BillingPeriod.objects.create(organization=org, start=FEB, end=MAR)

    assert ids(viewer.get(PERIODS, {"start_after": FEB})) == [later.pk]
    assert ids(viewer.get(PERIODS, {"start_before": FEB})) == [period.pk]


def test_billing_periods_are_read_only(org, period):
    owner = client_as(org, Role.OWNER)

    assert owner.post(PERIODS, {"start": FEB, "end": MAR}, format="json").status_code == 405
    assert owner.delete(f"{PERIODS}{period.pk}/").status_code == 405
    assert BillingPeriod.objects.filter(pk=period.pk).exists()


def test_an_outsider_sees_no_billing_period_of_ours(other_org, period):
    BillingPeriod.objects.create(organization=OrganizationFactory(), start=JAN, end=FEB)
    outsider = client_as(other_org, Role.OWNER)

    assert outsider.get(PERIODS).data["results"] == []
    assert outsider.get(f"{PERIODS}{period.pk}/").status_code == 404
