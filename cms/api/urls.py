"""The /api/v1/ routes: an API root, then each app's api/urls.py."""

from importlib import import_module

from django.urls import include, path
from rest_framework.routers import APIRootView

app_name = "api"

# Each module defines `router` (a SimpleRouter) and `urlpatterns`; add an app here to publish it.
APP_URLCONFS = ["stations.api.urls", "ocpp_gateway.api.urls"]


def api_root_dict() -> dict[str, str]:
    """Every registered resource prefix with the URL name of its list, for the API root."""
    root = {}
    for urlconf in APP_URLCONFS:
        router = import_module(urlconf).router
        list_name = router.routes[0].name
        for prefix, _viewset, basename in router.registry:
            root[prefix] = list_name.format(basename=basename)
    return root


urlpatterns = [
    path("", APIRootView.as_view(api_root_dict=api_root_dict()), name="api-root"),
    *(path("", include(urlconf)) for urlconf in APP_URLCONFS),
]
