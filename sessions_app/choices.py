"""Enumerations of the sessions app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SessionState(models.TextChoices):
    """Lifecycle of a charging session."""

    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class AuthMethod(models.TextChoices):
    """How the session was authorized."""

    RFID = "rfid", _("RFID")
    REMOTE = "remote", _("Remote (operator)")
    ROAMING = "roaming", _("Roaming")
    SCAN2PAY = "scan2pay", _("Scan2Pay")


class AuthorizationStatus(models.TextChoices):
    """What the authorization chain answered for an id token, in no protocol's terms."""

    # The values were OCPP 1.6 words and are stored in ChargingSession.auth_status; they stay,
    # and each protocol version maps them to its own (ocpp_gateway/v16/formats.py).

    ACCEPTED = "Accepted", _("Accepted")
    BLOCKED = "Blocked", _("Blocked")
    EXPIRED = "Expired", _("Expired")
    INVALID = "Invalid", _("Invalid")
    CONCURRENT_TX = "ConcurrentTx", _("Concurrent transaction")


class RemoteStartStatus(models.TextChoices):
    """What became of an operator's remote start; only a pending or accepted one is claimed."""

    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("No answer")


class ReservationStatus(models.TextChoices):
    """Lifecycle of a reservation."""

    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    USED = "used", _("Used")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    REJECTED = "rejected", _("Rejected")


class ReviewOutcome(models.TextChoices):
    """How a person settled a session held for review."""

    RELEASED = "released", _("Released as recorded")
    CORRECTED = "corrected", _("Corrected")


class TransactionEventType(models.TextChoices):
    """Where in its transaction a station's transaction event is (OCPP 2.0.1 words)."""

    STARTED = "Started", _("Started")
    UPDATED = "Updated", pgettext_lazy("transaction event type", "Updated")
    ENDED = "Ended", _("Ended")
