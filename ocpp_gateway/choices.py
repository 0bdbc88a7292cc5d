"""Enumerations of the OCPP gateway."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from stations.choices import DataTransferDirection


class CommandStatus(models.TextChoices):
    """Outcome of a CSMS-to-station call."""

    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    ERROR = "error", _("Error")
    TIMEOUT = "timeout", _("Timeout")
    OFFLINE = "offline", _("Offline")


class RequestedVia(models.TextChoices):
    """Who asked for a command."""

    USER = "user", _("User")
    API_TOKEN = "api_token", _("API token")
    API_KEY = "api_key", _("Organization API key")
    SYSTEM = "system", _("System")


# Frames go the same two ways as the data transfers stations keep: one enum for both.
Direction = DataTransferDirection


class MessageType(models.IntegerChoices):
    """OCPP-J message type ids."""

    CALL = 2, "CALL"
    CALLRESULT = 3, "CALLRESULT"
    CALLERROR = 4, "CALLERROR"
