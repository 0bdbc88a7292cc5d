"""Top-level URL routes."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("cms.api.urls")),
    # Log in and out of the browsable API with an ordinary (non-staff) account.
    path("api-auth/", include("rest_framework.urls")),
]
