"""Enumerations of the organizations app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """A member's role; each role can do everything the ones below it can."""

    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    OPERATOR = "operator", _("Operator")
    VIEWER = "viewer", _("Viewer")

    @property
    def rank(self) -> int:
        """A higher rank may do more: the declaration order, lowest last."""
        return _RANK[self]

    def at_least(self, minimum: str) -> bool:
        """Whether this role may do everything `minimum` may."""
        return self.rank >= _RANK[Role(minimum)]

    @classmethod
    def lowest(cls) -> "Role":
        """The role that may do least."""
        return list(cls)[-1]


_RANK = {role: rank for rank, role in enumerate(reversed(Role))}


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
