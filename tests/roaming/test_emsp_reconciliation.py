"""Reconciling a CPO partner's invoice with its CDRs: the service, and the portal's upload."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from organizations.choices import Role
from roaming.choices import ReconciliationState
from roaming.models import PartnerCdr
from roaming.ocpi.v221.receiving import store_cdr
from roaming.reconciliation import (
    EXCL_VAT,
    InvoiceError,
    InvoiceLine,
    read_invoice_csv,
    reconcile_invoice,
)
from tests.portalclients import org_url, portal_client
from tests.roaming.emsp_objects import cdr, cpo_partner, emsp_profile

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)


@pytest.fixture
def partner(org):
    emsp_profile(org)
    return cpo_partner(org)


def received(partner, cdr_id, incl="6.25", excl="5.25", start="2026-03-02T10:00:00Z"):
    row, _created = store_cdr(
        partner,
        cdr(
            cdr_id,
            total_cost={"excl_vat": float(excl), "incl_vat": float(incl)},
            start_date_time=start,
        ),
    )
    return row


def state(cdr_id) -> tuple:
    row = PartnerCdr.objects.get(ocpi_id=cdr_id)
    return row.reconciliation, row.invoiced_amount, row.invoice_reference


# --- the service ----------------------------------------------------------------------------


def test_an_invoice_line_within_a_cent_matches_and_beyond_is_disputed(partner):
    received(partner, "C1", incl="6.25")
    received(partner, "C2", incl="10.00")
    lines = [InvoiceLine("C1", Decimal("6.26"), "INV-1"), InvoiceLine("C2", Decimal("10.02"))]
    result = reconcile_invoice(partner, lines, month=MARCH, invoice_reference="INV-9")
    assert [c.cdr.ocpi_id for c in result.matched] == ["C1"]
    assert [c.cdr.ocpi_id for c in result.disputed] == ["C2"]
    assert state("C1") == (ReconciliationState.MATCHED, Decimal("6.26"), "INV-1")
    assert state("C2") == (ReconciliationState.DISPUTED, Decimal("10.02"), "INV-9")
    assert result.disputed[0].difference == Decimal("0.02")


def test_lines_naming_no_cdr_of_the_partner_are_listed_as_unknown(partner, org):
    other_partner = cpo_partner(org, token="second-cpo-token-0123456789", party=("FR", "TTT"))
    received(other_partner, "THEIRS")
    result = reconcile_invoice(partner, [InvoiceLine("THEIRS", Decimal("6.25"))], month=MARCH)
    assert [line.cdr_id for line in result.unknown] == ["THEIRS"]
    assert state("THEIRS")[0] == ReconciliationState.OPEN


def test_open_cdrs_of_the_month_not_on_the_invoice_are_listed(partner):
    received(partner, "C1")
    received(partner, "C2", start="2026-03-30T10:00:00Z")
    received(partner, "APRIL", start="2026-04-02T10:00:00Z")
    result = reconcile_invoice(partner, [InvoiceLine("C1", Decimal("6.25"))], month=MARCH)
    assert [row.ocpi_id for row in result.not_invoiced] == ["C2"]


def test_the_month_is_the_organizations_local_month(partner):
    # 23:30 UTC on 31 March is already April in Berlin (UTC+2 in summer time).
    received(partner, "LATE", start="2026-03-31T22:30:00Z")
    received(partner, "C1")
    result = reconcile_invoice(partner, [InvoiceLine("C1", Decimal("6.25"))], month=MARCH)
    assert result.not_invoiced == []


def test_amounts_can_be_compared_without_vat(partner):
    received(partner, "C1", incl="6.25", excl="5.25")
    result = reconcile_invoice(
        partner, [InvoiceLine("C1", Decimal("5.25"))], month=MARCH, basis=EXCL_VAT
    )
    assert [c.cdr.ocpi_id for c in result.matched] == ["C1"]


def test_an_invoice_naming_a_cdr_twice_is_refused_whole(partner):
    received(partner, "C1")
    lines = [InvoiceLine("C1", Decimal("6.25")), InvoiceLine("C1", Decimal("1"))]
    with pytest.raises(InvoiceError):
        reconcile_invoice(partner, lines, month=MARCH)
    assert state("C1")[0] == ReconciliationState.OPEN


def test_the_csv_reader_takes_commas_or_semicolons_and_decimal_commas():
    text = "CDR_ID;Amount;Invoice_Reference\nC1;6,25;INV-1\n\nC2;10.5;\n"
    lines = read_invoice_csv(text.encode())
    assert lines == [
        InvoiceLine("C1", Decimal("6.25"), "INV-1"),
        InvoiceLine("C2", Decimal("10.5"), ""),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"cdr,total\nC1,5\n", "Required columns missing"),
        (b"cdr_id,amount\nC1,five\n", "Line 2"),
        (b"cdr_id,amount\n,5\n", "Line 2"),
        (b"cdr_id,amount\n", "no lines"),
        ("cdr_id,amount\nC\u00e9,5\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_a_bad_invoice_file_says_what_is_wrong(content, message):
    with pytest.raises(InvoiceError) as refused:
        read_invoice_csv(content)
    assert message in " ".join(refused.value.messages)


# --- the portal page ------------------------------------------------------------------------


def upload(client, organization, partner, content: bytes, **fields):
    data = {
        "partner": partner.pk,
        "month": "2026-03",
        "basis": "incl_vat",
        "invoice_reference": "INV-42",
        "file": SimpleUploadedFile("invoice.csv", content, content_type="text/csv"),
        **fields,
    }
    return client.post(org_url(organization, "roaming/reconciliation/"), data)


def test_an_admin_uploads_an_invoice_and_sees_the_result(org, partner):
    received(partner, "C1", incl="6.25")
    received(partner, "C2", incl="3.00")
    received(partner, "C3", incl="4.00")
    content = b"cdr_id,amount\nC1,6.25\nC2,3.50\nGHOST,1.00\n"
    response = upload(portal_client(org, Role.ADMIN), org, partner, content)
    assert response.status_code == 200
    result = response.context["result"]
    assert [c.cdr.ocpi_id for c in result.matched] == ["C1"]
    assert [c.cdr.ocpi_id for c in result.disputed] == ["C2"]
    assert [line.cdr_id for line in result.unknown] == ["GHOST"]
    assert [row.ocpi_id for row in result.not_invoiced] == ["C3"]
    page = response.content.decode()
    assert 'data-cdr="GHOST"' in page
    assert state("C2") == (ReconciliationState.DISPUTED, Decimal("3.5"), "INV-42")


def test_a_bad_file_is_a_form_error_and_changes_nothing(org, partner):
    received(partner, "C1")
    content = b"cdr_id,amount\nC1,6.25\nC2,lots\n"
    response = upload(portal_client(org, Role.ADMIN), org, partner, content)
    assert response.status_code == 400
    assert "Line 3" in " ".join(response.context["form"].errors["file"])
    assert state("C1")[0] == ReconciliationState.OPEN


def test_a_partner_of_another_organization_cannot_be_chosen(org, partner, other_org):
    theirs = cpo_partner(other_org, token="outsider-cpo-token-0123456789")
    received(theirs, "C1")
    response = upload(portal_client(org, Role.ADMIN), org, theirs, b"cdr_id,amount\nC1,6.25\n")
    assert response.status_code == 400
    assert "partner" in response.context["form"].errors
    assert state("C1")[0] == ReconciliationState.OPEN


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_members_below_admin_see_the_page_but_cannot_reconcile(org, partner, role):
    received(partner, "C1")
    client = portal_client(org, role)
    page = client.get(org_url(org, "roaming/reconciliation/"))
    assert page.status_code == 200
    assert "Upload an invoice" not in page.content.decode()
    assert upload(client, org, partner, b"cdr_id,amount\nC1,6.25\n").status_code == 403
    assert state("C1")[0] == ReconciliationState.OPEN


def test_an_outsider_gets_404_and_changes_nothing(org, partner, other_org):
    received(partner, "C1")
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.get(org_url(org, "roaming/reconciliation/")).status_code == 404
    response = upload(outsider, org, partner, b"cdr_id,amount\nC1,6.25\n")
    assert response.status_code == 404
    assert state("C1")[0] == ReconciliationState.OPEN
