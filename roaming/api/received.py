"""API of our eMSP role: what CPO partners sent us (read-only), and invoice reconciliation.

`/partner-sessions/`, `/partner-cdrs/`, `/partner-locations/`, `/partner-tariffs/` list and
show the objects as received (a detail adds the whole OCPI object, `data`);
`POST /roaming-partners/{id}/reconcile/` checks a partner's invoice against its CDRs.
"""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cards.models import IdToken
from core.api.csv import CsvExportMixin
from core.api.filters import UtcDateTimeFilter, visible
from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from roaming.choices import ReconciliationState
from roaming.filtersets import PARTNER_CDR_ORDERING
from roaming.models import (
    PartnerCdr,
    PartnerLocation,
    PartnerSession,
    PartnerTariff,
    RoamingPartner,
)
from roaming.reconciliation import (
    BASES,
    INCL_VAT,
    MAX_LINES,
    InvoiceError,
    InvoiceLine,
    reconcile_invoice,
)

READ = {"list": Role.VIEWER, "retrieve": Role.VIEWER}
OBJECT_FIELDS = [
    "id",
    "organization",
    "partner",
    "partner_name",
    "country_code",
    "party_id",
    "ocpi_id",
    "last_updated",
    "received",
]


# --- serializers --------------------------------------------------------------------------------


class ReceivedSerializer(serializers.ModelSerializer):
    """The columns every received object has."""

    partner_name = serializers.CharField(source="partner.name", read_only=True)


def with_data(serializer_class):
    """The serializer of a detail: the list's fields and the OCPI object as received."""

    class Detail(serializer_class):
        class Meta(serializer_class.Meta):
            fields = [*serializer_class.Meta.fields, "data"]
            read_only_fields = fields

    Detail.__name__ = serializer_class.__name__.replace("Serializer", "DetailSerializer")
    Detail.__qualname__ = Detail.__name__
    Detail.__doc__ = f"{serializer_class.__doc__.rstrip('.')}, with its OCPI object."
    return Detail


class PartnerSessionSerializer(ReceivedSerializer):
    """A session of one of our drivers at a CPO partner's station."""

    class Meta:
        model = PartnerSession
        fields = [
            *OBJECT_FIELDS,
            "id_token",
            "token_uid",
            "location_id",
            "status",
            "start",
            "end",
            "kwh",
            "currency",
            "total_cost_incl_vat",
        ]
        read_only_fields = fields


class PartnerCdrSerializer(ReceivedSerializer):
    """A charge detail record a CPO partner sent for one of our drivers' sessions."""

    class Meta:
        model = PartnerCdr
        fields = [
            *OBJECT_FIELDS,
            "id_token",
            "token_uid",
            "session_id",
            "location_id",
            "location_name",
            "start",
            "end",
            "kwh",
            "currency",
            "total_cost_excl_vat",
            "total_cost_incl_vat",
            "reconciliation",
            "invoiced_amount",
            "invoice_reference",
        ]
        read_only_fields = fields


class PartnerLocationSerializer(ReceivedSerializer):
    """A location a CPO partner published."""

    evse_count = serializers.SerializerMethodField(help_text="EVSEs not marked REMOVED.")

    class Meta:
        model = PartnerLocation
        fields = [*OBJECT_FIELDS, "name", "address", "city", "country", "evse_count"]
        read_only_fields = fields

    def get_evse_count(self, location) -> int:
        return sum(
            1
            for evse in location.data.get("evses") or []
            if isinstance(evse, dict) and evse.get("status") != "REMOVED"
        )


class PartnerTariffSerializer(ReceivedSerializer):
    """A tariff a CPO partner published."""

    class Meta:
        model = PartnerTariff
        fields = [*OBJECT_FIELDS, "currency"]
        read_only_fields = fields


PartnerSessionDetailSerializer = with_data(PartnerSessionSerializer)
PartnerCdrDetailSerializer = with_data(PartnerCdrSerializer)
PartnerLocationDetailSerializer = with_data(PartnerLocationSerializer)
PartnerTariffDetailSerializer = with_data(PartnerTariffSerializer)


class InvoiceLineSerializer(serializers.Serializer):
    """One invoice line: the CDR's OCPI id and the amount invoiced for it."""

    cdr_id = serializers.CharField(max_length=39)
    amount = serializers.DecimalField(max_digits=12, decimal_places=4)
    invoice_reference = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )


class ReconcileSerializer(serializers.Serializer):
    """A partner's invoice: its month, whether amounts include VAT, its lines."""

    month = serializers.DateField(
        input_formats=["%Y-%m"],
        format="%Y-%m",
        help_text="YYYY-MM: CDRs that started in this month and are not invoiced are listed.",
    )
    basis = serializers.ChoiceField(
        choices=BASES, default=INCL_VAT, help_text="Which CDR total the amounts compare with."
    )
    invoice_reference = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="The invoice number, for lines without their own.",
    )
    lines = InvoiceLineSerializer(many=True, allow_empty=False, max_length=MAX_LINES)

    def validate_lines(self, lines):
        seen, twice = set(), []
        for line in lines:
            if line["cdr_id"] in seen:
                twice.append(line["cdr_id"])
            seen.add(line["cdr_id"])
        if twice:
            raise ValidationError(
                _("CDRs invoiced more than once: %(ids)s.") % {"ids": ", ".join(twice[:20])}
            )
        return lines


class CheckedSerializer(serializers.Serializer):
    """An invoiced CDR: its amount, the invoiced one, the difference."""

    id = serializers.IntegerField(source="cdr.pk")
    cdr_id = serializers.CharField(source="cdr.ocpi_id")
    start = serializers.DateTimeField(source="cdr.start")
    currency = serializers.CharField(source="cdr.currency")
    cdr_amount = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    amount = serializers.DecimalField(source="line.amount", max_digits=12, decimal_places=4)
    difference = serializers.DecimalField(max_digits=13, decimal_places=4, allow_null=True)
    invoice_reference = serializers.CharField(source="cdr.invoice_reference")


class UnknownLineSerializer(serializers.Serializer):
    """An invoice line naming no CDR the partner sent us."""

    cdr_id = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=4)
    invoice_reference = serializers.CharField()


class NotInvoicedSerializer(serializers.Serializer):
    """A CDR of the month on no invoice yet."""

    id = serializers.IntegerField(source="pk")
    cdr_id = serializers.CharField(source="ocpi_id")
    start = serializers.DateTimeField()
    currency = serializers.CharField()
    total_cost_excl_vat = serializers.DecimalField(max_digits=12, decimal_places=4)
    total_cost_incl_vat = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)


class ReconciliationSerializer(serializers.Serializer):
    """The outcome of an invoice."""

    month = serializers.DateField(format="%Y-%m")
    basis = serializers.CharField()
    matched = CheckedSerializer(many=True)
    disputed = CheckedSerializer(many=True)
    unknown = UnknownLineSerializer(many=True)
    not_invoiced = NotInvoicedSerializer(many=True)


# --- filters ------------------------------------------------------------------------------------


class ReceivedFilterSet(django_filters.FilterSet):
    """Received objects by partner, owning party, and when they last changed."""

    partner = django_filters.ModelChoiceFilter(queryset=visible(RoamingPartner))
    country_code = django_filters.CharFilter()
    party_id = django_filters.CharFilter()
    ocpi_id = django_filters.CharFilter(label="OCPI id")
    # A half-open interval, so consecutive windows neither overlap nor leave a gap.
    updated_after = UtcDateTimeFilter(
        field_name="last_updated", lookup_expr="gte", label="Last updated at or after"
    )
    updated_before = UtcDateTimeFilter(
        field_name="last_updated", lookup_expr="lt", label="Last updated before"
    )

    BASE = ["partner", "country_code", "party_id", "ocpi_id", "updated_after", "updated_before"]


class ChargeFilterSet(ReceivedFilterSet):
    """Sessions and CDRs also by card and by when they started."""

    id_token = django_filters.ModelChoiceFilter(
        queryset=visible(IdToken), label="Our card (id token id)"
    )
    token_uid = django_filters.CharFilter()
    start_after = UtcDateTimeFilter(
        field_name="start", lookup_expr="gte", label="Started at or after"
    )
    start_before = UtcDateTimeFilter(field_name="start", lookup_expr="lt", label="Started before")
    currency = django_filters.CharFilter()

    CHARGE = ["id_token", "token_uid", "start_after", "start_before", "currency"]


class PartnerSessionFilterSet(ChargeFilterSet):
    """Partner sessions by partner, card, status, start."""

    status = django_filters.CharFilter(label="OCPI session status (ACTIVE, COMPLETED, …)")

    class Meta:
        model = PartnerSession
        fields = [*ChargeFilterSet.BASE, *ChargeFilterSet.CHARGE, "status"]


class PartnerCdrFilterSet(ChargeFilterSet):
    """Partner CDRs by partner, card, start and reconciliation state."""

    reconciliation = django_filters.ChoiceFilter(choices=ReconciliationState.choices)
    invoice_reference = django_filters.CharFilter()

    class Meta:
        model = PartnerCdr
        fields = [
            *ChargeFilterSet.BASE,
            *ChargeFilterSet.CHARGE,
            "reconciliation",
            "invoice_reference",
        ]


class PartnerLocationFilterSet(ReceivedFilterSet):
    """Partner locations by partner, city, country, or a search on name and city."""

    city = django_filters.CharFilter(lookup_expr="iexact")
    country = django_filters.CharFilter(lookup_expr="iexact")
    search = django_filters.CharFilter(method="filter_search", label="Name or city contains")

    class Meta:
        model = PartnerLocation
        fields = [*ReceivedFilterSet.BASE, "city", "country", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(city__icontains=value))


class PartnerTariffFilterSet(ReceivedFilterSet):
    """Partner tariffs by partner and currency."""

    currency = django_filters.CharFilter()

    class Meta:
        model = PartnerTariff
        fields = [*ReceivedFilterSet.BASE, "currency"]


# --- viewsets -----------------------------------------------------------------------------------


class ReceivedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Read-only objects partners sent; a detail adds the OCPI object."""

    required_role = READ
    ordering = ["-last_updated", "-id"]

    detail_serializer_class = None

    def get_serializer_class(self):
        if self.action == "retrieve":
            return self.detail_serializer_class
        return self.serializer_class


class PartnerSessionViewSet(ReceivedViewSet):
    """Sessions of our drivers at CPO partners (our eMSP role), as the partners reported them."""

    queryset = PartnerSession.objects.select_related("partner")
    serializer_class = PartnerSessionSerializer
    detail_serializer_class = PartnerSessionDetailSerializer
    filterset_class = PartnerSessionFilterSet
    ordering_fields = ["start", "last_updated", "kwh"]
    ordering = ["-start", "-id"]


class PartnerCdrViewSet(CsvExportMixin, ReceivedViewSet):
    """CDRs CPO partners sent for our drivers' sessions: costs, and their reconciliation."""

    queryset = PartnerCdr.objects.select_related("partner")
    serializer_class = PartnerCdrSerializer
    detail_serializer_class = PartnerCdrDetailSerializer
    filterset_class = PartnerCdrFilterSet
    sorting = PARTNER_CDR_ORDERING
    ordering_fields = sorting.keys
    ordering = ["-start", "-id"]
    csv_columns = [
        ("id", "pk"),
        ("partner", "partner_id"),
        ("partner_name", "partner.name"),
        ("country_code", "country_code"),
        ("party_id", "party_id"),
        ("ocpi_id", "ocpi_id"),
        ("id_token", "id_token_id"),
        ("token_uid", "token_uid"),
        ("session_id", "session_id"),
        ("location_id", "location_id"),
        ("location_name", "location_name"),
        ("start", "start"),
        ("end", "end"),
        ("kwh", "kwh"),
        ("currency", "currency"),
        ("total_cost_excl_vat", "total_cost_excl_vat"),
        ("total_cost_incl_vat", "total_cost_incl_vat"),
        ("reconciliation", "reconciliation"),
        ("invoiced_amount", "invoiced_amount"),
        ("invoice_reference", "invoice_reference"),
    ]


class PartnerLocationViewSet(ReceivedViewSet):
    """Locations CPO partners published, where our drivers may charge."""

    queryset = PartnerLocation.objects.select_related("partner")
    serializer_class = PartnerLocationSerializer
    detail_serializer_class = PartnerLocationDetailSerializer
    filterset_class = PartnerLocationFilterSet
    ordering_fields = ["name", "city", "last_updated"]
    ordering = ["name", "id"]


class PartnerTariffViewSet(ReceivedViewSet):
    """Tariffs CPO partners published: what our drivers pay at their stations."""

    queryset = PartnerTariff.objects.select_related("partner")
    serializer_class = PartnerTariffSerializer
    detail_serializer_class = PartnerTariffDetailSerializer
    filterset_class = PartnerTariffFilterSet
    ordering_fields = ["last_updated", "ocpi_id"]


class PartnerInvoiceViewSet(TenantViewSet):
    """Reconciling a partner's invoice with the CDRs it sent (admins)."""

    queryset = RoamingPartner.objects.all()
    required_role = {"reconcile": Role.ADMIN}
    filter_backends = []
    pagination_class = None

    @extend_schema(
        request=ReconcileSerializer,
        responses={200: ReconciliationSerializer},
        description="Check the partner's invoice: each line's CDR (by OCPI id) is marked "
        "`matched` when the amount agrees within 0.01, else `disputed`; lines naming no CDR of "
        "the partner come back as `unknown`, the partner's open CDRs of the month not on the "
        "invoice as `not_invoiced`. All or nothing: a 400 changes no CDR.",
    )
    @action(detail=True, methods=["post"])
    def reconcile(self, request, pk=None):
        """Reconcile an invoice of this partner."""
        partner = self.get_object()
        body = ReconcileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        lines = [
            InvoiceLine(line["cdr_id"], line["amount"], line["invoice_reference"])
            for line in data["lines"]
        ]
        try:
            result = reconcile_invoice(
                partner,
                lines,
                month=data["month"],
                basis=data["basis"],
                invoice_reference=data["invoice_reference"],
            )
        except InvoiceError as error:
            raise ValidationError({"lines": error.messages}) from None
        return Response(ReconciliationSerializer(result).data)
