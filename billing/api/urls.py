"""Routes of the billing API (included under /api/v1/)."""

from django.urls import path

from billing.api.views import (
    BillingPeriodViewSet,
    ChargeDetailRecordViewSet,
    InvoiceViewSet,
    PaymentAccountViewSet,
    PaymentRefundViewSet,
    PaymentViewSet,
    PayoutViewSet,
    TariffAssignmentViewSet,
    TariffViewSet,
)
from core.api.routers import OrganizationRouter, TenantRouter

router = TenantRouter()
router.register("tariffs", TariffViewSet, basename="tariff")
router.register("tariff-assignments", TariffAssignmentViewSet, basename="tariffassignment")
router.register("charge-detail-records", ChargeDetailRecordViewSet, basename="chargedetailrecord")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("billing-periods", BillingPeriodViewSet, basename="billingperiod")
router.register("payments", PaymentViewSet, basename="payment")
router.register("payment-refunds", PaymentRefundViewSet, basename="paymentrefund")
org_router = OrganizationRouter()
org_router.register("tariffs", TariffViewSet, basename="tariff")
org_router.register("tariff-assignments", TariffAssignmentViewSet, basename="tariffassignment")

# One account per organization, not a collection: so no router.
payment_account = PaymentAccountViewSet.as_view({"get": "retrieve", "put": "update"})
payouts = PayoutViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    *router.urls,
    *org_router.urls,
    path(
        "organizations/<int:organization_pk>/payment-account/",
        payment_account,
        name="organization-payment-account",
    ),
    path("organizations/<int:organization_pk>/payouts/", payouts, name="organization-payouts"),
]
