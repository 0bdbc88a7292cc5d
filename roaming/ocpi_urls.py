"""OCPI routes of an organization, under /ocpi/<org slug>/ (partners only, by token)."""

from django.urls import include, path

from roaming.ocpi.v221 import credentials
from roaming.ocpi.v221 import urls as v221_urls

app_name = "ocpi"

urlpatterns = [
    path("versions", credentials.VersionsView.as_view(), name="versions"),
    path("versions/", credentials.VersionsView.as_view()),
    path("<str:version>/", credentials.VersionDetailsView.as_view(), name="version"),
    path("2.2.1/", include(v221_urls.urlpatterns)),
]
