"""The portal's app config."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The operator web portal."""

    name = "portal"
    label = "portal"
    verbose_name = "Portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Its live updates subscribe to the domain events (core.events) they translate.
        from portal import events  # noqa: F401, PLC0415
