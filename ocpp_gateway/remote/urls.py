"""Portal routes of the remote control, under /o/<org slug>/ in the `stations` namespace."""

from django.urls import path

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
]
