from django.apps import AppConfig


class FleetConfig(AppConfig):
    """Fleet rollouts: firmware campaigns in waves across many stations."""

    name = "fleet"

    def ready(self):
        # Subscribers to station reports and campaign events (core.events).
        from fleet import subscribers  # noqa: F401, PLC0415
