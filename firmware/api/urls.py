"""Routes of the firmware API (included under /api/v1/)."""

from core.api.routers import OrganizationRouter, TenantRouter
from firmware.api.views import FirmwareImageViewSet

router = TenantRouter()
router.register("firmware-images", FirmwareImageViewSet, basename="firmwareimage")
org_router = OrganizationRouter()
org_router.register("firmware-images", FirmwareImageViewSet, basename="firmwareimage")

urlpatterns = router.urls + org_router.urls
