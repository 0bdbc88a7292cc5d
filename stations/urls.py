"""Portal routes of the stations app (stations and sites), under /o/<org slug>/.

cms/urls.py serves the gateway's remote control of a station (ocpp_gateway.remote.urls) in the
same namespace: stations:station-command.
"""

from django.urls import path

from stations import diagnostics_views, event_views, site_views, views

app_name = "stations"

urlpatterns = [
    path("stations/", views.StationListView.as_view(), name="station-list"),
    path("stations/add/", views.StationAddView.as_view(), name="station-add"),
    path("stations/<int:pk>/", views.StationDetailView.as_view(), name="station-detail"),
    path("stations/<int:pk>/connect/", views.StationConnectView.as_view(), name="station-connect"),
    path(
        "stations/<int:pk>/events/",
        event_views.StationEventListView.as_view(),
        name="station-events",
    ),
    path(
        "stations/<int:pk>/parts/<slug:part>/",
        views.StationPartView.as_view(),
        name="station-part",
    ),
    path(
        "stations/<int:pk>/diagnostics/<int:file_pk>/",
        diagnostics_views.DiagnosticsDownloadView.as_view(),
        name="diagnostics-download",
    ),
    # Where the station uploads (the token in the URL, no login); a tail names the file.
    path(
        "stations/<int:pk>/diagnostics/upload/<str:token>/",
        diagnostics_views.DiagnosticsUploadView.as_view(),
        name="diagnostics-upload",
    ),
    path(
        "stations/<int:pk>/diagnostics/upload/<str:token>/<path:filename>",
        diagnostics_views.DiagnosticsUploadView.as_view(),
        name="diagnostics-upload-file",
    ),
    path("sites/", site_views.SiteListView.as_view(), name="site-list"),
    path("sites/<int:pk>/", site_views.SiteOverviewView.as_view(), name="site-detail"),
    path("sites/<int:pk>/sheet/", site_views.SiteSheetView.as_view(), name="site-sheet"),
    path(
        "sites/<int:pk>/configuration/",
        site_views.SiteConfigurationView.as_view(),
        name="site-config",
    ),
    path(
        "sites/<int:pk>/controllers/",
        site_views.SiteControllersView.as_view(),
        name="site-controllers",
    ),
]
