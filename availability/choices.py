"""Enumerations of the availability app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Period(models.TextChoices):
    """The time bucket of each row of the report: a local day or a local month."""

    DAY = "day", _("Per day")
    MONTH = "month", _("Per month")


class Group(models.TextChoices):
    """What each row of the report is about."""

    CONNECTOR = "connector", _("Connector")
    STATION = "station", _("Station")
    SITE = "site", _("Site")
