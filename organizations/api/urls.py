"""Routes of the organizations API (included under /api/v1/)."""

from cms.api.routers import OrganizationRouter, TenantRouter
from organizations.api import cards, views

router = TenantRouter()
org_router = OrganizationRouter()
# Organizations, members and API keys (views.py); access groups and id tokens (cards.py).
views.register(router, org_router)
cards.register(router, org_router)

urlpatterns = router.urls + org_router.urls
