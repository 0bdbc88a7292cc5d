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


class TariffType(models.TextChoices):
    """Which sessions a tariff prices, as OCPI 2.2.1 TariffType names them."""

    REGULAR = "REGULAR", _("Regular (RFID, no charging preference)")
    AD_HOC_PAYMENT = "AD_HOC_PAYMENT", _("Ad hoc payment (card terminal)")
    PROFILE_CHEAP = "PROFILE_CHEAP", _("Charging preference: cheap")
    PROFILE_FAST = "PROFILE_FAST", _("Charging preference: fast")
    PROFILE_GREEN = "PROFILE_GREEN", _("Charging preference: green")


class PaymentProvider(models.TextChoices):
    """Payment service providers the platform has an adapter for."""

    STRIPE = "stripe", _("Stripe")
    # The station's own card terminal (OCPP 2.1 NotifySettlement): paid there, recorded here.
    TERMINAL = "terminal", _("Payment terminal at the station")


# Providers an organization can hold an account with (a station's terminal is not one).
ACCOUNT_PROVIDERS = [(PaymentProvider.STRIPE.value, PaymentProvider.STRIPE.label)]


class PaymentPurpose(models.TextChoices):
    """What a payment pays for."""

    AD_HOC = "ad_hoc", _("Ad hoc charging (Scan2Pay)")
    SESSION = "session", _("Session of a card holder")
    INVOICE = "invoice", _("Invoice")
    SUBSCRIPTION = "subscription", _("Subscription")


class PaymentStatus(models.TextChoices):
    """Where a payment is: authorized money is held, captured money is collected."""

    PENDING = "pending", _("Waiting for the payer")
    AUTHORIZED = "authorized", _("Authorized (amount held)")
    CAPTURED = "captured", _("Captured")
    CANCELED = "canceled", _("Canceled (nothing collected)")
    FAILED = "failed", _("Failed")


class RefundStatus(models.TextChoices):
    """Whether the provider paid a refund back."""

    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
