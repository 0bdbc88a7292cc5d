"""Enumerations of the roaming app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PartnerRole(models.TextChoices):
    """OCPI role of the partner."""

    CPO = "CPO", _("Charge point operator")
    EMSP = "EMSP", _("e-Mobility service provider")
    HUB = "HUB", _("Hub")
    NAP = "NAP", _("National access point")
    NSP = "NSP", _("Navigation service provider")
    OTHER = "OTHER", _("Other")


class PartnerStatus(models.TextChoices):
    """Connection state of the partnership."""

    PENDING = "pending", _("Pending registration")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
