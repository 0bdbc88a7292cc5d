"""Views of the billing API: tariffs and where they apply, CDRs, invoices (read-only)."""

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins
from rest_framework.exceptions import ValidationError

from billing.api.serializers import (
    ChargeDetailRecordSerializer,
    InvoiceSerializer,
    TariffAssignmentSerializer,
    TariffSerializer,
)
from billing.filtersets import (
    ChargeDetailRecordFilterSet,
    InvoiceFilterSet,
    TariffAssignmentFilterSet,
    TariffFilterSet,
)
from billing.models import ChargeDetailRecord, Invoice, InvoiceLine, Tariff, TariffAssignment
from cms.api.csv import CsvExportMixin
from cms.api.viewsets import TenantCreateModelMixin, TenantViewSet
from organizations.choices import Role

READ = {"list": Role.VIEWER, "retrieve": Role.VIEWER}


class TariffViewSet(
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Tariffs of the user's organizations; admins create, change and delete them."""

    # Deleting a tariff is allowed even when CDRs were priced with it: CDR.tariff is SET_NULL
    # and each CDR keeps its own tariff_snapshot. Its assignments go with it (CASCADE).
    queryset = Tariff.objects.prefetch_related("assignments")
    serializer_class = TariffSerializer
    filterset_class = TariffFilterSet
    ordering_fields = ["name", "currency", "valid_from", "valid_to", "created"]
    ordering = ["name"]
    required_role = {
        **READ,
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
    }


class TariffAssignmentViewSet(
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Where each tariff applies; admins add and remove assignments (no changes in place)."""

    queryset = TariffAssignment.objects.select_related("tariff")
    serializer_class = TariffAssignmentSerializer
    filterset_class = TariffAssignmentFilterSet
    ordering_fields = ["scope", "tariff__name"]
    ordering = ["tariff__name", "scope"]
    required_role = {**READ, "create": Role.ADMIN, "destroy": Role.ADMIN}

    def perform_create(self, serializer):
        # The serializer checks the unique targets first; this only catches a concurrent
        # request that took the same target between that check and the insert.
        try:
            with transaction.atomic():
                super().perform_create(serializer)
        except IntegrityError:
            raise ValidationError(
                {"scope": [_("This target got a tariff meanwhile; reload and try again.")]}
            ) from None


class ChargeDetailRecordViewSet(
    CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Charge detail records (immutable); `?format=csv` exports every filtered one."""

    queryset = ChargeDetailRecord.objects.select_related("session__station")
    serializer_class = ChargeDetailRecordSerializer
    filterset_class = ChargeDetailRecordFilterSet
    ordering_fields = ["created", "energy_wh", "total_incl_tax"]
    ordering = ["-created"]
    required_role = READ
    csv_columns = [
        ("id", "id"),
        ("organization", "organization_id"),
        ("kind", "kind"),
        ("corrects", "corrects_id"),
        ("session", "session_id"),
        ("transaction_id", "session.transaction_id"),
        ("station", "session.station_id"),
        ("ocpp_id", "session.station.ocpp_id"),
        ("site", "session.station.site_id"),
        ("id_tag", "session.id_tag"),
        ("start", "session.start"),
        ("stop", "session.stop"),
        ("energy_wh", "energy_wh"),
        ("charging_seconds", "charging_seconds"),
        ("idle_seconds", "idle_seconds"),
        ("tariff", "tariff_id"),
        ("currency", "currency"),
        ("energy_amount", "energy_amount"),
        ("time_amount", "time_amount"),
        ("idle_amount", "idle_amount"),
        ("session_fee_amount", "session_fee_amount"),
        ("total_excl_tax", "total_excl_tax"),
        ("tax_amount", "tax_amount"),
        ("total_incl_tax", "total_incl_tax"),
        ("zero_reason", "zero_reason"),
        ("created", "created"),
    ]


class InvoiceViewSet(
    CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Invoices with their lines; `?format=csv` exports one row per invoice with its totals."""

    # Issuing, voiding and crediting belong to the billing service (a later issue), not here.
    queryset = Invoice.objects.select_related("id_token").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("id"))
    )
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilterSet
    ordering_fields = ["issued_at", "sequence", "period_start", "total_incl_tax"]
    ordering = ["-issued_at", "-sequence"]
    required_role = READ
    csv_columns = [
        ("id", "id"),
        ("organization", "organization_id"),
        ("number", "number"),
        ("sequence", "sequence"),
        ("status", "status"),
        ("id_token", "id_token_id"),
        ("id_token_uid", "id_token.uid"),
        ("holder_name", "holder_name"),
        ("holder_email", "holder_email"),
        ("period_start", "period_start"),
        ("period_end", "period_end"),
        ("currency", "currency"),
        ("total_excl_tax", "total_excl_tax"),
        ("tax_amount", "tax_amount"),
        ("total_incl_tax", "total_incl_tax"),
        ("issued_at", "issued_at"),
    ]

    def get_queryset(self):
        queryset = super().get_queryset()
        renderer = getattr(self.request, "accepted_renderer", None)
        if renderer is not None and renderer.format == "csv":
            # The export has no lines: one row per invoice, so no need to load them.
            queryset = queryset.prefetch_related(None)
        return queryset
