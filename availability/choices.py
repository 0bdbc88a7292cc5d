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


class MaintenanceKind(models.TextChoices):
    """What was done to a station in a maintenance record."""

    INSPECTION = "inspection", _("Inspection")
    CLEANING = "cleaning", _("Cleaning")
    REPAIR = "repair", _("Repair")
    PART_REPLACED = "part_replaced", _("Part replaced")
    OTHER = "other", _("Other")


class WindowStationState(models.TextChoices):
    """Where a station stands in a planned maintenance window that sets it Inoperative."""

    # Inoperative not yet accepted: the station was offline, did not answer, or refused.
    PENDING = "pending", _("Waiting to set Inoperative")
    INOPERATIVE = "inoperative", _("Inoperative")
    # The window is over (or cut short, or deleted): Operative not yet accepted.
    RELEASING = "releasing", _("Waiting to set Operative")
    RELEASED = "released", _("Operative again")


class CommandOutcome(models.TextChoices):
    """The last answer to a ChangeAvailability the window sent (the gateway's CommandStatus)."""

    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    ERROR = "error", _("Error")
    TIMEOUT = "timeout", _("Timeout")
    OFFLINE = "offline", _("Offline")
    # Not sent: another window had already set the station Inoperative, or still covers it.
    SHARED = "shared", _("Covered by another window")
    # Not sent: an operator had set the station Inoperative before; left so at the end too.
    ALREADY_INOPERATIVE = (
        "already_inoperative",
        _("Already set Inoperative by an operator: left Inoperative"),
    )
