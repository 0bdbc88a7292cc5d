from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Alert rules and alerts, notifications by mail, webhooks."""

    name = "alerts"

    def ready(self):
        # Loaded once the models are (Django's place for it): the subscribers use them.
        from alerts import relay, subscribers  # noqa: F401, PLC0415
