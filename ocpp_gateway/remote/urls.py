"""Portal routes of the remote control, under /o/<org slug>/ in the `stations` namespace."""

from django.urls import path

from ocpp_gateway.remote import bulk_views
from ocpp_gateway.remote.device_model_views import StationDeviceModelView
from ocpp_gateway.remote.views import StationCommandView

# cms/urls.py serves these with the stations app's own routes, so their names stay
# "stations:...": they are the station page's, only the gateway knows how to run them.
urlpatterns = [
    path("stations/<int:pk>/commands/", StationCommandView.as_view(), name="station-command"),
    path(
        "stations/<int:pk>/device-model/",
        StationDeviceModelView.as_view(),
        name="station-device-model",
    ),
    # Bulk commands: chosen on the station list (or a site's page), followed per station.
    path("bulk-commands/", bulk_views.BulkCommandListView.as_view(), name="bulk-command-list"),
    path("bulk-commands/new/", bulk_views.BulkCommandNewView.as_view(), name="bulk-command-new"),
    path(
        "bulk-commands/<int:pk>/",
        bulk_views.BulkCommandDetailView.as_view(),
        name="bulk-command-detail",
    ),
    path(
        "sites/<int:pk>/diagnostics/",
        bulk_views.SiteDiagnosticsView.as_view(),
        name="site-bulk-diagnostics",
    ),
]
