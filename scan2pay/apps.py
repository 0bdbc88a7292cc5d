"""The Scan2Pay app's config."""

from django.apps import AppConfig


class Scan2PayConfig(AppConfig):
    """Scan2Pay: connector pages a driver opens from a QR sticker, and the sticker sheets."""

    name = "scan2pay"
    verbose_name = "Scan2Pay"
