"""Tariffs and where they apply, charge detail records, invoices."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.choices import (
    ACCOUNT_PROVIDERS,
    AssignmentScope,
    CdrKind,
    InvoiceStatus,
    PaymentProvider,
    PaymentPurpose,
    PaymentStatus,
    RefundStatus,
    TariffType,
)
from billing.engine import TariffDefinition, TariffError, parse_elements
from cards.models import AccessGroup, IdToken
from organizations.models import Organization
from organizations.tenancy import TenantQuerySet
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Site

ZERO = Decimal("0")
CURRENCY = RegexValidator(r"^[A-Z]{3}$", _("Use an ISO 4217 code such as EUR."))
# Codes of funds and metals, no money a driver pays with.
UNPAYABLE_CURRENCIES = frozenset(["XAU", "XAG", "XPT", "XPD", "XDR", "XTS", "XXX"])


def money_field(verbose_name, **kwargs):
    """A Decimal amount in the row's currency."""
    return models.DecimalField(
        verbose_name, max_digits=12, decimal_places=4, default=ZERO, **kwargs
    )


class TariffQuerySet(TenantQuerySet):
    """Tariffs narrowed by organization."""


class Tariff(models.Model):
    """Prices in the OCPI 2.2.1 tariff structure: ordered elements of components, with tax."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tariffs")
    name = models.CharField(_("name"), max_length=120)
    type = models.CharField(
        _("type"),
        max_length=16,
        choices=TariffType.choices,
        default=TariffType.REGULAR,
        help_text=_("Which sessions it prices; published to roaming partners as the OCPI type."),
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR", validators=[CURRENCY])
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # OCPI TariffElement objects exactly as OCPI 2.2.1 spells them (prices excl. tax; a
    # component's own vat, else the tax rate above, is published as its vat), so roaming
    # publishes them unchanged.
    elements = models.JSONField(
        _("elements"),
        default=list,
        help_text=_(
            "OCPI 2.2.1 tariff elements: price components (ENERGY per kWh, TIME and "
            "PARKING_TIME per hour, FLAT per session) with step sizes, an optional vat "
            "(else the tax rate) and restrictions."
        ),
    )
    min_price = models.DecimalField(
        _("minimum price"),
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Excl. tax; a cheaper session is billed this much."),
    )
    max_price = models.DecimalField(
        _("maximum price"),
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Excl. tax; a dearer session is billed this much."),
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
            ),
            models.CheckConstraint(
                condition=Q(min_price__isnull=True)
                | Q(max_price__isnull=True)
                | Q(max_price__gte=models.F("min_price")),
                name="tariff_price_bounds_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.currency})"

    def clean(self):
        # One parser for the admin, the API and the engine, so all three agree on what is valid.
        try:
            parse_elements(self.elements)
        except TariffError as error:
            raise ValidationError({"elements": error.messages}) from None
        bounded = self.min_price is not None and self.max_price is not None
        if bounded and self.max_price < self.min_price:
            raise ValidationError({"max_price": _("Must not be below the minimum price.")})

    def definition(self) -> TariffDefinition:
        """The tariff as the pricing engine reads it."""
        return TariffDefinition(
            currency=self.currency,
            tax_rate=self.tax_rate,
            elements=parse_elements(self.elements),
            min_price=self.min_price,
            max_price=self.max_price,
        )


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

    def uninvoiced(self):
        return self.filter(invoice_lines__isnull=True)


class ImmutableRecord(Exception):
    """A charge detail record is written once; corrections are new credit records."""


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
    # Who is billed: the card (its holder) or, for a roaming session, the partner.
    id_token = models.ForeignKey(
        IdToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="cdrs"
    )
    roaming_partner = models.ForeignKey(
        "roaming.RoamingPartner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cdrs",
    )
    tariff = models.ForeignKey(
        Tariff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tariff_snapshot = models.JSONField(_("tariff snapshot"), default=dict)
    currency = models.CharField(_("currency"), max_length=3)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=ZERO)
    energy_wh = models.BigIntegerField(_("energy (Wh)"), default=0)
    charging_seconds = models.PositiveIntegerField(_("charging duration (s)"), default=0)
    idle_seconds = models.PositiveIntegerField(_("idle duration (s)"), default=0)
    # What made a stretch idle (parking): a meter that advanced by no more than this between
    # two readings. Kept per record, as a partner recomputing it needs the value it was rated at.
    parking_tolerance_wh = models.PositiveIntegerField(
        _("parking tolerance (Wh)"),
        default=0,
        help_text=_(
            "Time between two meter readings counts as parking when the meter advanced by no "
            "more than this."
        ),
    )
    components = models.JSONField(
        _("components"), default=list, help_text=_("Quantity, unit price and amount per component.")
    )
    periods = models.JSONField(
        _("charging periods"),
        default=list,
        help_text=_("Which tariff element priced each stretch of the session."),
    )
    energy_amount = money_field(_("energy amount"))
    time_amount = money_field(_("charging time amount"))
    idle_amount = money_field(_("idle time amount"))
    session_fee_amount = money_field(_("session fee"))
    price_cap_amount = money_field(
        _("minimum/maximum price adjustment"),
        help_text=_(
            "Added to reach the tariff's minimum price, or negative to cap at its maximum."
        ),
    )
    total_excl_tax = money_field(_("total excl. tax"))
    tax_amount = money_field(_("tax"))
    total_incl_tax = money_field(_("total incl. tax"))
    reason = models.CharField(
        _("reason"),
        max_length=255,
        blank=True,
        help_text=_("Why the total is zero, or why this credit was written."),
    )
    billing_stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("billing stopped by"),
    )
    # When the record counts for invoicing: a charge at its session's end, a credit when written.
    accounted_at = models.DateTimeField(_("accounted at"), db_index=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = ChargeDetailRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("charge detail record")
        constraints = [
            models.UniqueConstraint(
                fields=["session"], condition=Q(kind="charge"), name="one_charge_cdr_per_session"
            ),
            models.CheckConstraint(
                condition=Q(kind="credit") | Q(total_incl_tax__gte=0),
                name="charge_cdr_total_not_negative",
            ),
        ]

    def __str__(self):
        return f"CDR {self.pk} {self.total_incl_tax} {self.currency}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecord(f"CDR {self.pk} is immutable; write a credit record instead.")
        if self.accounted_at is None:
            # A charge counts when its session ended; anything else when it is written.
            stop = self.session.stop if self.kind == CdrKind.CHARGE else None
            self.accounted_at = stop or timezone.now()
        super().save(*args, **kwargs)


class BillingPeriodQuerySet(TenantQuerySet):
    """Billing periods narrowed by organization."""


class BillingPeriod(models.Model):
    """One closed billing period of an organization: its invoices are issued."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="billing_periods"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    closed_at = models.DateTimeField(_("closed at"), auto_now_add=True)
    invoice_count = models.PositiveIntegerField(_("invoices"), default=0)

    objects = BillingPeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "start"], name="one_billing_period_per_start"
            ),
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="billing_period_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.organization} {self.start:%Y-%m-%d}–{self.end:%Y-%m-%d}"


class InvoiceQuerySet(TenantQuerySet):
    """Invoices narrowed by organization."""


class Invoice(models.Model):
    """An invoice for one billing account (card holder or roaming partner) over one period."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invoices"
    )
    billing_period = models.ForeignKey(
        BillingPeriod,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    number = models.CharField(_("number"), max_length=32)
    id_token = models.ForeignKey(
        IdToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices"
    )
    roaming_partner = models.ForeignKey(
        "roaming.RoamingPartner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    holder_name = models.CharField(_("holder name"), max_length=200, blank=True)
    holder_email = models.EmailField(_("holder email"), blank=True)
    # The issuer as it was when the invoice was issued; later edits of the org never reach it.
    issuer = models.JSONField(_("issuer"), default=dict)
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    currency = models.CharField(_("currency"), max_length=3)
    total_excl_tax = money_field(_("total excl. tax"))
    tax_amount = money_field(_("tax"))
    total_incl_tax = money_field(_("total incl. tax"))
    tax_breakdown = models.JSONField(
        _("tax per rate"), default=list, help_text=_("Base and tax amount per tax rate.")
    )
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
    """One line of an invoice: one CDR (a charge, or a credit with negative amounts)."""

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
        constraints = [
            # A CDR is invoiced once, whatever closes a period twice or at the same time.
            models.UniqueConstraint(fields=["cdr"], name="one_invoice_line_per_cdr")
        ]

    def __str__(self):
        return self.description


class PaymentAccountQuerySet(TenantQuerySet):
    """Payment accounts narrowed by organization."""


class PaymentAccount(models.Model):
    """An organization's account with a payment provider; the platform's keys stay in the env."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="payment_account"
    )
    provider = models.CharField(
        _("provider"),
        max_length=16,
        choices=ACCOUNT_PROVIDERS,
        default=PaymentProvider.STRIPE,
    )
    # Stripe Connect: the organization's own connected account, paid out to the organization.
    # Empty: payments are made on the platform's own account.
    account_id = models.CharField(
        _("connected account"),
        max_length=64,
        blank=True,
        validators=[RegexValidator(r"^acct_[A-Za-z0-9]+$", _("A Stripe account id: acct_…"))],
        help_text=_("Stripe Connect account id (acct_…); empty for the platform's own account."),
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR", validators=[CURRENCY])
    enabled = models.BooleanField(_("payments enabled"), default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = PaymentAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment account")
        constraints = [
            # One organization per connected account: its money is that organization's alone.
            models.UniqueConstraint(
                fields=["account_id"], condition=~Q(account_id=""), name="one_org_per_account"
            ),
        ]

    def __str__(self):
        return f"{self.organization} ({self.get_provider_display()})"

    @staticmethod
    def check_currency(currency: str) -> None:
        """Refuse a currency payments cannot be taken in."""
        if currency.upper() in UNPAYABLE_CURRENCIES:
            raise ValidationError(
                _("Payments cannot be taken in %(currency)s.") % {"currency": currency}
            )

    def clean(self):
        try:
            self.check_currency(self.currency)
        except ValidationError as error:
            raise ValidationError({"currency": error.messages}) from None


class PaymentQuerySet(TenantQuerySet):
    """Payments narrowed by organization."""


class Payment(models.Model):
    """Money asked of a payer through a provider: authorized, then captured or released."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="payments"
    )
    provider = models.CharField(_("provider"), max_length=16, choices=PaymentProvider.choices)
    # The provider's id of the payment (a Stripe PaymentIntent), unknown until it answered.
    reference = models.CharField(_("provider reference"), max_length=255, blank=True)
    # The connected account it was made on (empty: the platform's): every later call about
    # it goes there, whatever the organization's account is by then.
    account_id = models.CharField(_("connected account"), max_length=64, blank=True)
    # Sent with every call that creates or moves money, so a retried call does it once.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    # What the authorization asked the provider (metadata, saved payment method): an answer
    # lost in transit is asked for again with the same key and the very same request.
    request = models.JSONField(_("provider request"), default=dict, blank=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=PaymentPurpose.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    currency = models.CharField(_("currency"), max_length=3, validators=[CURRENCY])
    amount_authorized = money_field(_("authorized"))
    amount_captured = money_field(_("captured"))
    amount_refunded = money_field(_("refunded"))
    session = models.ForeignKey(
        ChargingSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    cdr = models.ForeignKey(
        ChargeDetailRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    email = models.EmailField(_("receipt email"), blank=True)
    failure = models.CharField(_("failure"), max_length=500, blank=True)
    # A receipt the payer got elsewhere (a station's terminal names its own).
    receipt_id = models.CharField(_("receipt id"), max_length=50, blank=True)
    receipt_url = models.URLField(_("receipt URL"), max_length=2000, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    authorized_at = models.DateTimeField(_("authorized at"), null=True, blank=True)
    captured_at = models.DateTimeField(_("captured at"), null=True, blank=True)
    canceled_at = models.DateTimeField(_("canceled at"), null=True, blank=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("payment")
        constraints = [
            # Per organization: two organizations' terminals may use one PSP's reference format.
            models.UniqueConstraint(
                fields=["organization", "provider", "reference"],
                condition=~Q(reference=""),
                name="one_payment_per_provider_reference",
            ),
            models.CheckConstraint(
                condition=Q(amount_captured__lte=models.F("amount_authorized")),
                name="payment_captures_at_most_the_authorized_amount",
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=models.F("amount_captured")),
                name="payment_refunds_at_most_the_captured_amount",
            ),
            models.CheckConstraint(
                condition=Q(amount_authorized__gte=0)
                & Q(amount_captured__gte=0)
                & Q(amount_refunded__gte=0),
                name="payment_amounts_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.amount_authorized} {self.currency}"

    @property
    def refundable(self) -> Decimal:
        """What can still be paid back."""
        return self.amount_captured - self.amount_refunded


class PaymentRefundQuerySet(TenantQuerySet):
    """Refunds narrowed by their payment's organization."""

    org_path = "payment__organization"


class PaymentRefund(models.Model):
    """Money paid back on a captured payment, with why and by whom."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    reference = models.CharField(_("provider reference"), max_length=255, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    # The key the operator's request carried (API Idempotency-Key, the form's own): the same
    # request sent twice (a retry, a double click) is one refund.
    request_key = models.CharField(_("request key"), max_length=64, blank=True)
    amount = money_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    reason = models.CharField(_("reason"), max_length=255)
    status = models.CharField(
        _("status"), max_length=12, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    failure = models.CharField(_("failure"), max_length=255, blank=True)
    # The credit CDR that takes the refunded amount off the session's charge, when it had one.
    credit = models.OneToOneField(
        ChargeDetailRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refund",
        verbose_name=_("credit record"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refunded by"),
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = PaymentRefundQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("refund")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.UniqueConstraint(
                fields=["payment", "request_key"],
                condition=~Q(request_key=""),
                name="one_refund_per_request",
            ),
        ]

    def __str__(self):
        return f"{self.amount} {self.payment.currency}"


class PaymentEventQuerySet(TenantQuerySet):
    """Provider events narrowed by their payment's organization (an unmatched one has none)."""

    org_path = "payment__organization"


class PaymentEvent(models.Model):
    """A provider's event, kept once: a replayed delivery finds its id and changes nothing."""

    provider = models.CharField(_("provider"), max_length=16, choices=PaymentProvider.choices)
    event_id = models.CharField(_("event id"), max_length=255)
    type = models.CharField(_("type"), max_length=64)
    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    payload = models.JSONField(_("payload"), default=dict)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    objects = PaymentEventQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("payment event")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="one_payment_event_per_provider_id"
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.event_id}"
