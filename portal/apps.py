"""The portal's app config."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The operator web portal."""

    name = "portal"
    label = "portal"
    verbose_name = "Portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Its live updates subscribe to the domain events (core.events) they translate; alert
        # mails are written in the language a member chose here (alerts, below the portal,
        # asks through register_language_resolver).
        from alerts.notifications import register_language_resolver  # noqa: PLC0415
        from portal import events  # noqa: F401, PLC0415
        from portal.models import UserPreference  # noqa: PLC0415

        def chosen_language(user) -> str | None:
            return (
                UserPreference.objects.filter(user_id=user.pk)
                .values_list("language", flat=True)
                .first()
                or None
            )

        register_language_resolver(chosen_language)
