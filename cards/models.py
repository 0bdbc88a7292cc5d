"""Access groups and id tokens (RFID cards) of an organization.

Both models came from the organizations app and keep its tables (`db_table`), so moving them
needed no data migration.
"""

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cards.choices import IdTokenStatus, IdTokenType
from organizations.models import Organization
from organizations.tenancy import TenantQuerySet


class AccessGroupQuerySet(TenantQuerySet):
    """Access groups narrowed by organization."""


class AccessGroup(models.Model):
    """A set of id tokens that may charge wherever the group is authorized."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="access_groups"
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = AccessGroupQuerySet.as_manager()

    class Meta:
        db_table = "organizations_accessgroup"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_access_group_name_per_org"
            )
        ]

    def __str__(self):
        return self.name


class IdTokenQuerySet(TenantQuerySet):
    """Id tokens narrowed by organization."""


class IdToken(models.Model):
    """An RFID card or other token a driver identifies with; `uid` is what stations send."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="id_tokens"
    )
    # OCPP 2.0.1 allows 36 characters; 1.6 idTag is at most 20.
    uid = models.CharField(_("uid"), max_length=36)
    type = models.CharField(
        _("type"), max_length=20, choices=IdTokenType.choices, default=IdTokenType.ISO14443
    )
    label = models.CharField(_("label"), max_length=120, blank=True)
    holder_name = models.CharField(_("holder name"), max_length=200, blank=True)
    holder_email = models.EmailField(_("holder email"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=IdTokenStatus.choices, default=IdTokenStatus.ACCEPTED
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    parent_id_tag = models.CharField(_("parent id tag"), max_length=36, blank=True)
    max_concurrent_transactions = models.PositiveSmallIntegerField(
        _("max concurrent transactions"),
        null=True,
        blank=True,
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Empty means unlimited."),
    )
    # The table of the organizations app this model came from (its name follows db_table).
    roaming = models.BooleanField(
        _("roaming"),
        default=False,
        help_text=_("May charge at roaming partners' stations (published to them over OCPI)."),
    )
    access_groups = models.ManyToManyField(
        AccessGroup,
        related_name="id_tokens",
        blank=True,
        verbose_name=_("access groups"),
        db_table="organizations_idtoken_access_groups",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = IdTokenQuerySet.as_manager()

    class Meta:
        db_table = "organizations_idtoken"
        ordering = ["uid"]
        verbose_name = _("id token")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "uid"], name="unique_id_token_uid_per_org"
            )
        ]

    def __str__(self):
        return f"{self.uid} ({self.label})" if self.label else self.uid

    def save(self, *args, **kwargs):
        self.uid = normalize_uid(self.uid)
        super().save(*args, **kwargs)

    def clean(self):
        # Before the uniqueness checks run, so "04aabb" collides with "04AABB" in forms too.
        self.uid = normalize_uid(self.uid)


def normalize_uid(uid: str) -> str:
    """OCPP id tags are case-insensitive (CiString): store and look them up upper-cased."""
    return uid.strip().upper()
