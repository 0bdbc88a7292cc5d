"""An invoice as a document: the context its HTML page and its PDF share, and the PDF itself."""

import re
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from billing.invoicing import ISSUER_FIELDS
from billing.models import Invoice, InvoiceLine
from core.timezones import zone_of


def issuer_of(invoice: Invoice) -> dict:
    """Who issued the invoice, as it was at issue; the organization's name if nothing was kept."""
    snapshot = invoice.issuer if isinstance(invoice.issuer, dict) else {}
    issuer = {field: snapshot.get(field) or "" for field in ISSUER_FIELDS}
    if not issuer["name"]:
        issuer["name"] = invoice.organization.name
    return issuer


def tax_rows(invoice: Invoice, lines) -> list[dict]:
    """Base and tax per tax rate, from the invoice's breakdown (or its lines when it has none)."""
    if invoice.tax_breakdown:
        rows = [
            {key: Decimal(str(entry.get(key) or 0)) for key in ("rate", "base", "tax")}
            for entry in invoice.tax_breakdown
        ]
        return sorted(rows, key=lambda row: row["rate"])
    by_rate: dict[Decimal, dict] = {}
    for line in lines:
        row = by_rate.setdefault(
            line.tax_rate, {"rate": line.tax_rate, "base": Decimal(0), "tax": Decimal(0)}
        )
        row["base"] += line.amount_excl_tax
        row["tax"] += line.tax_amount
    return [by_rate[rate] for rate in sorted(by_rate)]


def last_day(end: datetime, zone: tzinfo):
    """The last local day of a half-open range that ends at `end`."""
    return (end.astimezone(zone) - timedelta(microseconds=1)).date()


def invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    """The invoice's lines in order, using a prefetch when the caller made one."""
    cache = getattr(invoice, "_prefetched_objects_cache", {})
    if "lines" in cache:
        return list(cache["lines"])
    return list(invoice.lines.select_related("cdr").order_by("id"))


# The description invoicing stores on a line (billing.invoicing._line), in English: the
# document shows it again in the reader's language, from its parts.
LINE_DESCRIPTION = re.compile(
    r"^(?P<kind>Credit for charging|Charging) session at (?P<station>.+) on "
    r"(?P<start>\d{4}-\d{2}-\d{2} \d{2}:\d{2}), (?P<kwh>-?\d+\.\d{3}) kWh$"
)


def line_description(description: str) -> str:
    """A stored line description in the active language; one written otherwise, as stored."""
    match = LINE_DESCRIPTION.match(description)
    if match is None:
        return description
    start = datetime.strptime(match["start"], "%Y-%m-%d %H:%M")
    session = _("Session at %(station)s, %(start)s") % {
        "station": match["station"],
        "start": formats.date_format(start, "SHORT_DATETIME_FORMAT"),
    }
    text = f"{session}, {formats.number_format(Decimal(match['kwh']), 3)} kWh"
    if match["kind"].startswith("Credit"):
        return f"{_('Credit')}: {text}"
    return text


def line_unit(unit: str) -> str:
    """A stored line unit in the active language."""
    if unit == "session":
        return pgettext("invoice line unit", "session")
    return unit


def document_context(invoice: Invoice) -> dict:
    """What the invoice template needs: issuer, recipient, dates in the org's zone, lines, tax."""
    zone = zone_of(invoice.organization)
    lines = invoice_lines(invoice)
    for line in lines:
        # Stored in English when the invoice was issued; shown in the reader's language.
        line.shown_description = line_description(line.description)
        line.shown_unit = line_unit(line.unit)
    return {
        "invoice": invoice,
        "issuer": issuer_of(invoice),
        "lines": lines,
        "tax_rows": tax_rows(invoice, lines),
        "time_zone": zone,
        "period_first_day": invoice.period_start.astimezone(zone).date(),
        "period_last_day": last_day(invoice.period_end, zone),
        "credit_note": invoice.total_incl_tax < 0,
    }


def _refuse_fetch(url, *args, **kwargs):
    # The document is self-contained; nothing in it (a holder's name included) may make the
    # server fetch a URL or read a file.
    raise ValueError(f"invoice PDFs load no external resources ({url})")


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as a tagged PDF/UA-1, in the active language, dates in its org's zone."""
    # Loaded on first use: every portal and API process imports this module, few print.
    import weasyprint  # noqa: PLC0415

    html = render_to_string("billing/invoice_pdf.html", document_context(invoice))
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=_refuse_fetch)
    # PDF/UA: a structure tree from the HTML (headings, tables with their header cells, lists),
    # the document's language from <html lang> and its title shown instead of the file name,
    # so a screen reader reads the invoice as the page is read.
    return document.write_pdf(pdf_variant="pdf/ua-1")


def prefetched_invoices(queryset):
    """Invoices with what their document reads, so a page or a PDF costs a fixed few queries."""
    lines = InvoiceLine.objects.select_related("cdr").order_by("id")
    return queryset.select_related(
        "organization", "id_token", "roaming_partner", "billing_period"
    ).prefetch_related(Prefetch("lines", queryset=lines))
