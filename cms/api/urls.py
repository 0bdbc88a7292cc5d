"""The /api/v1/ routes: an API root, the token endpoint, then each app's api/urls.py."""

from importlib import import_module

from django.urls import include, path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import APIRootView
from rest_framework.throttling import ScopedRateThrottle

app_name = "api"

# Each module defines `router` (a TenantRouter), `org_router` (an OrganizationRouter, for the
# collections created under /organizations/{id}/) and `urlpatterns`; add an app here to publish it.
APP_URLCONFS = [
    "organizations.api.urls",
    "cards.api.urls",
    "stations.api.urls",
    "sessions_app.api.urls",
    "billing.api.urls",
    "availability.api.urls",
    "roaming.api.urls",
    "alerts.api.urls",
    "firmware.api.urls",
    "baselines.api.urls",
    "ocpp_gateway.api.urls",
    "fleet.api.urls",
]


def api_root_dict() -> dict[str, str]:
    """Every registered resource prefix with the URL name of its list, for the API root."""
    root = {}
    for urlconf in APP_URLCONFS:
        router = import_module(urlconf).router
        list_name = router.routes[0].name
        for prefix, _viewset, basename in router.registry:
            root[prefix] = list_name.format(basename=basename)
    return root


class ObtainTokenView(ObtainAuthToken):
    """`POST {"username", "password"}` → `{"token"}` for `Authorization: Token <token>`."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth-token"

    def get_serializer_context(self):
        # authenticate() gets Django's request, not DRF's wrapper: axes marks a locked-out
        # attempt on it, where its middleware (and so the 429) can see the mark.
        return {**super().get_serializer_context(), "request": self.request._request}


urlpatterns = [
    path("", APIRootView.as_view(api_root_dict=api_root_dict()), name="api-root"),
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    *(path("", include(urlconf)) for urlconf in APP_URLCONFS),
]
