"""Invoice PDFs are tagged PDF/UA with language and title; lines read in the reader's language."""

import re
from decimal import Decimal

import pytest
from django.utils import translation

from billing.choices import CdrKind
from billing.invoicing import close_period
from billing.pdf import line_description, render_invoice_pdf
from organizations.choices import Role
from tests.billing.test_invoice_pdf import pdf_objects
from tests.billing.test_portal_billing import APR, MAR, completed, make_cdr, make_invoice
from tests.portalclients import org_url, portal_client

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning"),
]

GERMAN = {"accept-language": "de"}


@pytest.fixture
def issued(org, station):
    """An invoice issued by closing a period: one charge line and one credit line."""
    session = completed(station)
    make_cdr(
        session,
        tax_rate=Decimal("19"),
        total_excl_tax=Decimal("10.00"),
        tax_amount=Decimal("1.90"),
        total_incl_tax=Decimal("11.90"),
    )
    make_cdr(
        completed(station, start=MAR.replace(day=3, hour=8), energy_wh=1500),
        kind=CdrKind.CREDIT,
        tax_rate=Decimal("19"),
        total_excl_tax=Decimal("-1.00"),
        tax_amount=Decimal("-0.19"),
        total_incl_tax=Decimal("-1.19"),
    )
    (invoice,) = close_period(org, MAR, APR).invoices.all()
    return invoice


def test_the_pdf_is_tagged_pdf_ua_with_a_structure_tree(issued):
    objects = pdf_objects(render_invoice_pdf(issued))
    assert re.search(rb"/StructTreeRoot\s+\d+ 0 R", objects)
    assert re.search(rb"/MarkInfo\s*<<\s*/Marked\s+true", objects)
    assert re.search(rb"/DisplayDocTitle\s+true", objects)
    # PDF/UA's identification in the XMP metadata.
    assert b"pdfuaid:part" in objects
    # The table is tagged as one, with header cells.
    assert b"/Table" in objects and b"/TH" in objects


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_pdf_declares_the_language_it_is_written_in(issued, language):
    with translation.override(language):
        objects = pdf_objects(render_invoice_pdf(issued))
    assert re.search(rb"/Lang\s*\(" + language.encode() + rb"\)", objects)


def test_a_stored_line_description_reads_in_german():
    stored = "Charging session at CS-DEMO-1 on 2026-03-02 10:00, 12.000 kWh"
    with translation.override("de"):
        assert line_description(stored) == "Ladevorgang an CS-DEMO-1, 02.03.2026 10:00, 12,000 kWh"
    with translation.override("en"):
        assert "CS-DEMO-1" in line_description(stored) and "12.000 kWh" in line_description(stored)


def test_a_stored_credit_line_reads_as_a_credit_in_german():
    stored = "Credit for charging session at A on B on 2026-03-03 09:00, -1.500 kWh"
    with translation.override("de"):
        assert line_description(stored) == (
            "Gutschrift: Ladevorgang an A on B, 03.03.2026 09:00, -1,500 kWh"
        )


def test_a_description_written_otherwise_is_shown_as_stored():
    with translation.override("de"):
        assert line_description("Roaming fee March") == "Roaming fee March"


def test_the_german_invoice_page_shows_german_line_labels(org, issued):
    response = portal_client(org, Role.VIEWER).get(
        org_url(org, f"billing/invoices/{issued.pk}/"), headers=GERMAN
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ladevorgang an CS-DEMO-1" in html
    assert "Gutschrift: Ladevorgang an CS-DEMO-1" in html
    assert "Charging session at" not in html
    assert "Credit for charging" not in html


def test_the_english_invoice_page_keeps_english_line_labels(org, issued):
    html = portal_client(org).get(org_url(org, f"billing/invoices/{issued.pk}/")).content.decode()
    assert "Session at CS-DEMO-1" in html
    assert "Credit: Session at CS-DEMO-1" in html


def test_an_invoice_without_parsable_lines_still_renders_in_german(org):
    invoice = make_invoice(org, lines=[("Monthly fee", "5.0000", "19", "0.9500")])
    response = portal_client(org).get(
        org_url(org, f"billing/invoices/{invoice.pk}/"), headers=GERMAN
    )
    assert "Monthly fee" in response.content.decode()
