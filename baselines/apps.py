from django.apps import AppConfig

from stations.pages import register_station_panel


class BaselinesConfig(AppConfig):
    """Configuration baselines per vendor and model, and the drift of stations from them."""

    name = "baselines"

    def ready(self):
        # Loaded once the models are (Django's place for it): they use them.
        from baselines import subscribers, views  # noqa: F401, PLC0415

        # The station page shows how the station compares with its baselines.
        register_station_panel(views.station_drift_panel)
