"""Views of the billing API: tariffs and where they apply, CDRs, invoices, billing periods."""

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, ProtectedError
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from billing import payments
from billing.api.serializers import (
    BillingPeriodSerializer,
    ChargeDetailRecordSerializer,
    InvoiceSerializer,
    PaymentAccountSerializer,
    PaymentRefundSerializer,
    PaymentSerializer,
    PayoutsSerializer,
    RefundRequestSerializer,
    TariffAssignmentSerializer,
    TariffSerializer,
)
from billing.filtersets import (
    CDR_ORDERING,
    INVOICE_ORDERING,
    PAYMENT_ORDERING,
    PAYMENT_REFUND_ORDERING,
    TARIFF_ORDERING,
    BillingPeriodFilterSet,
    ChargeDetailRecordFilterSet,
    InvoiceFilterSet,
    PaymentFilterSet,
    PaymentRefundFilterSet,
    TariffAssignmentFilterSet,
    TariffFilterSet,
)
from billing.models import (
    BillingPeriod,
    ChargeDetailRecord,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAccount,
    PaymentRefund,
    Tariff,
    TariffAssignment,
)
from billing.pdf import prefetched_invoices, render_invoice_pdf
from billing.providers import PaymentsNotConfigured, ProviderError
from core.api.csv import CsvExportMixin
from core.api.exceptions import Conflict
from core.api.schema import DETAIL, FIELD_ERRORS
from organizations.api.authentication import api_key_of
from organizations.api.viewsets import TenantCreateModelMixin, TenantViewSet
from organizations.choices import Role

READ = {"list": Role.VIEWER, "retrieve": Role.VIEWER}
TARIFF_PUBLISHED = _(
    "The tariff is published to roaming partner(s) %(partners)s; choose another tariff for "
    "them first."
)
PAYMENTS_OFF = _("Payments are not configured on this platform; nothing was paid back.")


class PdfRenderer(BaseRenderer):
    """Lets `Accept: application/pdf` through content negotiation; the view writes the bytes."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Only an error reaches a renderer here; handle_exception answers it in JSON instead.
        return JSONRenderer().render(data, accepted_media_type, renderer_context)


@extend_schema_view(
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted."),
            409: OpenApiResponse(
                response=DETAIL, description="The tariff is published to a roaming partner."
            ),
        }
    ),
)
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
    # and each CDR keeps its own tariff_snapshot. Its assignments go with it (CASCADE). One
    # published to a roaming partner stays (PROTECT): the partner's sessions are priced by it.
    queryset = Tariff.objects.prefetch_related("assignments")
    serializer_class = TariffSerializer
    filterset_class = TariffFilterSet
    sorting = TARIFF_ORDERING
    ordering_fields = sorting.keys
    ordering = ["name"]
    required_role = {
        **READ,
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
    }

    def perform_destroy(self, instance):
        partners = list(instance.roaming_partners.values_list("name", flat=True))
        if partners:
            raise Conflict(TARIFF_PUBLISHED % {"partners": ", ".join(sorted(partners))})
        try:
            with transaction.atomic():
                instance.delete()
        except ProtectedError:
            # A partner got the tariff between the check and the delete.
            raise Conflict(_("The tariff was published to a roaming partner meanwhile.")) from None


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

    queryset = ChargeDetailRecord.objects.select_related(
        "session__station", "id_token", "billing_stopped_by"
    )
    serializer_class = ChargeDetailRecordSerializer
    filterset_class = ChargeDetailRecordFilterSet
    sorting = CDR_ORDERING
    ordering_fields = sorting.keys
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
        ("id_token", "id_token_id"),
        ("id_token_uid", "id_token.uid"),
        ("roaming_partner", "roaming_partner_id"),
        ("start", "session.start"),
        ("stop", "session.stop"),
        ("energy_wh", "energy_wh"),
        ("charging_seconds", "charging_seconds"),
        ("idle_seconds", "idle_seconds"),
        ("parking_tolerance_wh", "parking_tolerance_wh"),
        ("tariff", "tariff_id"),
        ("currency", "currency"),
        ("tax_rate", "tax_rate"),
        ("energy_amount", "energy_amount"),
        ("time_amount", "time_amount"),
        ("idle_amount", "idle_amount"),
        ("session_fee_amount", "session_fee_amount"),
        ("price_cap_amount", "price_cap_amount"),
        ("total_excl_tax", "total_excl_tax"),
        ("tax_amount", "tax_amount"),
        ("total_incl_tax", "total_incl_tax"),
        ("reason", "reason"),
        ("billing_stopped_by", "billing_stopped_by.username"),
        ("accounted_at", "accounted_at"),
        ("created", "created"),
    ]


class InvoiceViewSet(
    CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Invoices with their lines; `?format=csv` exports one row per invoice, `…/pdf/` prints one."""

    # Invoices are issued by closing a billing period (billing.services); voiding and paying
    # are the Django admin's. Nothing here writes.
    queryset = Invoice.objects.select_related("id_token").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("id"))
    )
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilterSet
    sorting = INVOICE_ORDERING
    ordering_fields = sorting.keys
    ordering = ["-issued_at", "-sequence"]
    required_role = {**READ, "pdf": Role.VIEWER}
    # The portal's invoice export has the same columns with the same names.
    csv_columns = [
        ("id", "id"),
        ("organization", "organization_id"),
        ("billing_period", "billing_period_id"),
        ("number", "number"),
        ("sequence", "sequence"),
        ("status", "status"),
        ("id_token", "id_token_id"),
        ("id_token_uid", "id_token.uid"),
        ("roaming_partner", "roaming_partner_id"),
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
        elif self.action == "pdf":
            # What the document prints: the issuer's organization, each line's session.
            queryset = prefetched_invoices(queryset.prefetch_related(None))
        return queryset

    def get_renderers(self):
        renderers = super().get_renderers()
        if self.action == "pdf":
            renderers.append(PdfRenderer())
        return renderers

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        # An error answers in JSON even when a PDF was asked for (CsvExportMixin does the same).
        renderer = getattr(self.request, "accepted_renderer", None)
        if renderer is not None and renderer.format == "pdf":
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The invoice as a PDF document."
            )
        }
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def pdf(self, request, pk=None):
        """The invoice as a PDF document, as the holder receives it."""
        invoice = self.get_object()
        response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
        # A prefix may hold "/", which no file name can.
        filename = invoice.number.replace("/", "-")
        response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
        return response


class BillingPeriodViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Closed billing periods of the user's organizations, newest first (read-only)."""

    queryset = BillingPeriod.objects.all()
    serializer_class = BillingPeriodSerializer
    filterset_class = BillingPeriodFilterSet
    ordering_fields = ["start", "end", "closed_at"]
    ordering = ["-start"]
    required_role = READ


class ProviderFailed(APIException):
    """502: the payment provider refused or failed the call; nothing was paid back."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = _("The payment provider failed the request; nothing was paid back.")
    default_code = "provider_error"


def refund_failure_words(error: ProviderError) -> str:
    """What a failed refund means for the operator, in their language."""
    if error.definite:
        return _("The payment provider refused the refund: %(reason)s") % {"reason": error.message}
    # The provider may have paid it: the refund stays counted and is asked for again.
    return _(
        "The payment provider did not answer (%(reason)s). The refund is kept as pending and "
        "asked for again within minutes; it is never paid twice."
    ) % {"reason": error.message}


def refund_as(payment: Payment, amount, reason: str, user, request_key="") -> PaymentRefund:
    """Pay back part of a payment for a page or the API, naming the person who did it."""
    # An API key acts for the organization: no person to name as the one who refunded.
    person = None if api_key_of(user) is not None else user
    return payments.refund_payment(payment.pk, amount, reason, person, request_key=request_key[:64])


@extend_schema_view(
    refund=extend_schema(
        request=RefundRequestSerializer,
        responses={
            201: PaymentRefundSerializer,
            400: OpenApiResponse(response=FIELD_ERRORS, description="Invalid amount or reason."),
            409: OpenApiResponse(
                response=DETAIL,
                description="The payment cannot be refunded so (not captured, more than is "
                "left to pay back), or payments are not configured; nothing was paid back.",
            ),
            502: OpenApiResponse(
                response=DETAIL,
                description="The payment provider failed the refund; nothing was paid back.",
            ),
        },
        description="Pay back part or all of what a captured payment collected (admins). The "
        "refund's `status` says whether the provider paid it. Send an `Idempotency-Key` header "
        "(up to 64 characters) to make a retried request safe: the same key on the same payment "
        "answers the refund it made, and pays nothing more.",
    ),
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Payments of the user's organizations (read-only); admins refund captured ones."""

    # Payments are made by the payment services (Scan2Pay, sessions, invoices), never here.
    queryset = Payment.objects.all()
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilterSet
    sorting = PAYMENT_ORDERING
    ordering_fields = sorting.keys
    ordering = ["-created"]
    required_role = {**READ, "refund": Role.ADMIN}

    def get_serializer_class(self):
        if self.action == "refund":
            return RefundRequestSerializer
        return super().get_serializer_class()

    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def refund(self, request, pk=None):
        """Pay back part or all of a captured payment."""
        payment = self.get_object()
        serializer = RefundRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            refund = refund_as(
                payment,
                data["amount"],
                data["reason"],
                request.user,
                request.headers.get("Idempotency-Key", ""),
            )
        except PaymentsNotConfigured:
            raise Conflict(PAYMENTS_OFF) from None
        except payments.PaymentRefused as refused:
            raise Conflict(str(refused)) from None
        except ProviderError as error:
            raise ProviderFailed(refund_failure_words(error)) from None
        return Response(PaymentRefundSerializer(refund).data, status=status.HTTP_201_CREATED)


class PaymentRefundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Refunds of the user's organizations' payments (read-only: refund through the payment)."""

    queryset = PaymentRefund.objects.select_related("payment", "created_by")
    serializer_class = PaymentRefundSerializer
    filterset_class = PaymentRefundFilterSet
    sorting = PAYMENT_REFUND_ORDERING
    ordering_fields = sorting.keys
    ordering = ["-created"]
    required_role = READ


@extend_schema_view(
    retrieve=extend_schema(
        description="The organization's payment account (operators); until one is saved, "
        "the defaults: payments disabled."
    ),
    update=extend_schema(description="Set the organization's payment account (admins)."),
)
class PaymentAccountViewSet(TenantViewSet):
    """The one payment account of the organization in the URL: operators read, admins set it."""

    queryset = PaymentAccount.objects.all()
    serializer_class = PaymentAccountSerializer
    required_role = {"retrieve": Role.OPERATOR, "update": Role.ADMIN}

    def get_object(self):
        organization = self.get_organization()
        account = PaymentAccount.objects.for_org(organization).first()
        if account is None:
            account = PaymentAccount(organization=organization)
        self.check_object_permissions(self.request, account)
        return account

    def retrieve(self, request, *args, **kwargs):
        """The organization's payment account."""
        return Response(self.get_serializer(self.get_object()).data)

    def update(self, request, *args, **kwargs):
        """Replace the organization's payment account."""
        serializer = self.get_serializer(self.get_object(), data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                serializer.save()
        except IntegrityError:
            # A second request created the account meanwhile: change that one.
            serializer = self.get_serializer(self.get_object(), data=request.data)
            serializer.is_valid(raise_exception=True)
            serializer.save()
        return Response(serializer.data)


class PayoutViewSet(TenantViewSet):
    """The organization's balance and latest payouts at its provider (operators; read live)."""

    queryset = PaymentAccount.objects.all()
    serializer_class = PayoutsSerializer
    required_role = {"retrieve": Role.OPERATOR}

    @extend_schema(
        responses={
            200: PayoutsSerializer,
            502: OpenApiResponse(response=DETAIL, description="The payment provider failed."),
        }
    )
    def retrieve(self, request, *args, **kwargs):
        """The balance and the latest payouts, newest first."""
        organization = self.get_organization()
        try:
            balance, payouts = payments.payouts_of(organization)
        except payments.NoConnectedAccount:
            return Response(
                {"configured": True, "own_account": False, "balance": [], "payouts": []}
            )
        except PaymentsNotConfigured:
            return Response(
                {"configured": False, "own_account": False, "balance": [], "payouts": []}
            )
        except ProviderError as error:
            raise ProviderFailed(
                _("The payment provider could not be asked: %(reason)s") % {"reason": error.message}
            ) from None
        lines = [
            {
                "currency": currency,
                "available": balance.available.get(currency, 0),
                "pending": balance.pending.get(currency, 0),
            }
            for currency in sorted(balance.available.keys() | balance.pending.keys())
        ]
        data = {
            "configured": True,
            "own_account": True,
            "balance": lines,
            "payouts": [vars(p) for p in payouts],
        }
        return Response(PayoutsSerializer(data).data)
