"""Roaming partners (OCPI) and the daily rollup of roaming activity."""

from decimal import Decimal

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization
from organizations.tenancy import TenantQuerySet
from roaming.choices import PartnerRole, PartnerStatus
from stations.models import Site


class RoamingPartnerQuerySet(TenantQuerySet):
    """Roaming partners narrowed by organization."""


class RoamingPartner(models.Model):
    """An OCPI party our organization exchanges sessions with."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="roaming_partners"
    )
    name = models.CharField(_("name"), max_length=200)
    country_code = models.CharField(
        _("country code"), max_length=2, validators=[RegexValidator(r"^[A-Z]{2}$")]
    )
    party_id = models.CharField(
        _("party id"), max_length=3, validators=[RegexValidator(r"^[A-Z0-9]{3}$")]
    )
    role = models.CharField(
        _("role"), max_length=5, choices=PartnerRole.choices, default=PartnerRole.EMSP
    )
    versions_url = models.URLField(_("versions URL"), blank=True)
    # OCPI sends this token back to the partner on every call, so it cannot be stored hashed.
    credentials_token = models.CharField(_("credentials token"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PartnerStatus.choices, default=PartnerStatus.PENDING
    )
    tariff = models.ForeignKey(
        "billing.Tariff",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="roaming_partners",
        verbose_name=_("published tariff"),
        help_text=_(
            "The tariff published to this partner; its customers' sessions are priced by it."
        ),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = RoamingPartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "country_code", "party_id", "role"],
                name="unique_roaming_party_per_org",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.country_code}*{self.party_id})"


class RoamingActivityQuerySet(TenantQuerySet):
    """Roaming activity narrowed by organization."""


class RoamingActivity(models.Model):
    """Daily rollup of roaming sessions per partner and site."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="roaming_activity"
    )
    partner = models.ForeignKey(RoamingPartner, on_delete=models.CASCADE, related_name="activity")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="roaming_activity")
    date = models.DateField(_("date"))
    sessions = models.PositiveIntegerField(_("sessions"), default=0)
    energy_wh = models.BigIntegerField(_("energy (Wh)"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=12, decimal_places=4, default=Decimal(0))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")

    objects = RoamingActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "partner"]
        verbose_name_plural = _("roaming activity")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "site", "date"], name="unique_roaming_activity_per_day"
            )
        ]

    def __str__(self):
        return f"{self.partner} {self.site} {self.date}"
