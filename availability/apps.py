from django.apps import AppConfig

from sessions_app.usage import register_uptime_source
from stations.pages import register_station_panel


class AvailabilityConfig(AppConfig):
    """Availability and uptime of connectors, stations and sites; maintenance windows."""

    name = "availability"

    def ready(self):
        # The views use models, so they load once the app registry is ready.
        from availability import station_uptime, views  # noqa: PLC0415

        # The station page shows its uptime of the last 30 days.
        register_station_panel(views.station_uptime_panel)
        # The analytics' usage table shows the same uptime per station.
        register_uptime_source(station_uptime.station_uptimes)
