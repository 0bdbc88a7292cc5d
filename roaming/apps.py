from django.apps import AppConfig


class RoamingConfig(AppConfig):
    """OCPI roaming partners and roaming activity."""

    name = "roaming"
