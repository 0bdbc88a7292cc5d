from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    """Charging sessions, meter values and reservations."""

    name = "sessions_app"
    verbose_name = "Charging sessions"
