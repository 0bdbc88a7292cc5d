"""Routes of the sessions_app API (included under /api/v1/)."""

from core.api.routers import OrganizationRouter, TenantRouter
from sessions_app.api.views import AnalyticsViewSet, ChargingSessionViewSet, ReservationViewSet

router = TenantRouter()
router.register("sessions", ChargingSessionViewSet, basename="session")
router.register("reservations", ReservationViewSet, basename="reservation")
router.register("analytics", AnalyticsViewSet, basename="analytics")
org_router = OrganizationRouter()

urlpatterns = router.urls + org_router.urls
