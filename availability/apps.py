from django.apps import AppConfig


class AvailabilityConfig(AppConfig):
    """Availability and uptime of connectors, stations and sites; maintenance windows."""

    name = "availability"
