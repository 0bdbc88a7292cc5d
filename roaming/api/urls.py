"""Routes of the roaming API (included under /api/v1/)."""

from core.api.routers import OrganizationRouter, TenantRouter
from roaming.api.views import RoamingActivityViewSet, RoamingPartnerViewSet

router = TenantRouter()
router.register("roaming-partners", RoamingPartnerViewSet, basename="roamingpartner")
router.register("roaming-activity", RoamingActivityViewSet, basename="roamingactivity")
org_router = OrganizationRouter()
org_router.register("roaming-partners", RoamingPartnerViewSet, basename="roamingpartner")

urlpatterns = router.urls + org_router.urls
