"""Reconciling a CPO partner's invoice with the CDRs it sent us (our eMSP role).

Each invoice line names a CDR by its OCPI id and the amount invoiced. A CDR whose amount
agrees within a cent is MATCHED, one that differs more is DISPUTED; lines naming no CDR of
the partner are listed as unknown; the partner's CDRs of the invoiced month (by their start,
in the organization's time zone) still open and not on the invoice are listed as not invoiced.
Everything is written in one transaction or not at all.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from core.timezones import day_start, zone_of
from roaming.choices import ReconciliationState
from roaming.models import PartnerCdr, RoamingPartner

TOLERANCE = Decimal("0.01")
PLACES = Decimal("0.0001")
LARGEST = Decimal("100000000")
MAX_BYTES = 2 * 1024 * 1024
MAX_LINES = 20_000
CHUNK = 500
# Which total of the CDR the invoice's amounts are compared with.
INCL_VAT, EXCL_VAT = "incl_vat", "excl_vat"
BASES = (INCL_VAT, EXCL_VAT)
COLUMNS = ("cdr_id", "amount", "invoice_reference")


class InvoiceError(Exception):
    """The invoice cannot be reconciled as it is; `messages` say why (nothing was written)."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class InvoiceLine:
    """One line of a partner's invoice: the CDR it bills and the amount."""

    cdr_id: str
    amount: Decimal
    invoice_reference: str = ""


@dataclass
class Checked:
    """A CDR on the invoice: what it says it cost, what the invoice says."""

    cdr: PartnerCdr
    line: InvoiceLine
    cdr_amount: Decimal | None

    @property
    def difference(self) -> Decimal | None:
        return None if self.cdr_amount is None else self.line.amount - self.cdr_amount


@dataclass
class Reconciliation:
    """The outcome of an invoice: matched, disputed, unknown lines, CDRs not invoiced."""

    month: date
    basis: str
    matched: list[Checked] = field(default_factory=list)
    disputed: list[Checked] = field(default_factory=list)
    unknown: list[InvoiceLine] = field(default_factory=list)
    not_invoiced: list[PartnerCdr] = field(default_factory=list)


def parse_amount(raw) -> Decimal:
    """An invoiced amount: a number (decimal point, or a comma when there is no point)."""
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, Decimal | int | float):
        text = str(raw)
    else:
        text = str(raw).strip().replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if not value.is_finite() or abs(value) >= LARGEST:
        raise ValueError
    return value.quantize(PLACES)


def check_lines(lines: list[InvoiceLine]) -> list[InvoiceLine]:
    """The lines, refused whole when empty or when a CDR is invoiced twice."""
    if not lines:
        raise InvoiceError([_("The invoice has no lines.")])
    seen, twice = set(), []
    for line in lines:
        if line.cdr_id in seen and line.cdr_id not in twice:
            twice.append(line.cdr_id)
        seen.add(line.cdr_id)
    if twice:
        raise InvoiceError(
            [_("CDRs invoiced more than once: %(ids)s.") % {"ids": ", ".join(twice[:20])}]
        )
    return lines


def read_invoice_csv(content: bytes) -> list[InvoiceLine]:
    """The lines of an invoice CSV: header `cdr_id,amount[,invoice_reference]`, `,` or `;`."""
    if len(content) > MAX_BYTES:
        raise InvoiceError(
            [_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // (1024 * 1024)}]
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvoiceError([_("The file is not UTF-8 text. Save it as 'CSV UTF-8'.")]) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        if not any(header):
            raise InvoiceError([_("The file is empty.")])
        missing = [name for name in COLUMNS[:2] if name not in header]
        if missing:
            raise InvoiceError(
                [
                    _("Required columns missing: %(columns)s (the header has: %(header)s).")
                    % {"columns": ", ".join(missing), "header": ", ".join(header)}
                ]
            )
        at = {name: header.index(name) for name in COLUMNS if name in header}
        lines, problems = [], []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            number = reader.line_num
            if len(lines) >= MAX_LINES:
                raise InvoiceError(
                    [_("The file has more than %(max)s lines; split it.") % {"max": MAX_LINES}]
                )
            line = _csv_line(cells, at, number, problems)
            if line is not None:
                lines.append(line)
    except csv.Error as error:
        raise InvoiceError(
            [_("Line %(line)s: %(error)s.") % {"line": reader.line_num, "error": error}]
        ) from None
    if problems:
        raise InvoiceError(problems[:20])
    return check_lines(lines)


def _csv_line(cells: list[str], at: dict, number: int, problems: list[str]) -> InvoiceLine | None:
    def cell(name: str) -> str:
        index = at.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    cdr_id, raw_amount = cell("cdr_id"), cell("amount")
    if not cdr_id:
        problems.append(_("Line %(line)s: the CDR id is empty.") % {"line": number})
        return None
    try:
        value = parse_amount(raw_amount)
    except ValueError:
        problems.append(
            _("Line %(line)s: %(amount)r is not an amount.")
            % {"line": number, "amount": raw_amount}
        )
        return None
    return InvoiceLine(cdr_id[:39], value, cell("invoice_reference")[:64])


def month_bounds(organization, month: date) -> tuple[datetime, datetime]:
    """The first moment of the month and of the next, in the organization's time zone."""
    zone = zone_of(organization)
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return day_start(first, zone), day_start(following, zone)


def cdr_amount(cdr: PartnerCdr, basis: str) -> Decimal | None:
    """The CDR's total the invoice is compared with."""
    return cdr.total_cost_incl_vat if basis == INCL_VAT else cdr.total_cost_excl_vat


def reconcile_invoice(
    partner: RoamingPartner,
    lines: list[InvoiceLine],
    *,
    month: date,
    basis: str = INCL_VAT,
    invoice_reference: str = "",
) -> Reconciliation:
    """Mark the partner's invoiced CDRs matched or disputed; list the unknown and the missing."""
    check_lines(lines)
    if basis not in BASES:
        raise InvoiceError([_("Compare with incl_vat or excl_vat.")])
    result = Reconciliation(month=month.replace(day=1), basis=basis)
    cdrs = PartnerCdr.objects.for_org(partner.organization_id).filter(partner=partner)
    with transaction.atomic():
        found: dict[str, list[PartnerCdr]] = {}
        ids = [line.cdr_id for line in lines]
        for start in range(0, len(ids), CHUNK):
            for cdr in cdrs.filter(ocpi_id__in=ids[start : start + CHUNK]).select_for_update():
                found.setdefault(cdr.ocpi_id, []).append(cdr)
        changed = []
        for line in lines:
            if line.cdr_id not in found:
                result.unknown.append(line)
                continue
            # A hub may route two parties' CDRs with the same id: the line bills each.
            for cdr in found[line.cdr_id]:
                checked = Checked(cdr, line, cdr_amount(cdr, basis))
                agrees = checked.difference is not None and abs(checked.difference) <= TOLERANCE
                cdr.reconciliation = (
                    ReconciliationState.MATCHED if agrees else ReconciliationState.DISPUTED
                )
                cdr.invoiced_amount = line.amount
                cdr.invoice_reference = line.invoice_reference or invoice_reference[:64]
                (result.matched if agrees else result.disputed).append(checked)
                changed.append(cdr)
        PartnerCdr.objects.bulk_update(
            changed, ["reconciliation", "invoiced_amount", "invoice_reference"], batch_size=500
        )
        first, following = month_bounds(partner.organization, month)
        # The invoiced CDRs are matched or disputed by now, so no longer open.
        result.not_invoiced = list(
            cdrs.filter(
                start__gte=first, start__lt=following, reconciliation=ReconciliationState.OPEN
            ).order_by("start", "pk")
        )
    return result
