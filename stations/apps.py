from django.apps import AppConfig


class StationsConfig(AppConfig):
    """Sites, charging stations (EVSE controllers), EVSEs, connectors and status history."""

    name = "stations"
