"""Top-level URL routes."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ocpp_gateway.remote.urls import urlpatterns as remote_control_patterns
from organizations.urls import invitation_patterns
from portal.errors import FaviconView
from portal.urls import account_patterns
from stations.urls import app_name as stations_namespace
from stations.urls import urlpatterns as station_patterns

# The portal's error pages (portal.errors.ErrorPagesMiddleware shows them in DEBUG too).
handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.permission_denied"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"

urlpatterns = [
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cms.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Log in and out of the browsable API with an ordinary (non-staff) account.
    path("api-auth/", include("rest_framework.urls")),
    path("accounts/", include(account_patterns)),
    # The invited person's pages: not under an organization they are not a member of yet.
    path("invitations/", include((invitation_patterns, "invitations"))),
    # Each app's portal pages sit under the organization's slug, like the dashboard.
    # A station page's remote control is the gateway's, under the stations app's names.
    path(
        "o/<slug:org>/",
        include(([*station_patterns, *remote_control_patterns], stations_namespace)),
    ),
    path("o/<slug:org>/", include("sessions_app.urls")),
    path("o/<slug:org>/", include("cards.urls")),
    path("o/<slug:org>/", include("organizations.urls")),
    path("o/<slug:org>/", include("roaming.urls")),
    # OCPI partners (by their token, not a login): versions, credentials and the modules.
    path("ocpi/<slug:org>/", include("roaming.ocpi_urls")),
    # Stations download firmware images by signed URL (no login, no organization in the path).
    path("firmware/", include("firmware.download_urls")),
    path("payments/", include("billing.payment_urls")),
    # A connector's public Scan2Pay page (no login, no organization in the path): /pay/<code>/.
    path("pay/", include("scan2pay.public_urls")),
    path("o/<slug:org>/", include("billing.urls")),
    path("o/<slug:org>/", include("availability.urls")),
    path("o/<slug:org>/", include("alerts.urls")),
    path("o/<slug:org>/", include("firmware.urls")),
    path("o/<slug:org>/", include("baselines.urls")),
    path("o/<slug:org>/", include("ocpp_gateway.baseline_urls")),
    path("o/<slug:org>/", include("fleet.urls")),
    path("o/<slug:org>/", include("scan2pay.urls")),
    path("", include("portal.urls")),
]
