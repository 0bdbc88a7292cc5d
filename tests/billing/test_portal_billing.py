"""Portal: invoices (list, CSV, page), tariffs in words, CDRs, and a session's price."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.engine import parse_elements
from billing.models import (
    BillingPeriod,
    ChargeDetailRecord,
    Invoice,
    InvoiceLine,
    TariffAssignment,
)
from billing.words import element_words
from organizations.choices import Role
from roaming.models import RoamingPartner
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    TariffFactory,
)
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

# Berlin's March, as UTC: a period starts and ends at local midnight.
MAR = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
APR = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
MAY = datetime(2026, 4, 30, 22, 0, tzinfo=UTC)

INVOICES = "billing/invoices/"
EXPORT = "billing/invoices/export.csv"
TARIFFS = "billing/tariffs/"
CDRS = "billing/cdrs/"
CSV_HEADER = [
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
]


def make_invoice(org, *, period_start=MAR, period_end=APR, lines=(), **fields):
    """An invoice of `org` with the next number; `lines` are (description, excl, rate, tax)."""
    sequence = Invoice.objects.filter(organization=org).count() + 1
    fields.setdefault("number", f"INV-{sequence:06d}")
    fields.setdefault("currency", "EUR")
    invoice = Invoice.objects.create(
        organization=org,
        sequence=sequence,
        period_start=period_start,
        period_end=period_end,
        **fields,
    )
    for description, excl, rate, tax in lines:
        InvoiceLine.objects.create(
            invoice=invoice,
            description=description,
            unit_price=Decimal(excl),
            tax_rate=Decimal(rate),
            amount_excl_tax=Decimal(excl),
            tax_amount=Decimal(tax),
            amount_incl_tax=Decimal(excl) + Decimal(tax),
        )
    return invoice


def make_cdr(session, **fields):
    """A charge CDR of `session`, accounted at its stop."""
    fields.setdefault("currency", "EUR")
    fields.setdefault("accounted_at", session.stop or session.start)
    return ChargeDetailRecord.objects.create(
        organization=session.organization, session=session, **fields
    )


def completed(station, start=MAR + timedelta(days=1, hours=9), minutes=60, **fields):
    """A finished session on `station`."""
    fields.setdefault("energy_wh", 12000)
    return ChargingSessionFactory(
        station=station,
        start=start,
        stop=start + timedelta(minutes=minutes),
        state="completed",
        **fields,
    )


def listed(response, name="invoices") -> list[int]:
    """The primary keys of the rows on a list page, in order."""
    assert response.status_code == 200, response.content[:500]
    return [row.pk for row in response.context[name]]


def exported(response) -> list[list[str]]:
    """A streamed CSV as rows, header first."""
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/csv"
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def viewer(org):
    return portal_client(org, Role.VIEWER)


@pytest.fixture
def outsider(other_org):
    return portal_client(other_org, Role.OWNER)


# --- tenancy across every page ----------------------------------------------------------------


@pytest.mark.parametrize("path", [INVOICES, EXPORT, TARIFFS, CDRS])
@pytest.mark.parametrize("role", ROLES)
def test_every_billing_list_renders_for_every_role(org, role, path):
    response = portal_client(org, role).get(org_url(org, path))
    assert response.status_code == 200


def test_the_billing_pages_are_in_the_billing_section_of_the_navigation(org, viewer):
    body = viewer.get(org_url(org, INVOICES)).content.decode()
    assert f'<a href="{org_url(org, INVOICES)}" aria-current="page">Billing</a>' in body


@pytest.mark.parametrize("path", [INVOICES, EXPORT, TARIFFS, CDRS])
def test_an_outsider_gets_404_for_every_billing_list(org, outsider, path):
    assert outsider.get(org_url(org, path)).status_code == 404


def test_another_organizations_invoice_is_404_under_either_slug(org, other_org, viewer):
    theirs = make_invoice(other_org)
    for slug_org in (org, other_org):
        assert viewer.get(org_url(slug_org, f"{INVOICES}{theirs.pk}/")).status_code == 404
        assert viewer.get(org_url(slug_org, f"{INVOICES}{theirs.pk}/pdf/")).status_code == 404


def test_an_outsider_gets_404_for_an_invoice_and_its_pdf(org, outsider):
    mine = make_invoice(org)
    assert outsider.get(org_url(org, f"{INVOICES}{mine.pk}/")).status_code == 404
    assert outsider.get(org_url(org, f"{INVOICES}{mine.pk}/pdf/")).status_code == 404


# --- the invoices list ------------------------------------------------------------------------


def test_the_invoices_list_shows_only_the_organizations_invoices(org, other_org, viewer):
    mine = make_invoice(org)
    make_invoice(other_org, holder_name="Someone Else")
    assert listed(viewer.get(org_url(org, INVOICES))) == [mine.pk]


def test_an_outsider_sees_none_of_the_organizations_invoices_on_its_own_pages(
    org, other_org, outsider
):
    make_invoice(org, holder_name="Erika Mustermann", number="SW-000001")
    assert listed(outsider.get(org_url(other_org, INVOICES))) == []
    assert outsider.get(org_url(other_org, INVOICES), {"search": "Erika"}).context["invoices"] == []
    rows = exported(outsider.get(org_url(other_org, EXPORT)))
    assert rows == [CSV_HEADER]


def test_the_invoices_list_is_newest_first(org, viewer):
    older = make_invoice(org)
    newer = make_invoice(org)
    Invoice.objects.filter(pk=older.pk).update(issued_at=datetime(2026, 4, 1, tzinfo=UTC))
    Invoice.objects.filter(pk=newer.pk).update(issued_at=datetime(2026, 5, 1, tzinfo=UTC))
    assert listed(viewer.get(org_url(org, INVOICES))) == [newer.pk, older.pk]


def test_a_row_shows_number_period_holder_status_and_totals(org, viewer):
    make_invoice(
        org,
        holder_name="Erika Mustermann",
        total_excl_tax=Decimal("10.0000"),
        tax_amount=Decimal("1.9000"),
        total_incl_tax=Decimal("11.9000"),
    )
    body = viewer.get(org_url(org, INVOICES)).content.decode()
    assert "INV-000001" in body and "Erika Mustermann" in body
    # The period in Berlin time: March 1 to March 31, not the UTC instants.
    assert "03/01/2026 – 03/31/2026" in body
    assert "10.00 EUR" in body and "1.90 EUR" in body and "11.90 EUR" in body
    assert "Issued" in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "paid"}, "paid"),
        ({"search": "000002"}, "second"),
        ({"search": "mustermann"}, "erika"),
        ({"search": "erika@example"}, "erika"),
        ({"period": "april"}, "april"),
    ],
)
def test_a_filter_narrows_the_invoices(org, viewer, params, expected):
    march = BillingPeriod.objects.create(organization=org, start=MAR, end=APR)
    april = BillingPeriod.objects.create(organization=org, start=APR, end=MAY)
    invoices = {
        "erika": make_invoice(
            org,
            billing_period=march,
            holder_name="Erika Mustermann",
            holder_email="erika@example.com",
        ),
        "second": make_invoice(org, billing_period=march, holder_name="Max"),
        "paid": make_invoice(org, billing_period=march, status="paid"),
        "april": make_invoice(org, billing_period=april, period_start=APR, period_end=MAY),
    }
    if params.get("period") == "april":
        params = {"period": april.pk}
    assert listed(viewer.get(org_url(org, INVOICES), params)) == [invoices[expected].pk]


def test_the_period_filter_offers_the_organizations_periods_as_local_days(org, other_org, viewer):
    mine = BillingPeriod.objects.create(organization=org, start=MAR, end=APR)
    BillingPeriod.objects.create(organization=other_org, start=MAR, end=APR)
    field = viewer.get(org_url(org, INVOICES)).context["filterset"].form.fields["period"]
    assert list(field.queryset) == [mine]
    assert field.label_from_instance(mine) == "03/01/2026 – 03/31/2026"


def test_a_period_of_another_organization_in_the_filters_is_refused(org, other_org, viewer):
    make_invoice(org)
    theirs = BillingPeriod.objects.create(organization=other_org, start=MAR, end=APR)
    response = viewer.get(org_url(org, INVOICES), {"period": theirs.pk})
    assert response.status_code == 400
    assert response.context["invoices"] == []
    assert viewer.get(org_url(org, EXPORT), {"period": theirs.pk}).status_code == 400


def test_the_invoices_list_pages_fifty_at_a_time(org, viewer):
    for _ in range(51):
        make_invoice(org)
    first = listed(viewer.get(org_url(org, INVOICES)))
    second = listed(viewer.get(org_url(org, INVOICES), {"page": 2}))
    assert (len(first), len(second)) == (50, 1)
    assert set(first).isdisjoint(second)


def test_the_invoices_list_reads_a_page_in_a_fixed_number_of_queries(
    org, viewer, django_assert_max_num_queries
):
    partner = RoamingPartner.objects.create(
        organization=org, name="Hubject", country_code="DE", party_id="HBJ"
    )
    BillingPeriod.objects.create(organization=org, start=MAR, end=APR)
    for n in range(30):
        make_invoice(org, roaming_partner=partner if n % 2 else None, holder_name=f"H{n}")
    # Session, user, membership, the count, the page (with its partners), the period choices
    # and the header's organization switcher: none per row.
    with django_assert_max_num_queries(7):
        response = viewer.get(org_url(org, INVOICES))
    assert len(listed(response)) == 30


# --- CSV export -------------------------------------------------------------------------------


def test_the_export_link_carries_the_current_filters_but_not_the_page(org, viewer):
    body = viewer.get(org_url(org, INVOICES), {"status": "paid", "page": "1"}).content.decode()
    assert f'data-export-csv href="{org_url(org, EXPORT)}?status=paid"' in body


def test_the_export_has_the_invoice_columns_with_exact_amounts(org, viewer):
    invoice = make_invoice(
        org,
        holder_name="Erika",
        holder_email="erika@example.com",
        total_excl_tax=Decimal("10"),
        tax_amount=Decimal("1.9"),
        total_incl_tax=Decimal("11.9"),
    )
    rows = exported(viewer.get(org_url(org, EXPORT)))
    assert rows[0] == CSV_HEADER
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["number"] == "INV-000001"
    assert row["issued_at"] == invoice.issued_at.astimezone(UTC).isoformat()
    assert (row["period_start"], row["period_end"]) == (MAR.isoformat(), APR.isoformat())
    assert (row["holder_name"], row["holder_email"]) == ("Erika", "erika@example.com")
    assert (row["total_excl_tax"], row["tax_amount"], row["total_incl_tax"]) == (
        "10.0000",
        "1.9000",
        "11.9000",
    )
    assert (row["currency"], row["status"]) == ("EUR", "issued")


@pytest.mark.parametrize(
    "params", [{"status": "paid"}, {"search": "Erika"}, {"status": "issued", "search": "Max"}]
)
def test_the_export_holds_exactly_the_rows_the_filtered_list_shows(org, viewer, params):
    make_invoice(org, holder_name="Erika")
    make_invoice(org, holder_name="Erika", status="paid")
    make_invoice(org, holder_name="Max")
    make_invoice(org, holder_name="Max", status="void")
    shown = [
        invoice.number for invoice in viewer.get(org_url(org, INVOICES), params).context["invoices"]
    ]
    rows = exported(viewer.get(org_url(org, EXPORT), params))
    assert [row[0] for row in rows[1:]] == shown
    assert 0 < len(shown) < 4


def test_the_export_holds_only_the_organizations_invoices(org, other_org, viewer):
    make_invoice(org, number="SW-1")
    make_invoice(other_org, number="OUT-1")
    rows = exported(viewer.get(org_url(org, EXPORT)))
    assert [row[0] for row in rows[1:]] == ["SW-1"]


def test_the_export_defuses_a_holder_name_that_is_a_formula(org, viewer):
    make_invoice(org, holder_name='=HYPERLINK("http://evil")')
    rows = exported(viewer.get(org_url(org, EXPORT)))
    assert rows[1][CSV_HEADER.index("holder_name")] == '\'=HYPERLINK("http://evil")'


# --- one invoice ------------------------------------------------------------------------------


@pytest.fixture
def invoice(org):
    card = IdTokenFactory(organization=org, uid="04CAFE01")
    return make_invoice(
        org,
        id_token=card,
        holder_name="Erika Mustermann",
        holder_email="erika@example.com",
        issuer={
            "name": "Stadtwerke Demo GmbH",
            "billing_address": "Hafenstraße 1\n20457 Hamburg",
            "vat_id": "DE123456789",
            "contact_email": "billing@stadtwerke.example",
        },
        total_excl_tax=Decimal("12.0000"),
        tax_amount=Decimal("1.8000"),
        total_incl_tax=Decimal("13.8000"),
        tax_breakdown=[
            {"rate": "7.00", "base": "2.00", "tax": "0.14"},
            {"rate": "19.00", "base": "10.00", "tax": "1.66"},
        ],
        lines=[
            ("Charging at CS-DEMO-1, 20.00 kWh", "10.0000", "19", "1.6600"),
            ("Charging at CS-DEMO-2, 4.00 kWh", "2.0000", "7", "0.1400"),
        ],
    )


@pytest.mark.parametrize("role", ROLES)
def test_an_invoice_renders_for_every_role(org, invoice, role):
    response = portal_client(org, role).get(org_url(org, f"{INVOICES}{invoice.pk}/"))
    assert response.status_code == 200
    assert response.context["invoice"] == invoice


def test_the_invoice_page_shows_issuer_recipient_lines_tax_per_rate_and_totals(
    org, invoice, viewer
):
    body = viewer.get(org_url(org, f"{INVOICES}{invoice.pk}/")).content.decode()
    assert "Invoice INV-000001" in body
    assert "Stadtwerke Demo GmbH" in body and "Hafenstraße 1<br>20457 Hamburg" in body
    assert "VAT id: DE123456789" in body
    assert "Erika Mustermann" in body and "erika@example.com" in body and "04CAFE01" in body
    assert "Charging at CS-DEMO-1, 20.00 kWh" in body
    assert "Tax 7 % on 2.00 EUR" in body and "0.14 EUR" in body
    assert "Tax 19 % on 10.00 EUR" in body and "1.66 EUR" in body
    assert "12.00 EUR" in body and "1.80 EUR" in body and "13.80 EUR" in body


def test_the_invoice_dates_are_the_organizations_local_days(org, invoice, viewer):
    Invoice.objects.filter(pk=invoice.pk).update(
        issued_at=datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    )
    body = viewer.get(org_url(org, f"{INVOICES}{invoice.pk}/")).content.decode()
    # 22:30 UTC on March 31 is already April 1 in Berlin; the period ends at local midnight.
    assert "April 1, 2026" in body
    assert "March 1, 2026 – March 31, 2026" in body


def test_the_invoice_page_links_the_pdf_download(org, invoice, viewer):
    body = viewer.get(org_url(org, f"{INVOICES}{invoice.pk}/")).content.decode()
    assert f'href="{org_url(org, f"{INVOICES}{invoice.pk}/pdf/")}"' in body
    assert "Download PDF" in body


def test_an_invoice_line_links_its_session(org, station, viewer):
    session = completed(station)
    cdr = make_cdr(session, total_incl_tax=Decimal("5"))
    invoice = make_invoice(org)
    InvoiceLine.objects.create(invoice=invoice, cdr=cdr, description="Charging at CS-DEMO-1")
    body = viewer.get(org_url(org, f"{INVOICES}{invoice.pk}/")).content.decode()
    assert f'href="{org_url(org, f"sessions/{session.pk}/")}"' in body


def test_an_invoice_of_credits_only_is_a_credit_note(org, viewer):
    invoice = make_invoice(
        org,
        total_excl_tax=Decimal("-10"),
        tax_amount=Decimal("-1.9"),
        total_incl_tax=Decimal("-11.9"),
    )
    body = viewer.get(org_url(org, f"{INVOICES}{invoice.pk}/")).content.decode()
    assert "Credit note INV-000001" in body
    assert "-11.90 EUR" in body


def test_an_invoice_without_a_tax_breakdown_sums_its_lines_per_rate(org, viewer):
    invoice = make_invoice(
        org,
        lines=[("A", "4.0000", "19", "0.7600"), ("B", "6.0000", "19", "1.1400")],
    )
    response = viewer.get(org_url(org, f"{INVOICES}{invoice.pk}/"))
    assert response.context["tax_rows"] == [
        {"rate": Decimal("19.00"), "base": Decimal("10.0000"), "tax": Decimal("1.9000")}
    ]


def test_the_invoice_page_reads_in_a_fixed_number_of_queries(
    org, station, viewer, django_assert_max_num_queries
):
    invoice = make_invoice(org)
    for n in range(20):
        cdr = make_cdr(completed(station, start=MAR + timedelta(hours=n)))
        InvoiceLine.objects.create(invoice=invoice, cdr=cdr, description=f"Line {n}")
    # Session, user, membership, the invoice with its relations, its lines with their CDRs,
    # and the organization switcher.
    with django_assert_max_num_queries(6):
        response = viewer.get(org_url(org, f"{INVOICES}{invoice.pk}/"))
    assert len(response.context["lines"]) == 20


# --- tariffs ----------------------------------------------------------------------------------

NIGHT_PARKING = [
    {"price_components": [{"type": "ENERGY", "price": "0.30"}]},
    {
        "price_components": [{"type": "PARKING_TIME", "price": "2.00"}],
        "restrictions": {
            "start_time": "22:00",
            "end_time": "06:00",
            "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
        },
    },
]


@pytest.mark.parametrize(
    ("element", "words"),
    [
        (
            {
                "price_components": [
                    {"type": "ENERGY", "price": "0.30"},
                    {"type": "PARKING_TIME", "price": "2"},
                ],
                "restrictions": {
                    "start_time": "22:00",
                    "end_time": "06:00",
                    "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
                },
            },
            "0.30 EUR per kWh · 2.00 EUR per hour parking · 22:00–06:00 · Mon–Fri",
        ),
        (
            {"price_components": [{"type": "FLAT", "price": "1.5"}]},
            "1.50 EUR per session",
        ),
        (
            {"price_components": [{"type": "TIME", "price": "0.0125", "step_size": 900}]},
            "0.0125 EUR per hour charging (in steps of 15 min)",
        ),
        (
            {
                "price_components": [{"type": "ENERGY", "price": "0.45", "step_size": 100}],
                "restrictions": {"min_power": 50, "day_of_week": ["SATURDAY", "SUNDAY"]},
            },
            "0.45 EUR per kWh (in steps of 100 Wh) · Sat, Sun · at 50 kW or more",
        ),
        (
            {
                "price_components": [{"type": "ENERGY", "price": "0.25"}],
                "restrictions": {
                    "start_date": "2026-06-01",
                    "end_date": "2026-09-01",
                    "max_kwh": "20.5",
                    "min_duration": 1800,
                    "max_duration": 5400,
                },
            },
            "0.25 EUR per kWh · 06/01/2026 – 08/31/2026 · below 20.5 kWh charged"
            " · after 30 min, for 1 h 30 min from the start",
        ),
    ],
)
def test_a_tariff_element_is_explained_in_words(element, words):
    (parsed,) = parse_elements([element])
    assert element_words(parsed, "EUR") == words


def test_the_tariffs_page_explains_each_tariff(org, viewer):
    TariffFactory(
        organization=org,
        name="Night",
        currency="EUR",
        tax_rate=Decimal("19"),
        elements=NIGHT_PARKING,
        min_price=Decimal("1"),
        max_price=Decimal("50"),
    )
    body = viewer.get(org_url(org, TARIFFS)).content.decode()
    assert "Night" in body and "19 %" in body
    assert "0.30 EUR per kWh" in body
    assert "2.00 EUR per hour parking · 22:00–06:00 · Mon–Fri" in body
    assert "1.00 EUR" in body and "50.00 EUR" in body
    assert "Valid now" in body


def test_the_tariffs_page_shows_where_each_tariff_applies(org, station, viewer):
    tariff = TariffFactory(organization=org, name="Public")
    group = AccessGroupFactory(organization=org, name="Fleet Nord")
    for scope, target in [
        ("organization", {}),
        ("site", {"site": station.site}),
        ("station", {"station": station}),
        ("access_group", {"access_group": group}),
    ]:
        TariffAssignment.objects.create(organization=org, tariff=tariff, scope=scope, **target)
    RoamingPartner.objects.create(
        organization=org, name="Hubject", country_code="DE", party_id="HBJ", tariff=tariff
    )
    places = viewer.get(org_url(org, TARIFFS)).context["tariffs"][0].places
    assert places == [
        "Access group Fleet Nord",
        "Default of the organization",
        f"Site {station.site.name}",
        "Station CS-DEMO-1",
        "Roaming partner Hubject",
    ]


def test_the_tariffs_page_lists_only_the_organizations_tariffs(org, other_org, viewer):
    mine = TariffFactory(organization=org, name="Ours")
    TariffFactory(organization=other_org, name="Theirs")
    response = viewer.get(org_url(org, TARIFFS))
    assert [tariff.pk for tariff in response.context["tariffs"]] == [mine.pk]
    assert "Theirs" not in response.content.decode()


def test_a_tariff_with_invalid_elements_shows_the_parsers_messages(org, viewer):
    TariffFactory(organization=org, elements=[{"price_components": [{"type": "KWH"}]}])
    body = viewer.get(org_url(org, TARIFFS)).content.decode()
    assert "elements[0].price_components[0].type: must be one of" in body


def test_an_expired_tariff_is_marked_expired(org, viewer):
    TariffFactory(
        organization=org,
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        valid_to=datetime(2025, 7, 1, tzinfo=UTC),
    )
    assert viewer.get(org_url(org, TARIFFS)).context["tariffs"][0].validity == "expired"


def test_the_tariffs_page_reads_in_a_fixed_number_of_queries(
    org, station, viewer, django_assert_max_num_queries
):
    for n in range(12):
        tariff = TariffFactory(organization=org, name=f"T{n}")
        other = ChargingStationFactory(organization=org)
        target = [
            {"scope": "station", "station": other},
            {"scope": "site", "site": other.site},
            {"scope": "access_group", "access_group": AccessGroupFactory(organization=org)},
        ][n % 3]
        TariffAssignment.objects.create(organization=org, tariff=tariff, **target)
    # Session, user, membership, tariffs, their assignments, sites, stations, groups,
    # roaming partners, and the organization switcher.
    with django_assert_max_num_queries(10):
        response = viewer.get(org_url(org, TARIFFS))
    assert len(response.context["tariffs"]) == 12


# --- charge detail records --------------------------------------------------------------------


def test_the_cdr_list_shows_only_the_organizations_records_linked_to_their_sessions(
    org, other_org, station, viewer
):
    session = completed(station)
    mine = make_cdr(session, total_incl_tax=Decimal("5.5"))
    make_cdr(completed(ChargingStationFactory(organization=other_org)))
    response = viewer.get(org_url(org, CDRS))
    assert listed(response, "cdrs") == [mine.pk]
    body = response.content.decode()
    assert f'href="{org_url(org, f"sessions/{session.pk}/")}"' in body
    assert "5.50 EUR" in body


def test_filtering_by_another_organizations_session_is_refused(org, other_org, viewer):
    theirs = make_cdr(completed(ChargingStationFactory(organization=other_org)))
    response = viewer.get(org_url(org, CDRS), {"session": theirs.session_id})
    assert response.status_code == 400
    assert response.context["cdrs"] == []


def test_the_cdr_list_is_newest_first(org, station, viewer):
    older = make_cdr(completed(station, start=MAR))
    newer = make_cdr(completed(station, start=MAR + timedelta(days=2)))
    assert listed(viewer.get(org_url(org, CDRS)), "cdrs") == [newer.pk, older.pk]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "credit"}, "credit"),
        ({"station": "elsewhere"}, "elsewhere"),
        # March 10, 23:30 UTC is already March 11 in Berlin.
        ({"date_from": "2026-03-11", "date_to": "2026-03-11"}, "late"),
    ],
)
def test_a_filter_narrows_the_cdrs(org, station, viewer, params, expected):
    elsewhere = ChargingStationFactory(organization=org)
    charge = make_cdr(completed(station, start=MAR + timedelta(days=1)), total_incl_tax=5)
    records = {
        "credit": make_cdr(
            charge.session, kind="credit", corrects=charge, total_incl_tax=Decimal("-5")
        ),
        "elsewhere": make_cdr(completed(elsewhere, start=MAR + timedelta(days=3))),
        "late": make_cdr(
            completed(station, start=datetime(2026, 3, 10, 22, 30, tzinfo=UTC), minutes=60)
        ),
    }
    if params.get("station") == "elsewhere":
        params = {"station": elsewhere.pk}
    assert listed(viewer.get(org_url(org, CDRS), params), "cdrs") == [records[expected].pk]


def test_the_station_filter_offers_only_the_organizations_stations(org, other_org, station, viewer):
    ChargingStationFactory(organization=other_org)
    form = viewer.get(org_url(org, CDRS)).context["filterset"].form
    assert list(form.fields["station"].queryset) == [station]


def test_the_cdr_list_reads_a_page_in_a_fixed_number_of_queries(
    org, station, viewer, django_assert_max_num_queries
):
    for n in range(30):
        card = IdTokenFactory(organization=org)
        make_cdr(completed(station, start=MAR + timedelta(hours=n), id_token=card), id_token=card)
    # Session, user, membership, the count, the page, the station choices, the switcher.
    with django_assert_max_num_queries(7):
        response = viewer.get(org_url(org, CDRS))
    assert len(listed(response, "cdrs")) == 30


# --- a session's price ------------------------------------------------------------------------


def session_page(viewer, org, session) -> str:
    response = viewer.get(org_url(org, f"sessions/{session.pk}/"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_session_without_a_record_is_not_priced_yet(org, station, viewer):
    session = completed(station)
    assert "Not priced yet" in session_page(viewer, org, session)


def test_a_priced_session_shows_each_component_and_the_totals(org, station, viewer):
    session = completed(station)
    make_cdr(
        session,
        tariff_snapshot={"name": "Public AC"},
        tax_rate=Decimal("19"),
        components=[
            {
                "component": "ENERGY",
                "volume": 12340,
                "quantity": "12.340",
                "unit": "kWh",
                "unit_price": "0.3900",
                "amount": "4.8126",
            },
            {
                "component": "PARKING_TIME",
                "volume": 5400,
                "quantity": "1.500000",
                "unit": "h",
                "unit_price": "2.0000",
                "amount": "3.0000",
            },
            {
                "component": "FLAT",
                "volume": 1,
                "quantity": "1",
                "unit": "session",
                "unit_price": "1.0000",
                "amount": "1.0000",
            },
        ],
        total_excl_tax=Decimal("8.81"),
        tax_amount=Decimal("1.67"),
        total_incl_tax=Decimal("10.48"),
    )
    body = session_page(viewer, org, session)
    assert "Public AC" in body
    assert "12.340 kWh" in body and "0.39 EUR" in body and "4.81 EUR" in body
    assert "Parking time" in body and "1:30:00 h" in body and "2.00 EUR" in body
    assert "Session fee" in body and "1 session" in body
    assert "8.81 EUR" in body and "Tax (19 %)" in body and "1.67 EUR" in body
    assert "10.48 EUR" in body
    assert "Not priced yet" not in body


def test_a_free_session_shows_why_it_is_free(org, station, viewer):
    session = completed(station)
    make_cdr(session, reason="Started remotely by an operator; operator starts are never billed")
    body = session_page(viewer, org, session)
    assert "Free of charge:" in body
    assert "Started remotely by an operator" in body
    assert "0.00 EUR" in body


def test_a_credited_session_lists_the_credit_and_what_is_owed(org, station, viewer):
    session = completed(station)
    charge = make_cdr(session, total_excl_tax=Decimal("10"), total_incl_tax=Decimal("11.9"))
    credit = make_cdr(
        session,
        kind="credit",
        corrects=charge,
        reason="Credit: Billing stopped by anna: test drive",
        total_excl_tax=Decimal("-10"),
        total_incl_tax=Decimal("-11.9"),
    )
    response = viewer.get(org_url(org, f"sessions/{session.pk}/"))
    price = response.context["price"]
    assert (price["charge"], price["credits"], price["net"]) == (charge, [credit], Decimal("0"))
    body = response.content.decode()
    assert "Credit: Billing stopped by anna: test drive" in body
    assert "-11.90 EUR" in body
    assert "Owed after credits:" in body
