"""Query-string filters of the billing API."""

import django_filters
from django.db.models import Q

from billing.choices import (
    AssignmentScope,
    CdrKind,
    InvoiceStatus,
    PaymentPurpose,
    PaymentStatus,
    RefundStatus,
)
from billing.models import (
    BillingPeriod,
    ChargeDetailRecord,
    Invoice,
    Payment,
    PaymentRefund,
    Tariff,
    TariffAssignment,
)
from cards.models import AccessGroup, IdToken
from core.api.filters import StrictBooleanFilter, UtcDateTimeFilter, visible
from core.ordering import Ordering
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Site

# Roaming sits above billing: its partner model is reached through the CDR's foreign key.
RoamingPartner = ChargeDetailRecord._meta.get_field("roaming_partner").related_model


# `?ordering=` of the billing pages (their column headers), their CSV and the API alike.
TARIFF_ORDERING = Ordering(
    {
        "name": "name",
        "type": "type",
        "currency": "currency",
        "tax_rate": "tax_rate",
        "valid_from": "valid_from",
        "valid_to": "valid_to",
        "created": "created",
    },
    default="name",
)
CDR_ORDERING = Ordering(
    {
        "accounted_at": "accounted_at",
        "kind": "kind",
        "session": "session__start",
        "station": "session__station__ocpp_id",
        "energy_wh": "energy_wh",
        "total_incl_tax": "total_incl_tax",
        "created": "created",
    },
    default="-accounted_at",
)
INVOICE_ORDERING = Ordering(
    {
        "number": "number",
        "sequence": "sequence",
        "issued_at": "issued_at",
        "period_start": "period_start",
        "holder": "holder_name",
        "status": "status",
        "total_excl_tax": "total_excl_tax",
        "tax_amount": "tax_amount",
        "total_incl_tax": "total_incl_tax",
    },
    # Numbers follow the sequence, so ties on the day of issue keep their numbers' order.
    default=("-issued_at", "-sequence"),
)
PAYMENT_ORDERING = Ordering(
    {
        "created": "created",
        "status": "status",
        "purpose": "purpose",
        "amount_authorized": "amount_authorized",
        "amount_captured": "amount_captured",
        "amount_refunded": "amount_refunded",
        "captured_at": "captured_at",
    },
    default="-created",
)
PAYMENT_REFUND_ORDERING = Ordering(
    {"created": "created", "amount": "amount", "status": "status"}, default="-created"
)


class TariffFilterSet(django_filters.FilterSet):
    """Tariffs by currency and by the moment they are valid at."""

    currency = django_filters.CharFilter()
    valid_at = UtcDateTimeFilter(method="filter_valid_at", label="Valid at this moment")

    class Meta:
        model = Tariff
        fields = ["currency", "valid_at"]

    def filter_valid_at(self, queryset, name, value):
        # The same half-open window the rating engine uses (billing.services.find_tariff).
        return queryset.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=value),
            Q(valid_to__isnull=True) | Q(valid_to__gt=value),
        )


class TariffAssignmentFilterSet(django_filters.FilterSet):
    """Tariff assignments by tariff, scope and target."""

    tariff = django_filters.ModelChoiceFilter(queryset=visible(Tariff))
    scope = django_filters.ChoiceFilter(choices=AssignmentScope.choices)
    site = django_filters.ModelChoiceFilter(queryset=visible(Site))
    station = django_filters.ModelChoiceFilter(queryset=visible(ChargingStation))
    access_group = django_filters.ModelChoiceFilter(queryset=visible(AccessGroup))

    class Meta:
        model = TariffAssignment
        fields = ["tariff", "scope", "site", "station", "access_group"]


class ChargeDetailRecordFilterSet(django_filters.FilterSet):
    """CDRs by session, station, site, card, partner, kind, invoicing and time."""

    session = django_filters.ModelChoiceFilter(queryset=visible(ChargingSession))
    station = django_filters.ModelChoiceFilter(
        field_name="session__station", queryset=visible(ChargingStation)
    )
    ocpp_id = django_filters.CharFilter(field_name="session__station__ocpp_id")
    site = django_filters.ModelChoiceFilter(
        field_name="session__station__site", queryset=visible(Site)
    )
    id_tag = django_filters.CharFilter(field_name="session__id_tag")
    id_token = django_filters.ModelChoiceFilter(queryset=visible(IdToken))
    roaming_partner = django_filters.ModelChoiceFilter(queryset=visible(RoamingPartner))
    kind = django_filters.ChoiceFilter(choices=CdrKind.choices)
    has_invoice = StrictBooleanFilter(
        method="filter_has_invoice", label="On an invoice (true) or not yet invoiced (false)"
    )
    # A half-open interval, so consecutive windows neither overlap nor leave a gap.
    created_after = UtcDateTimeFilter(
        field_name="created", lookup_expr="gte", label="Written at or after"
    )
    created_before = UtcDateTimeFilter(
        field_name="created", lookup_expr="lt", label="Written before"
    )
    # The time that decides the billing period: a charge's session stop, a credit's writing.
    accounted_after = UtcDateTimeFilter(
        field_name="accounted_at", lookup_expr="gte", label="Accounted at or after"
    )
    accounted_before = UtcDateTimeFilter(
        field_name="accounted_at", lookup_expr="lt", label="Accounted before"
    )

    class Meta:
        model = ChargeDetailRecord
        fields = [
            "session",
            "station",
            "ocpp_id",
            "site",
            "id_tag",
            "id_token",
            "roaming_partner",
            "kind",
            "has_invoice",
            "created_after",
            "created_before",
            "accounted_after",
            "accounted_before",
        ]

    def filter_has_invoice(self, queryset, name, value):
        # One invoice line per CDR at most (one_invoice_line_per_cdr): no duplicate rows.
        return queryset.filter(invoice_lines__isnull=not value)


class InvoiceFilterSet(django_filters.FilterSet):
    """Invoices by status, card, roaming partner, number and billing period."""

    status = django_filters.ChoiceFilter(choices=InvoiceStatus.choices)
    id_token = django_filters.ModelChoiceFilter(queryset=visible(IdToken))
    roaming_partner = django_filters.ModelChoiceFilter(queryset=visible(RoamingPartner))
    billing_period = django_filters.ModelChoiceFilter(queryset=visible(BillingPeriod))
    number = django_filters.CharFilter()
    # Half-open like every date range of the API. A period is itself half-open (March ends at
    # April 1, 00:00, which period_end_before=Apr 1 leaves out), so "the invoices of the first
    # quarter" is period_start_after=Jan 1 and period_start_before=Apr 1.
    period_start_after = UtcDateTimeFilter(
        field_name="period_start", lookup_expr="gte", label="Period starts at or after"
    )
    period_start_before = UtcDateTimeFilter(
        field_name="period_start", lookup_expr="lt", label="Period starts before"
    )
    period_end_after = UtcDateTimeFilter(
        field_name="period_end", lookup_expr="gte", label="Period ends at or after"
    )
    period_end_before = UtcDateTimeFilter(
        field_name="period_end", lookup_expr="lt", label="Period ends before"
    )

    class Meta:
        model = Invoice
        fields = [
            "status",
            "id_token",
            "roaming_partner",
            "billing_period",
            "number",
            "period_start_after",
            "period_start_before",
            "period_end_after",
            "period_end_before",
        ]


class BillingPeriodFilterSet(django_filters.FilterSet):
    """Billing periods by when they start (half-open, like every time range)."""

    start_after = UtcDateTimeFilter(
        field_name="start", lookup_expr="gte", label="Starts at or after"
    )
    start_before = UtcDateTimeFilter(field_name="start", lookup_expr="lt", label="Starts before")

    class Meta:
        model = BillingPeriod
        fields = ["start_after", "start_before"]


class PaymentFilterSet(django_filters.FilterSet):
    """Payments by status, purpose, session, provider reference and when they were made."""

    status = django_filters.ChoiceFilter(choices=PaymentStatus.choices)
    purpose = django_filters.ChoiceFilter(choices=PaymentPurpose.choices)
    session = django_filters.ModelChoiceFilter(queryset=visible(ChargingSession))
    reference = django_filters.CharFilter()
    created_after = UtcDateTimeFilter(
        field_name="created", lookup_expr="gte", label="Made at or after"
    )
    created_before = UtcDateTimeFilter(field_name="created", lookup_expr="lt", label="Made before")

    class Meta:
        model = Payment
        fields = ["status", "purpose", "session", "reference", "created_after", "created_before"]


class PaymentRefundFilterSet(django_filters.FilterSet):
    """Refunds by payment, status and when they were asked for."""

    payment = django_filters.ModelChoiceFilter(queryset=visible(Payment))
    status = django_filters.ChoiceFilter(choices=RefundStatus.choices)
    created_after = UtcDateTimeFilter(
        field_name="created", lookup_expr="gte", label="Asked at or after"
    )
    created_before = UtcDateTimeFilter(field_name="created", lookup_expr="lt", label="Asked before")

    class Meta:
        model = PaymentRefund
        fields = ["payment", "status", "created_after", "created_before"]
