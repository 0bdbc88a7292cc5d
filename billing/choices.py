"""Enumerations of the billing app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AssignmentScope(models.TextChoices):
    """What a tariff is assigned to; the most specific scope wins."""

    ACCESS_GROUP = "access_group", _("Access group")
    STATION = "station", _("Station")
    SITE = "site", _("Site")
    ORGANIZATION = "organization", _("Organization default")


class CdrKind(models.TextChoices):
    """A charge, or a credit that corrects an earlier charge."""

    CHARGE = "charge", _("Charge")
    CREDIT = "credit", _("Credit")


class InvoiceStatus(models.TextChoices):
    """Lifecycle of an invoice."""

    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")
