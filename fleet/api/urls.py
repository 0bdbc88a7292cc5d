"""Routes of the fleet API (included under /api/v1/)."""

from core.api.routers import OrganizationRouter, TenantRouter
from fleet.api.views import CampaignStationViewSet, CampaignViewSet

router = TenantRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("campaign-stations", CampaignStationViewSet, basename="campaignstation")
org_router = OrganizationRouter()
org_router.register("campaigns", CampaignViewSet, basename="campaign")

urlpatterns = router.urls + org_router.urls
