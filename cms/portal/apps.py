"""The portal's app config."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The operator web portal."""

    name = "cms.portal"
    label = "portal"
    verbose_name = "Portal"
    default_auto_field = "django.db.models.BigAutoField"
