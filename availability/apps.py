from django.apps import AppConfig

from sessions_app.usage import register_uptime_source
from stations.pages import register_station_panel


class AvailabilityConfig(AppConfig):
    """Availability and uptime of connectors, stations and sites; maintenance windows and log."""

    name = "availability"

    def ready(self):
        # The views use models, so they load once the app registry is ready.
        from availability import services, station_uptime, views  # noqa: PLC0415, F401

        # The station page shows its uptime of the last 30 days.
        register_station_panel(views.station_uptime_panel)
        # ... and its maintenance log (services: attachments' files leave with their rows).
        register_station_panel(views.maintenance_panel)
        # The analytics' usage table shows the same uptime per station.
        register_uptime_source(station_uptime.station_uptimes)
