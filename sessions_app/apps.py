from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    """Charging sessions, meter values and reservations."""

    name = "sessions_app"
    verbose_name = "Charging sessions"

    def ready(self):
        # Loaded once the models are (Django's place for it): the module reads sessions.
        from sessions_app import card_usage  # noqa: PLC0415

        # The card pages show when a card was last used and its sessions (cards.usage).
        card_usage.register()
