"""Routes of the fleet API (included under /api/v1/)."""

from core.api.routers import OrganizationRouter, TenantRouter

router = TenantRouter()
org_router = OrganizationRouter()

urlpatterns = router.urls + org_router.urls
