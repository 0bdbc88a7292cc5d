"""Query-string filters of the billing API."""

import django_filters
from django.db.models import Q

from billing.choices import AssignmentScope, CdrKind, InvoiceStatus
from billing.models import ChargeDetailRecord, Invoice, Tariff, TariffAssignment
from cms.api.filters import UtcDateTimeFilter, visible
from organizations.models import AccessGroup, IdToken
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Site


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
    """CDRs by session, station, site, card, kind and time written."""

    session = django_filters.ModelChoiceFilter(queryset=visible(ChargingSession))
    station = django_filters.ModelChoiceFilter(
        field_name="session__station", queryset=visible(ChargingStation)
    )
    ocpp_id = django_filters.CharFilter(field_name="session__station__ocpp_id")
    site = django_filters.ModelChoiceFilter(
        field_name="session__station__site", queryset=visible(Site)
    )
    id_tag = django_filters.CharFilter(field_name="session__id_tag")
    kind = django_filters.ChoiceFilter(choices=CdrKind.choices)
    # A half-open interval, so consecutive windows neither overlap nor leave a gap.
    created_after = UtcDateTimeFilter(
        field_name="created", lookup_expr="gte", label="Written at or after"
    )
    created_before = UtcDateTimeFilter(
        field_name="created", lookup_expr="lt", label="Written before"
    )

    class Meta:
        model = ChargeDetailRecord
        fields = [
            "session",
            "station",
            "ocpp_id",
            "site",
            "id_tag",
            "kind",
            "created_after",
            "created_before",
        ]


class InvoiceFilterSet(django_filters.FilterSet):
    """Invoices by status, card, number and billing period."""

    status = django_filters.ChoiceFilter(choices=InvoiceStatus.choices)
    id_token = django_filters.ModelChoiceFilter(queryset=visible(IdToken))
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
            "number",
            "period_start_after",
            "period_start_before",
            "period_end_after",
            "period_end_before",
        ]
