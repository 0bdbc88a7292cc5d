"""Routes of the billing API (included under /api/v1/)."""

from billing.api.views import (
    BillingPeriodViewSet,
    ChargeDetailRecordViewSet,
    InvoiceViewSet,
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
org_router = OrganizationRouter()
org_router.register("tariffs", TariffViewSet, basename="tariff")
org_router.register("tariff-assignments", TariffAssignmentViewSet, basename="tariffassignment")

urlpatterns = router.urls + org_router.urls
