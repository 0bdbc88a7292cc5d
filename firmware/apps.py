from django.apps import AppConfig


class FirmwareConfig(AppConfig):
    """Firmware catalogue: images per vendor and model, served to stations by signed URL."""

    name = "firmware"
