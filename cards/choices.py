"""Enumerations of the cards app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdTokenType(models.TextChoices):
    """Kinds of id token, as named by OCPP 2.0.1 IdTokenEnumType."""

    ISO14443 = "ISO14443", "ISO 14443 (RFID)"
    ISO15693 = "ISO15693", "ISO 15693 (RFID)"
    EMAID = "eMAID", "eMAID"
    CENTRAL = "Central", _("Central")
    KEY_CODE = "KeyCode", _("Key code")
    LOCAL = "Local", _("Local")
    MAC_ADDRESS = "MacAddress", _("MAC address")
    NO_AUTHORIZATION = "NoAuthorization", _("No authorization")


class IdTokenStatus(models.TextChoices):
    """Administrative status of an id token."""

    ACCEPTED = "Accepted", _("Accepted")
    BLOCKED = "Blocked", _("Blocked")
    EXPIRED = "Expired", _("Expired")
