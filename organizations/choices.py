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


# ISO 4217 codes with two minor units: billing rounds every amount to the cent
# (billing.engine.round_money), so currencies with zero or three decimals would be priced wrong.
CURRENCIES = (
    ("AED", _("UAE dirham")),
    ("AUD", _("Australian dollar")),
    ("BGN", _("Bulgarian lev")),
    ("BRL", _("Brazilian real")),
    ("CAD", _("Canadian dollar")),
    ("CHF", _("Swiss franc")),
    ("CNY", _("Chinese yuan")),
    ("CZK", _("Czech koruna")),
    ("DKK", _("Danish krone")),
    ("EUR", _("Euro")),
    ("GBP", _("Pound sterling")),
    ("HKD", _("Hong Kong dollar")),
    ("HUF", _("Hungarian forint")),
    ("ILS", _("Israeli new shekel")),
    ("INR", _("Indian rupee")),
    ("MXN", _("Mexican peso")),
    ("NOK", _("Norwegian krone")),
    ("NZD", _("New Zealand dollar")),
    ("PLN", _("Polish złoty")),
    ("RON", _("Romanian leu")),
    ("RSD", _("Serbian dinar")),
    ("SEK", _("Swedish krona")),
    ("SGD", _("Singapore dollar")),
    ("TRY", _("Turkish lira")),
    ("USD", _("US dollar")),
    ("ZAR", _("South African rand")),
)


# What each role may do, as the portal explains it next to the members (the API's role map).
ROLE_ABILITIES = {
    Role.VIEWER: _(
        "Sees every page of the organization: stations, sessions, analytics, billing, alerts."
    ),
    Role.OPERATOR: _(
        "Also runs remote commands on stations, manages RFID cards, acknowledges and resolves "
        "alerts and declares maintenance windows."
    ),
    Role.ADMIN: _(
        "Also changes sites, stations, access groups, alert rules, webhooks and roaming "
        "partners, invites and manages members below owner, and manages API keys."
    ),
    Role.OWNER: _(
        "Also changes the organization's settings (name, contact, time zone, currency, "
        "invoicing) and grants, changes or removes the owner role."
    ),
}
