"""Routes of the stations API (included under /api/v1/)."""

from core.api.routers import OrganizationRouter, TenantRouter
from stations.api.device_model import StationVariableViewSet
from stations.api.diagnostics import StationDiagnosticsViewSet
from stations.api.event_views import StationEventViewSet
from stations.api.smart_charging import StationSmartChargingViewSet
from stations.api.views import (
    ChargingProfileViewSet,
    ChargingStationViewSet,
    ConnectorViewSet,
    SiteViewSet,
)

router = TenantRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("stations", ChargingStationViewSet, basename="station")
router.register("connectors", ConnectorViewSet, basename="connector")
router.register("charging-profiles", ChargingProfileViewSet, basename="chargingprofile")
org_router = OrganizationRouter()
org_router.register("sites", SiteViewSet, basename="site")
org_router.register("stations", ChargingStationViewSet, basename="station")
org_router.register("charging-profiles", ChargingProfileViewSet, basename="chargingprofile")

# /stations/{id}/events/, .../monitors/, .../customer-information/: actions only (no list or
# detail route), in a router of their own as the basename "station" is taken in `router`.
station_events_router = TenantRouter()
station_events_router.register("stations", StationEventViewSet, basename="station")

# /stations/{id}/variables/: the device model, an action only, in a router of its own too.
device_model_router = TenantRouter()
device_model_router.register("stations", StationVariableViewSet, basename="station")

# /stations/{id}/smart-charging/: what the station reported, an action in a router of its own.
smart_charging_router = TenantRouter()
smart_charging_router.register("stations", StationSmartChargingViewSet, basename="station")

# /stations/{id}/diagnostics/ and .../diagnostics/{file id}/: uploaded files, a router of its own.
diagnostics_router = TenantRouter()
diagnostics_router.register("stations", StationDiagnosticsViewSet, basename="station")

urlpatterns = (
    router.urls
    + org_router.urls
    + station_events_router.urls
    + device_model_router.urls
    + smart_charging_router.urls
    + diagnostics_router.urls
)
