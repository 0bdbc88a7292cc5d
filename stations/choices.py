"""Enumerations of the stations app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OcppVersion(models.TextChoices):
    """OCPP versions a station can speak; the value is the WebSocket subprotocol."""

    V16 = "ocpp1.6", "OCPP 1.6J"
    V201 = "ocpp2.0.1", "OCPP 2.0.1"
    V21 = "ocpp2.1", "OCPP 2.1"


class SecurityProfile(models.IntegerChoices):
    """OCPP security profiles (0: none, 1: Basic auth, 2: TLS + Basic auth, 3: mutual TLS)."""

    NONE = 0, _("0 – no authentication")
    BASIC = 1, _("1 – HTTP Basic authentication")
    TLS_BASIC = 2, _("2 – TLS with Basic authentication")
    TLS_CLIENT_CERT = 3, _("3 – TLS with client certificate")


class RegistrationStatus(models.TextChoices):
    """Answer the station gets to its BootNotification."""

    ACCEPTED = "Accepted", _("Accepted")
    PENDING = "Pending", _("Pending")
    REJECTED = "Rejected", _("Rejected")


class ConnectionState(models.TextChoices):
    """Whether the station holds a WebSocket to us right now."""

    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")


class Plan(models.TextChoices):
    """Commercial plan the station is operated under."""

    BASIC = "basic", _("Basic")
    BUSINESS = "business", _("Business")
    PUBLIC = "public", _("Public")


class ConnectorStatus(models.TextChoices):
    """Connector status as sent by stations (OCPP 1.6 values and 2.0.1 additions)."""

    AVAILABLE = "Available", _("Available")
    PREPARING = "Preparing", _("Preparing")
    CHARGING = "Charging", _("Charging")
    SUSPENDED_EVSE = "SuspendedEVSE", _("Suspended EVSE")
    SUSPENDED_EV = "SuspendedEV", _("Suspended EV")
    FINISHING = "Finishing", _("Finishing")
    RESERVED = "Reserved", _("Reserved")
    UNAVAILABLE = "Unavailable", _("Not available")
    FAULTED = "Faulted", _("Faulted")
    OCCUPIED = "Occupied", _("Occupied")
    UNKNOWN = "Unknown", _("Unknown")


class ConnectorType(models.TextChoices):
    """Physical plug or socket type (names as in OCPI ConnectorType)."""

    TYPE2 = "IEC_62196_T2", _("Type 2 socket")
    TYPE2_CABLE = "IEC_62196_T2_CABLE", _("Type 2 cable")
    CCS2 = "IEC_62196_T2_COMBO", "CCS2"
    CHADEMO = "CHADEMO", "CHAdeMO"
    TYPE1 = "IEC_62196_T1", _("Type 1")
    CCS1 = "IEC_62196_T1_COMBO", "CCS1"
    SCHUKO = "DOMESTIC_F", "Schuko"
    OTHER = "OTHER", _("Other")


class ChargingProfilePurpose(models.TextChoices):
    """What a charging profile limits (OCPP 1.6 ChargingProfilePurposeType)."""

    CHARGE_POINT_MAX = "ChargePointMaxProfile", _("Station maximum")
    TX_DEFAULT = "TxDefaultProfile", _("Default for new transactions")
    TX = "TxProfile", _("One running transaction")


class ChargingProfileKind(models.TextChoices):
    """How a profile's schedule is anchored in time (OCPP 1.6 ChargingProfileKindType)."""

    ABSOLUTE = "Absolute", _("Absolute")
    RECURRING = "Recurring", _("Recurring")
    RELATIVE = "Relative", _("Relative to the transaction start")


class RecurrencyKind(models.TextChoices):
    """Period of a recurring profile."""

    DAILY = "Daily", _("Daily")
    WEEKLY = "Weekly", _("Weekly")


class ChargingRateUnit(models.TextChoices):
    """Unit of the limits of a charging schedule."""

    WATTS = "W", _("Watts")
    AMPERES = "A", _("Amperes")


class SiteStatus(models.TextChoices):
    """A site at a glance: can a driver charge there now?"""

    AVAILABLE = "Available", _("Available: stations are connected")
    UNKNOWN = "Unknown", _("Unknown: no station connected, or none configured yet")
    LOAD = "Load", _("Load: every connector of the connected stations is in use")


class DataTransferDirection(models.TextChoices):
    """Which way a message went, as seen from the platform (data transfers, OCPP frames)."""

    IN = "in", _("Station → CSMS")
    OUT = "out", _("CSMS → station")


class LocalListUpdateType(models.TextChoices):
    """How an update changes a station's local authorization list."""

    FULL = "Full", _("Full: replace the list")
    DIFFERENTIAL = "Differential", _("Differential: only the changes")
