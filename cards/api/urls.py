"""Routes of the cards API (included under /api/v1/)."""

from cards.api.views import AccessGroupViewSet, IdTokenImportViewSet, IdTokenViewSet
from core.api.routers import OrganizationRouter, TenantRouter

router = TenantRouter()
router.register("access-groups", AccessGroupViewSet, basename="accessgroup")
router.register("id-tokens", IdTokenViewSet, basename="idtoken")
org_router = OrganizationRouter()
org_router.register("access-groups", AccessGroupViewSet, basename="accessgroup")
org_router.register("id-tokens", IdTokenViewSet, basename="idtoken")
# OrganizationRouter has a single collection route, so the import is its own collection.
org_router.register("id-tokens/import", IdTokenImportViewSet, basename="idtoken-import")

urlpatterns = router.urls + org_router.urls
