"""Enumerations of the organizations app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """A member's role; each role can do everything the ones below it can."""

    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    OPERATOR = "operator", _("Operator")
    VIEWER = "viewer", _("Viewer")


ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


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


class BillingPeriodLength(models.TextChoices):
    """How often an organization's invoices are issued."""

    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")


class InvitationStatus(models.TextChoices):
    """Where an invitation stands; "expired" is never stored, it follows from `expires_at`."""

    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
