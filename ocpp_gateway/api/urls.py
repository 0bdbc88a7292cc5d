"""Routes of the OCPP gateway API (included under /api/v1/)."""

from cms.api.routers import OrganizationRouter, TenantRouter
from ocpp_gateway.api.views import CommandLogViewSet

router = TenantRouter()
router.register("command-logs", CommandLogViewSet, basename="commandlog")
org_router = OrganizationRouter()

urlpatterns = router.urls + org_router.urls
