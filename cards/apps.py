from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from stations.pages import register_site_notice, register_station_panel


class CardsConfig(AppConfig):
    """Access groups and id tokens (RFID cards), and their CSV import."""

    name = "cards"
    verbose_name = _("Cards and access groups")

    def ready(self):
        # The selectors use models, so they load once the app registry is ready.
        from cards import selectors  # noqa: PLC0415

        # Site and station pages warn when no card can charge there (a set-up trap).
        register_site_notice(selectors.site_access_notice)
        register_station_panel(selectors.station_access_panel)
