"""An invoice as a PDF: rendered by WeasyPrint from its template, offline, as a download."""

import re
import zlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from billing import pdf
from billing.invoicing import close_period
from billing.pdf import document_context, render_invoice_pdf
from organizations.choices import Role
from tests.billing.test_portal_billing import APR, MAR, completed, make_cdr, make_invoice
from tests.factories import IdTokenFactory
from tests.portalclients import org_url, portal_client

pytestmark = [
    pytest.mark.django_db,
    # Debian's HarfBuzz ships without the subset library; WeasyPrint subsets fonts itself.
    pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning"),
]


def pdf_objects(document: bytes) -> bytes:
    """Every object of a PDF as text: plain ones, and those WeasyPrint compressed in streams."""
    parts = [document]
    for start in re.finditer(rb"stream\r?\n", document):
        try:
            parts.append(zlib.decompressobj().decompress(document[start.end() :]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def pdf_titles(document: bytes) -> set[str]:
    """Every /Title (document information and bookmarks): literal, or UTF-16 hex."""
    titles = set()
    for found in re.finditer(
        rb"/Title\s*(?:\((?P<text>[^)]*)\)|<(?P<hex>[0-9A-Fa-f]+)>)", document
    ):
        if found["hex"]:
            titles.add(bytes.fromhex(found["hex"].decode()).decode("utf-16"))
        else:
            titles.add(found["text"].decode("latin-1"))
    return titles


def page_count(document: bytes) -> int:
    """How many page objects (/Type /Page, not the /Pages tree) the PDF has."""
    return len(re.findall(rb"/Type\s*/Page\b", pdf_objects(document)))


@pytest.fixture
def invoice(org):
    card = IdTokenFactory(organization=org, uid="04CAFE01")
    return make_invoice(
        org,
        id_token=card,
        holder_name="Erika Mustermann",
        holder_email="erika@example.com",
        issuer={"name": "Stadtwerke Demo GmbH", "billing_address": "Hafenstraße 1\n20457 Hamburg"},
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


def test_the_pdf_download_is_a_pdf_attachment_named_after_the_number(org, invoice):
    response = portal_client(org, Role.VIEWER).get(
        org_url(org, f"billing/invoices/{invoice.pk}/pdf/")
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="INV-000001.pdf"'
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")


def test_a_number_with_a_slash_gives_a_safe_file_name(org):
    invoice = make_invoice(org, number="RE/2026/000007")
    response = portal_client(org).get(org_url(org, f"billing/invoices/{invoice.pk}/pdf/"))
    assert response["Content-Disposition"] == 'attachment; filename="RE-2026-000007.pdf"'


def test_the_pdf_is_one_titled_page_for_a_short_invoice(invoice):
    document = render_invoice_pdf(invoice)
    assert document.startswith(b"%PDF-")
    assert page_count(document) == 1
    # The document's title (a reader shows it instead of the file name), not only a bookmark.
    assert "Invoice INV-000001 · Stadtwerke Demo GmbH" in pdf_titles(pdf_objects(document))
    # Text, fonts and lines are laid out: far more than an empty page's few hundred bytes.
    assert len(document) > 10_000


def test_a_long_invoice_continues_on_further_pages(org):
    lines = [(f"Charging session {n}", "4.0000", "19", "0.7600") for n in range(80)]
    invoice = make_invoice(org, lines=lines)
    assert page_count(render_invoice_pdf(invoice)) >= 2


def test_the_pdf_loads_no_external_resource(invoice, monkeypatch):
    fetched = []
    monkeypatch.setattr(pdf, "_refuse_fetch", lambda url, *args, **kwargs: fetched.append(url))
    render_invoice_pdf(invoice)
    assert fetched == []


def test_markup_in_a_holder_name_is_printed_as_text_not_fetched(org):
    invoice = make_invoice(org, holder_name='<img src="http://example.com/x.png">')
    html = render_to_string("billing/invoice_pdf.html", document_context(invoice))
    assert "&lt;img src=" in html and "<img" not in html
    assert render_invoice_pdf(invoice).startswith(b"%PDF-")


def test_the_pdf_document_shows_number_issuer_lines_tax_per_rate_and_totals(invoice):
    html = render_to_string("billing/invoice_pdf.html", document_context(invoice))
    assert "<title>Invoice INV-000001 · Stadtwerke Demo GmbH</title>" in html
    assert "Invoice INV-000001" in html
    assert "Stadtwerke Demo GmbH" in html and "Hafenstraße 1<br>20457 Hamburg" in html
    assert "Erika Mustermann" in html and "Card 04CAFE01" in html
    assert "Charging at CS-DEMO-1, 20.00 kWh" in html
    assert "Tax 7 % on 2.00 EUR" in html and "0.14 EUR" in html
    assert "Tax 19 % on 10.00 EUR" in html and "1.66 EUR" in html
    assert "Total tax" in html and "1.80 EUR" in html
    assert "12.00 EUR" in html and "13.80 EUR" in html
    # The PDF links nowhere: the page's session links stay on the page.
    assert "<a " not in html
    assert "<link" not in html and "url(" not in html


def test_the_pdf_document_dates_are_the_organizations_local_days(org, invoice):
    invoice.issued_at = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    html = render_to_string("billing/invoice_pdf.html", document_context(invoice))
    assert "April 1, 2026" in html
    assert "March 1, 2026 – March 31, 2026" in html


def test_an_invoice_without_an_issuer_snapshot_is_issued_by_the_organization(org):
    invoice = make_invoice(org)
    html = render_to_string("billing/invoice_pdf.html", document_context(invoice))
    assert org.name in html


def test_an_invoice_issued_by_closing_a_period_prints_issuer_line_and_tax(org, station):
    org.billing_address = "Hafenstraße 1\n20457 Hamburg"
    org.vat_id = "DE123456789"
    org.save()
    card = IdTokenFactory(organization=org, uid="04CAFE01", holder_name="Erika Mustermann")
    session = completed(station, id_token=card)
    make_cdr(
        session,
        id_token=card,
        tax_rate=Decimal("19"),
        total_excl_tax=Decimal("10.00"),
        tax_amount=Decimal("1.90"),
        total_incl_tax=Decimal("11.90"),
    )
    (invoice,) = close_period(org, MAR, APR).invoices.all()
    html = render_to_string("billing/invoice_pdf.html", document_context(invoice))
    assert "Hafenstraße 1<br>20457 Hamburg" in html and "VAT id: DE123456789" in html
    assert "Erika Mustermann" in html and "CS-DEMO-1" in html
    assert "Tax 19 % on 10.00 EUR" in html and "11.90 EUR" in html
    assert render_invoice_pdf(invoice).startswith(b"%PDF-")
