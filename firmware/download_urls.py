"""The login-free route stations download firmware images from (mounted at /firmware/)."""

from django.urls import path

from firmware.download import FirmwareDownloadView

urlpatterns = [
    path(
        "download/<str:token>/<str:filename>",
        FirmwareDownloadView.as_view(),
        name="firmware-download",
    ),
]
