from django.apps import AppConfig

from stations.pages import register_station_part


class AlertsConfig(AppConfig):
    """Alert rules and alerts, notifications by mail, webhooks."""

    name = "alerts"

    def ready(self):
        # Loaded once the models are (Django's place for it): the subscribers use them.
        from alerts import relay, selectors, subscribers  # noqa: F401, PLC0415

        # The station page lists the station's open alerts.
        register_station_part("alerts", "alerts/_station_alerts.html", selectors.station_alerts)
