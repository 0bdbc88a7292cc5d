"""Routes of the OCPP gateway API (included under /api/v1/)."""

from core.api.routers import OrganizationRouter, TenantRouter
from ocpp_gateway.api import display_and_certificates
from ocpp_gateway.api.baselines import BaselineApplyViewSet
from ocpp_gateway.api.bulk import BulkCommandViewSet
from ocpp_gateway.api.views import (
    CommandLogViewSet,
    ReservationCommandViewSet,
    SessionCommandViewSet,
    StationCommandViewSet,
)

router = TenantRouter()
router.register("command-logs", CommandLogViewSet, basename="commandlog")
router.register("bulk-commands", BulkCommandViewSet, basename="bulkcommand")
# Actions under other apps' resources, with those apps' route names (station-commands, ...).
# Their viewsets have no list or detail route, so these add only the action routes, and every
# action path is longer than the stations' and sessions' own routes: none shadows another.
router.register("stations", StationCommandViewSet, basename="station")
router.register("sessions", SessionCommandViewSet, basename="session")
router.register("reservations", ReservationCommandViewSet, basename="reservation")
router.register("configuration-baselines", BaselineApplyViewSet, basename="configurationbaseline")
org_router = OrganizationRouter()
org_router.register("bulk-commands", BulkCommandViewSet, basename="bulkcommand")

urlpatterns = router.urls + org_router.urls + display_and_certificates.urlpatterns
