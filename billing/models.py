"""Tariffs and where they apply, charge detail records, invoices."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.choices import AssignmentScope, CdrKind, InvoiceStatus
from cms.tenancy import TenantQuerySet
from organizations.models import AccessGroup, IdToken, Organization
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Site

ZERO = Decimal("0")


def money_field(verbose_name, **kwargs):
    """A Decimal amount in the row's currency."""
    return models.DecimalField(
        verbose_name, max_digits=12, decimal_places=4, default=ZERO, **kwargs
    )


class TariffQuerySet(TenantQuerySet):
    """Tariffs narrowed by organization."""


class Tariff(models.Model):
    """Prices for energy, charging time, idle time and a session fee, with tax."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tariffs")
    name = models.CharField(_("name"), max_length=120)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    price_per_kwh = money_field(_("price per kWh"), validators=[MinValueValidator(0)])
    price_per_minute_charging = money_field(
        _("price per minute charging"), validators=[MinValueValidator(0)]
    )
    price_per_minute_idle = money_field(
        _("price per minute idle"), validators=[MinValueValidator(0)]
    )
    session_fee = money_field(_("session fee"), validators=[MinValueValidator(0)])
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = TariffQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gt=models.F("valid_from")),
                name="tariff_validity_ordered",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.currency})"


class TariffAssignmentQuerySet(TenantQuerySet):
    """Tariff assignments narrowed by organization."""


class TariffAssignment(models.Model):
    """Applies a tariff to an organization, site, station or access group."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="tariff_assignments"
    )
    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="assignments")
    scope = models.CharField(_("scope"), max_length=16, choices=AssignmentScope.choices)
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    access_group = models.ForeignKey(
        AccessGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    objects = TariffAssignmentQuerySet.as_manager()

    class Meta:
        constraints = [
            # Exactly the target that matches the scope is set.
            models.CheckConstraint(
                condition=(
                    Q(
                        scope="organization",
                        site__isnull=True,
                        station__isnull=True,
                        access_group__isnull=True,
                    )
                    | Q(
                        scope="site",
                        site__isnull=False,
                        station__isnull=True,
                        access_group__isnull=True,
                    )
                    | Q(
                        scope="station",
                        site__isnull=True,
                        station__isnull=False,
                        access_group__isnull=True,
                    )
                    | Q(
                        scope="access_group",
                        site__isnull=True,
                        station__isnull=True,
                        access_group__isnull=False,
                    )
                ),
                name="tariff_assignment_target_matches_scope",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(scope="organization"),
                name="one_default_tariff_per_org",
            ),
            models.UniqueConstraint(fields=["site"], name="one_tariff_per_site"),
            models.UniqueConstraint(fields=["station"], name="one_tariff_per_station"),
            models.UniqueConstraint(fields=["access_group"], name="one_tariff_per_access_group"),
        ]

    def __str__(self):
        target = self.site or self.station or self.access_group or self.organization
        return f"{self.tariff} → {target}"


class ChargeDetailRecordQuerySet(TenantQuerySet):
    """CDRs narrowed by organization."""


class ChargeDetailRecord(models.Model):
    """The immutable priced record of a session (or a credit correcting one)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="cdrs")
    session = models.ForeignKey(ChargingSession, on_delete=models.PROTECT, related_name="cdrs")
    kind = models.CharField(
        _("kind"), max_length=8, choices=CdrKind.choices, default=CdrKind.CHARGE
    )
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    tariff = models.ForeignKey(
        Tariff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tariff_snapshot = models.JSONField(_("tariff snapshot"), default=dict)
    currency = models.CharField(_("currency"), max_length=3)
    energy_wh = models.BigIntegerField(_("energy (Wh)"), default=0)
    charging_seconds = models.PositiveIntegerField(_("charging duration (s)"), default=0)
    idle_seconds = models.PositiveIntegerField(_("idle duration (s)"), default=0)
    components = models.JSONField(
        _("components"), default=list, help_text=_("Quantity, unit price and amount per component.")
    )
    energy_amount = money_field(_("energy amount"))
    time_amount = money_field(_("charging time amount"))
    idle_amount = money_field(_("idle time amount"))
    session_fee_amount = money_field(_("session fee"))
    total_excl_tax = money_field(_("total excl. tax"))
    tax_amount = money_field(_("tax"))
    total_incl_tax = money_field(_("total incl. tax"))
    zero_reason = models.CharField(_("why the total is zero"), max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = ChargeDetailRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("charge detail record")
        constraints = [
            models.UniqueConstraint(
                fields=["session"], condition=Q(kind="charge"), name="one_charge_cdr_per_session"
            )
        ]

    def __str__(self):
        return f"CDR {self.pk} {self.total_incl_tax} {self.currency}"


class InvoiceQuerySet(TenantQuerySet):
    """Invoices narrowed by organization."""


class Invoice(models.Model):
    """An invoice for one billing account over one billing period."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invoices"
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    number = models.CharField(_("number"), max_length=32)
    id_token = models.ForeignKey(
        IdToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices"
    )
    holder_name = models.CharField(_("holder name"), max_length=200, blank=True)
    holder_email = models.EmailField(_("holder email"), blank=True)
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    currency = models.CharField(_("currency"), max_length=3)
    total_excl_tax = money_field(_("total excl. tax"))
    tax_amount = money_field(_("tax"))
    total_incl_tax = money_field(_("total incl. tax"))
    status = models.CharField(
        _("status"), max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED
    )
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sequence"], name="unique_invoice_sequence"
            ),
            models.UniqueConstraint(
                fields=["organization", "number"], name="unique_invoice_number"
            ),
        ]

    def __str__(self):
        return self.number


class InvoiceLineQuerySet(TenantQuerySet):
    """Invoice lines narrowed by their invoice's organization."""

    org_path = "invoice__organization"


class InvoiceLine(models.Model):
    """One line of an invoice, usually one CDR."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    cdr = models.ForeignKey(
        ChargeDetailRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_lines",
    )
    description = models.CharField(_("description"), max_length=255)
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=4, default=Decimal(1)
    )
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    unit_price = money_field(_("unit price"))
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=ZERO)
    amount_excl_tax = money_field(_("amount excl. tax"))
    tax_amount = money_field(_("tax"))
    amount_incl_tax = money_field(_("amount incl. tax"))

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "id"]

    def __str__(self):
        return self.description
