"""Organizations (tenants), their members, invitations and API keys."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from organizations.choices import BillingPeriodLength, InvitationStatus, Role
from organizations.tenancy import TenantQuerySet


class OrganizationQuerySet(TenantQuerySet):
    """Organizations narrowed to themselves or to a user's memberships."""

    org_path = "pk"

    def for_org(self, org):
        """The organization itself (an object or a primary key)."""
        return self.filter(pk=getattr(org, "pk", org))

    def member_lookup(self) -> str:
        """An organization reaches its members directly."""
        return "memberships__user"


class Organization(models.Model):
    """A tenant: a charge point operator that owns sites, stations and cards."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="EUR",
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Use an ISO 4217 code such as EUR."))],
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin")
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    billing_address = models.TextField(
        _("billing address"), blank=True, help_text=_("Printed on invoices as the issuer.")
    )
    vat_id = models.CharField(_("VAT id"), max_length=32, blank=True)
    billing_period = models.CharField(
        _("billing period"),
        max_length=10,
        choices=BillingPeriodLength.choices,
        default=BillingPeriodLength.MONTHLY,
    )
    invoice_prefix = models.CharField(
        _("invoice number prefix"),
        max_length=12,
        default="INV-",
        blank=True,
        validators=[
            RegexValidator(r"^[A-Za-z0-9/_-]*$", _("Letters, digits, '/', '_' and '-' only."))
        ],
    )
    # Empty: the platform's DIAGNOSTICS_RETENTION_DAYS.
    diagnostics_retention_days = models.PositiveIntegerField(
        _("keep diagnostics files (days)"),
        null=True,
        blank=True,
        # 100 years: more would overflow the purge's date arithmetic.
        validators=[MinValueValidator(1), MaxValueValidator(36500)],
        help_text=_(
            "Diagnostics and log files stations uploaded are deleted after this many days. "
            "Empty: the platform's default."
        ),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class MembershipQuerySet(TenantQuerySet):
    """Memberships narrowed by organization."""


class Membership(models.Model):
    """A user's role in one organization."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    created = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="unique_membership")
        ]

    def __str__(self):
        return f"{self.user} @ {self.organization} ({self.role})"

    def has_role(self, minimum: str) -> bool:
        """Whether this membership's role is at least `minimum`."""
        return Role(self.role).at_least(minimum)


class OrganizationAPIKeyQuerySet(TenantQuerySet):
    """API keys narrowed by organization."""


class OrganizationAPIKeyManager(BaseAPIKeyManager.from_queryset(OrganizationAPIKeyQuerySet)):
    """Creates keys (returning the secret once) and finds a usable key from its secret."""


class APIKeyRole(models.TextChoices):
    """Roles a machine client may hold; owning an organization stays with people."""

    ADMIN = Role.ADMIN.value, Role.ADMIN.label
    OPERATOR = Role.OPERATOR.value, Role.OPERATOR.label
    VIEWER = Role.VIEWER.value, Role.VIEWER.label


class OrganizationAPIKey(AbstractAPIKey):
    """A machine client's key to one organization with a role; only its hash is stored."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    role = models.CharField(
        _("role"), max_length=16, choices=APIKeyRole.choices, default=APIKeyRole.VIEWER
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = OrganizationAPIKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("organization API key")
        verbose_name_plural = _("organization API keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class InvitationQuerySet(TenantQuerySet):
    """Invitations narrowed by organization, by the address they go to, or by standing."""

    def addressed_to(self, user):
        """Invitations to the user's email address (none for a user without one)."""
        email = normalize_email(getattr(user, "email", "") or "")
        if not email:
            return self.none()
        return self.filter(email=email)

    def open(self, now=None):
        """Pending and not yet expired: the ones that can still be accepted."""
        return self.filter(status=InvitationStatus.PENDING, expires_at__gt=now or timezone.now())


class Invitation(models.Model):
    """An offer to join an organization with a role, emailed to an address as a one-time link."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    # Stored lower-cased (normalize_email): one address is one invitation, whatever its case.
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    # SHA-256 of the secret in the link; the secret itself is only ever in the email.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InvitationStatus.choices,
        default=InvitationStatus.PENDING,
    )
    created = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    sent_at = models.DateTimeField(_("email sent at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            # Inviting an address again refreshes its pending invitation instead of adding one.
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(status="pending"),
                name="unique_pending_invitation_per_email",
            )
        ]

    def __str__(self):
        return f"{self.email} → {self.organization} ({self.role})"

    def effective_status(self, now=None) -> str:
        """The stored status, or "expired" for a pending invitation past its expiry."""
        if self.status == InvitationStatus.PENDING and self.expires_at <= (now or timezone.now()):
            return InvitationStatus.EXPIRED
        return self.status


def normalize_email(email: str) -> str:
    """Addresses compare case-insensitively here: store and look them up lower-cased."""
    return email.strip().lower()
