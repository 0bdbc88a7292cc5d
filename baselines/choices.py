"""Choices of configuration baselines: why a baseline was applied, how it went, per key."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunTrigger(models.TextChoices):
    """Why a baseline was applied to a station."""

    MANUAL = "manual", _("By hand")
    BULK = "bulk", _("To many stations")
    FIRST_BOOT = "first_boot", _("At first boot")


class RunStatus(models.TextChoices):
    """Where an application of a baseline to one station stands."""

    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    ACCEPTED = "accepted", _("All accepted")
    REBOOT_REQUIRED = "reboot_required", _("Accepted, reboot required")
    PARTIAL = "partial", _("Partly refused")
    FAILED = "failed", _("Failed")
    NOTHING = "nothing", _("Nothing to apply")


# Runs that have not finished yet.
OPEN_RUN_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


class ResultStatus(models.TextChoices):
    """The station's answer for one setting (1.6 ChangeConfiguration, 2.0.1 SetVariables)."""

    ACCEPTED = "Accepted", _("Accepted")
    REJECTED = "Rejected", _("Rejected")
    REBOOT_REQUIRED = "RebootRequired", _("Reboot required")
    NOT_SUPPORTED = "NotSupported", _("Not supported")
    UNKNOWN_COMPONENT = "UnknownComponent", _("Unknown component")
    UNKNOWN_VARIABLE = "UnknownVariable", _("Unknown variable")
    FAILED = "Failed", _("Failed")
    OFFLINE = "Offline", _("Station offline")
