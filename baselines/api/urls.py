"""Routes of the baselines API (included under /api/v1/)."""

from baselines.api.views import BaselineRunViewSet, ConfigurationBaselineViewSet
from core.api.routers import OrganizationRouter, TenantRouter

router = TenantRouter()
router.register(
    "configuration-baselines", ConfigurationBaselineViewSet, basename="configurationbaseline"
)
router.register("baseline-runs", BaselineRunViewSet, basename="baselinerun")
org_router = OrganizationRouter()
org_router.register(
    "configuration-baselines", ConfigurationBaselineViewSet, basename="configurationbaseline"
)

urlpatterns = router.urls + org_router.urls
