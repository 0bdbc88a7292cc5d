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


class Module(models.TextChoices):
    """OCPI 2.2.1 module identifiers."""

    CREDENTIALS = "credentials", _("Credentials")
    LOCATIONS = "locations", _("Locations")
    SESSIONS = "sessions", _("Sessions")
    CDRS = "cdrs", _("CDRs")
    TARIFFS = "tariffs", _("Tariffs")
    TOKENS = "tokens", _("Tokens")
    COMMANDS = "commands", _("Commands")
    CHARGING_PROFILES = "chargingprofiles", _("Charging profiles")


class InterfaceRole(models.TextChoices):
    """Which side of a module an endpoint is (OCPI 2.2.1 InterfaceRole)."""

    SENDER = "SENDER", _("Sender")
    RECEIVER = "RECEIVER", _("Receiver")


class OurRole(models.TextChoices):
    """The role our organization plays in an exchange."""

    CPO = "CPO", _("Charge point operator")
    EMSP = "EMSP", _("e-Mobility service provider")


class Direction(models.TextChoices):
    """Who started an OCPI request."""

    INCOMING = "in", _("Partner → us")
    OUTGOING = "out", _("Us → partner")


class PushStatus(models.TextChoices):
    """Where a push to a partner stands."""

    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class TokenType(models.TextChoices):
    """OCPI 2.2.1 TokenType."""

    AD_HOC_USER = "AD_HOC_USER", _("Ad hoc user")
    APP_USER = "APP_USER", _("App user")
    OTHER = "OTHER", _("Other")
    RFID = "RFID", _("RFID")


class WhitelistType(models.TextChoices):
    """OCPI 2.2.1 WhitelistType: when the CPO must ask the eMSP before charging."""

    ALWAYS = "ALWAYS", _("Always (no real-time check)")
    ALLOWED = "ALLOWED", _("Allowed (check when possible)")
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE", _("Allowed offline (check when online)")
    NEVER = "NEVER", _("Never (always check)")


class CommandType(models.TextChoices):
    """OCPI 2.2.1 CommandType."""

    CANCEL_RESERVATION = "CANCEL_RESERVATION", _("Cancel reservation")
    RESERVE_NOW = "RESERVE_NOW", _("Reserve now")
    START_SESSION = "START_SESSION", _("Start session")
    STOP_SESSION = "STOP_SESSION", _("Stop session")
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR", _("Unlock connector")


class CommandResultType(models.TextChoices):
    """OCPI 2.2.1 CommandResultType, plus "pending" while the station has not answered."""

    PENDING = "PENDING", _("Pending")
    ACCEPTED = "ACCEPTED", _("Accepted")
    CANCELED_RESERVATION = "CANCELED_RESERVATION", _("Reservation canceled")
    EVSE_OCCUPIED = "EVSE_OCCUPIED", _("EVSE occupied")
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE", _("EVSE inoperative")
    FAILED = "FAILED", _("Failed")
    NOT_SUPPORTED = "NOT_SUPPORTED", _("Not supported")
    REJECTED = "REJECTED", _("Rejected")
    TIMEOUT = "TIMEOUT", _("Timeout")
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION", _("Unknown reservation")


class ReconciliationState(models.TextChoices):
    """How a received CDR compares with the partner's invoice."""

    OPEN = "open", _("Not invoiced yet")
    MATCHED = "matched", _("Matches the invoice")
    DISPUTED = "disputed", _("Differs from the invoice")
