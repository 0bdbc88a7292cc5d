"""Closing billing periods: an organization's uninvoiced charge records become numbered invoices.

Who is billed (the billing account of a record):
- the roaming partner, when the session came through one;
- else the card (IdToken) the session was authorized with;
- else, for a record with neither (a card deleted after charging, a tag the platform never knew),
  the id tag the station sent, with that tag as the holder name: it is the only thing that tells
  whose charge it is, and one account per tag keeps different drivers off one invoice.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from billing.choices import CdrKind
from billing.models import BillingPeriod, ChargeDetailRecord, Invoice, InvoiceLine
from core.timezones import day_start, zone_of
from organizations.choices import BillingPeriodLength
from organizations.models import Organization

# What an invoice keeps of its issuer: the organization's fields as they were at issue.
ISSUER_FIELDS = (
    "name",
    "billing_address",
    "vat_id",
    "contact_name",
    "contact_email",
    "contact_phone",
)

ZERO = Decimal(0)
CENT = Decimal("0.01")

# Rows per INSERT: bounded, as PostgreSQL takes at most 65,535 parameters per statement with
# server-side binding, and a busy month has tens of thousands of sessions.
BATCH_SIZE = 1000

# Kinds of billing account in the order their invoices are numbered within one close.
PARTNER, CARD, ID_TAG = 0, 1, 2


def period_bounds(organization: Organization, moment: datetime) -> tuple[datetime, datetime]:
    """The organization's billing period containing `moment`, as aware UTC start and end."""
    zone = zone_of(organization)
    first, following = _period_days(organization.billing_period, moment.astimezone(zone).date())
    # Midnights are placed on the local calendar before converting, so a period with a DST
    # change in it is an hour shorter or longer rather than starting at 23:00 or 01:00.
    return day_start(first, zone).astimezone(UTC), day_start(following, zone).astimezone(UTC)


def _period_days(length: str, day: date) -> tuple[date, date]:
    """The first day of the period containing `day` and the first day of the next one."""
    if length == BillingPeriodLength.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=7)
    months = 3 if length == BillingPeriodLength.QUARTERLY else 1
    month = (day.month - 1) // months * months + 1
    after = month - 1 + months  # months since January of day.year, zero-based
    return date(day.year, month, 1), date(day.year + after // 12, after % 12 + 1, 1)


def close_period(organization: Organization, start: datetime, end: datetime) -> BillingPeriod:
    """Invoice every uninvoiced non-zero record accounted before `end`; idempotent per start."""
    return _close_period(organization, start, end)[0]


def _close_period(organization, start, end) -> tuple[BillingPeriod, bool]:
    """The closed period and whether this call closed it (False: it was closed already)."""
    if end <= start:
        raise ValueError(f"A billing period must end after it starts ({start} – {end}).")
    with transaction.atomic():
        # The row lock serializes closes within one organization: sequence numbers stay gapless,
        # and a second close of the same period waits here, then finds the first one's period.
        org = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        existing = BillingPeriod.objects.for_org(org).filter(start=start).first()
        if existing is not None:
            return existing, False
        records = (
            ChargeDetailRecord.objects.for_org(org)
            .uninvoiced()
            .exclude(total_incl_tax=0)
            # No lower bound: a record rated or credited after its own period was closed is
            # invoiced with the next close instead of never.
            .filter(accounted_at__lt=end)
            .select_related("session__station", "id_token", "roaming_partner", "corrects")
            .order_by("accounted_at", "pk")
        )
        groups = _group_by_account(records)
        period = BillingPeriod.objects.create(
            organization=org, start=start, end=end, invoice_count=len(groups)
        )
        last = Invoice.objects.for_org(org).aggregate(last=Max("sequence"))["last"] or 0
        issuer = {field: getattr(org, field) for field in ISSUER_FIELDS}
        # Sorted keys make the numbering reproducible: the same records get the same numbers.
        ordered = sorted(groups.items())
        invoices = [
            _invoice(org, period, last + offset, key, group, issuer)
            for offset, (key, group) in enumerate(ordered, start=1)
        ]
        Invoice.objects.bulk_create(invoices, batch_size=BATCH_SIZE)
        zone = zone_of(org)
        InvoiceLine.objects.bulk_create(
            (
                _line(invoice, record, zone)
                for invoice, (_, group) in zip(invoices, ordered, strict=True)
                for record in group
            ),
            batch_size=BATCH_SIZE,
        )
    return period, True


def _group_by_account(records) -> dict[tuple, list[ChargeDetailRecord]]:
    """Records per (account kind, sort label, account id, currency), in accounting order."""
    groups = defaultdict(list)
    for record in records:
        if record.roaming_partner_id is not None:
            account = (PARTNER, record.roaming_partner.name, record.roaming_partner_id)
        elif record.id_token_id is not None:
            account = (CARD, record.id_token.uid, record.id_token_id)
        else:
            account = (ID_TAG, record.session.id_tag, 0)
        groups[(*account, record.currency)].append(record)
    return groups


def _invoice(org, period, sequence, key, records, issuer) -> Invoice:
    """An unsaved invoice for one account and currency: totals are the sums of its lines."""
    kind, label, _, currency = key
    first = records[0]
    invoice = Invoice(
        organization=org,
        billing_period=period,
        sequence=sequence,
        number=f"{org.invoice_prefix}{sequence:06d}",
        issuer=issuer,
        period_start=period.start,
        period_end=period.end,
        currency=currency,
        total_excl_tax=sum((record.total_excl_tax for record in records), ZERO),
        tax_amount=sum((record.tax_amount for record in records), ZERO),
        total_incl_tax=sum((record.total_incl_tax for record in records), ZERO),
        tax_breakdown=_tax_breakdown(records),
    )
    if kind == PARTNER:
        invoice.roaming_partner = first.roaming_partner
        invoice.holder_name = first.roaming_partner.name
    elif kind == CARD:
        invoice.id_token = first.id_token
        invoice.holder_name = first.id_token.holder_name
        invoice.holder_email = first.id_token.holder_email
    else:
        invoice.holder_name = label
    return invoice


def _tax_breakdown(records) -> list[dict]:
    """Base and tax per tax rate, lowest rate first, as strings (the JSON keeps them exact)."""
    per_rate = defaultdict(lambda: [ZERO, ZERO])
    for record in records:
        sums = per_rate[record.tax_rate]
        sums[0] += record.total_excl_tax
        sums[1] += record.tax_amount
    return [
        {"rate": str(rate.quantize(CENT)), "base": _amount(base), "tax": _amount(tax)}
        for rate, (base, tax) in sorted(per_rate.items())
    ]


def _amount(value: Decimal) -> str:
    """Cents when the amount is whole cents (it is, for rated records), else all four places."""
    cents = value.quantize(CENT)
    return str(cents if cents == value else value)


def _line(invoice: Invoice, record: ChargeDetailRecord, zone: tzinfo) -> InvoiceLine:
    """The invoice line of one record: one session at the record's total, tax as rated."""
    session = record.session
    # A credit of part of a charge (a refund) carries no energy of its own: named by its charge's.
    measured = record.corrects if record.kind == CdrKind.CREDIT and record.corrects else record
    kwh = Decimal(measured.energy_wh) / 1000
    subject = (
        f"session at {session.station.ocpp_id} on "
        f"{session.start.astimezone(zone):%Y-%m-%d %H:%M}, {kwh:.3f} kWh"
    )
    # Stored in English; billing.pdf.LINE_DESCRIPTION reads the parts back to show the line in
    # the reader's language: change both together.
    if record.kind == CdrKind.CREDIT:
        description = f"Credit for charging {subject}"
    else:
        description = f"Charging {subject}"
    return InvoiceLine(
        invoice=invoice,
        cdr=record,
        description=description[: InvoiceLine._meta.get_field("description").max_length],
        quantity=Decimal(1),
        unit="session",
        unit_price=record.total_excl_tax,
        tax_rate=record.tax_rate,
        amount_excl_tax=record.total_excl_tax,
        tax_amount=record.tax_amount,
        amount_incl_tax=record.total_incl_tax,
    )


def close_due_periods(now=None, *, organizations=None, until=None) -> list[BillingPeriod]:
    """Close every ended, not yet closed billing period of each organization, oldest first."""
    now = now or timezone.now()
    if organizations is None:
        organizations = Organization.objects.all()
    closed = []
    for org in organizations.order_by("pk"):
        horizon = now
        if until is not None:
            # `until` is a calendar day of the organization: periods that ended by its start.
            horizon = min(now, day_start(until, zone_of(org)))
        closed += _close_due_periods_of(org, horizon)
    return closed


def _close_due_periods_of(org: Organization, now: datetime) -> list[BillingPeriod]:
    """Close the organization's periods from where closing stopped up to the last ended one."""
    cursor = (
        BillingPeriod.objects.for_org(org).order_by("-end").values_list("end", flat=True).first()
    )
    if cursor is None:
        oldest = (
            ChargeDetailRecord.objects.for_org(org)
            .uninvoiced()
            .exclude(total_incl_tax=0)
            .order_by("accounted_at")
            .values_list("accounted_at", flat=True)
            .first()
        )
        if oldest is None:
            return []
        cursor = period_bounds(org, oldest)[0]
    closed = []
    while True:
        # Starting at the cursor rather than at the period's own start: after a change of the
        # period length or time zone the first period is shortened, never overlapping the last.
        end = period_bounds(org, cursor)[1]
        if end > now:
            # The running period (and anything after it) stays open.
            return closed
        period, created = _close_period(org, cursor, end)
        if created:
            closed.append(period)
        cursor = end
