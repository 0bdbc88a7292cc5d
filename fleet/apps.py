from django.apps import AppConfig


class FleetConfig(AppConfig):
    """Fleet rollouts: firmware campaigns in waves across many stations."""

    name = "fleet"
