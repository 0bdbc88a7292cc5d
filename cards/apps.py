from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    """Access groups and id tokens (RFID cards), and their CSV import."""

    name = "cards"
    verbose_name = _("Cards and access groups")
