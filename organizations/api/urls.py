"""Routes of the organizations API (included under /api/v1/)."""

from cms.api.routers import OrganizationRouter, TenantRouter

router = TenantRouter()
org_router = OrganizationRouter()

urlpatterns = router.urls + org_router.urls
