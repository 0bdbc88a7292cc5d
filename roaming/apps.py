from django.apps import AppConfig


class RoamingConfig(AppConfig):
    """OCPI roaming: partners, both roles' modules, pushes and roaming activity."""

    name = "roaming"

    def ready(self):
        # Subscribers and the modules' push builders register themselves on import.
        from roaming import subscribers  # noqa: F401, PLC0415
        from roaming.ocpi.v221 import urls  # noqa: F401, PLC0415
