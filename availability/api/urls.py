"""Routes of the availability API (included under /api/v1/)."""

from availability.api.views import (
    AvailabilityViewSet,
    MaintenanceDueViewSet,
    MaintenanceRecordViewSet,
    MaintenanceWindowViewSet,
)
from core.api.routers import OrganizationRouter, TenantRouter

router = TenantRouter()
router.register("availability", AvailabilityViewSet, basename="availability")
router.register("maintenance-windows", MaintenanceWindowViewSet, basename="maintenancewindow")
router.register("maintenance-records", MaintenanceRecordViewSet, basename="maintenancerecord")
router.register("maintenance-due", MaintenanceDueViewSet, basename="maintenancedue")
org_router = OrganizationRouter()
org_router.register("maintenance-records", MaintenanceRecordViewSet, basename="maintenancerecord")
org_router.register("maintenance-windows", MaintenanceWindowViewSet, basename="maintenancewindow")

urlpatterns = router.urls + org_router.urls
