"""Routes of the organizations API (included under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from core.api.routers import OrganizationRouter, TenantRouter
from organizations.api import views

router = TenantRouter()
org_router = OrganizationRouter()
# The caller's own invitations: rows of organizations the caller is not a member of, reached
# through the caller's email address; the only routes here outside the tenant viewsets.
invitee_router = SimpleRouter()
# Organizations, members, invitations and API keys.
views.register(router, org_router, invitee_router)

urlpatterns = router.urls + org_router.urls + invitee_router.urls
