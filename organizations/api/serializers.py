"""Serializers of the organizations API: organizations, members, invitations and API keys."""

import zoneinfo
from functools import cache

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from organizations.choices import InvitationStatus, Role
from organizations.models import (
    APIKeyRole,
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
)
from organizations.roles import organization_roles


@cache
def iana_time_zones() -> frozenset[str]:
    """Every IANA time zone name this system knows."""
    return frozenset(zoneinfo.available_timezones())


class OrganizationSerializer(serializers.ModelSerializer):
    """An organization of the caller, with the caller's own role in it."""

    role = serializers.SerializerMethodField(help_text="Your role in this organization.")
    slug = serializers.SlugField(
        max_length=80,
        required=False,
        help_text="Unique across the system; derived from the name when left out on create.",
    )

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "slug",
            "currency",
            "timezone",
            "contact_name",
            "contact_email",
            "contact_phone",
            "billing_address",
            "vat_id",
            "billing_period",
            "invoice_prefix",
            "diagnostics_retention_days",
            "role",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "role", "created", "updated"]

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, organization) -> str | None:
        return organization_roles(self.context["request"]).get(organization.pk)

    def validate_slug(self, slug):
        taken = Organization.objects.filter(slug=slug)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(_("An organization with this slug exists already."))
        return slug

    def validate_timezone(self, name):
        if name not in iana_time_zones():
            raise serializers.ValidationError(
                _("Unknown time zone %(name)r: use an IANA name such as Europe/Berlin.")
                % {"name": name}
            )
        return name


class MembershipSerializer(serializers.ModelSerializer):
    """A member of an organization: the user and their role."""

    username = serializers.CharField(source="user.username", read_only=True)
    # A CharField: a user may have no email, and "" is no valid `format: email`.
    email = serializers.CharField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organization", "user", "username", "email", "role", "created"]
        read_only_fields = ["id", "organization", "user", "username", "email", "created"]


class MembershipRoleSerializer(serializers.ModelSerializer):
    """The one thing that changes in a membership: the role."""

    class Meta:
        model = Membership
        fields = ["role"]
        extra_kwargs = {"role": {"required": True}}


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation as its organization's admins see it: never its secret, never its hash."""

    status = serializers.SerializerMethodField(
        help_text="`expired` when still pending past `expires_at`."
    )
    invited_by = serializers.CharField(
        source="invited_by.username", read_only=True, default=None, allow_null=True
    )
    accepted_by = serializers.CharField(
        source="accepted_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "organization",
            "email",
            "role",
            "status",
            "invited_by",
            "created",
            "expires_at",
            "sent_at",
            "accepted_by",
            "responded_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=InvitationStatus.choices))
    def get_status(self, invitation) -> str:
        return invitation.effective_status()


class InvitationCreateSerializer(serializers.Serializer):
    """The address to invite and the role it will get; nobody invites above their own role."""

    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)


class IssuedInvitationSerializer(InvitationSerializer):
    """A new or resent invitation with its link, shown in this answer only."""

    link = serializers.SerializerMethodField(
        help_text="The link the invited person opens to accept or decline; it is also emailed. "
        "Shown in this answer only: it is stored as a hash and cannot be shown again."
    )

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "link"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_link(self, invitation) -> str:
        return self.context["link"]


class MyInvitationSerializer(serializers.ModelSerializer):
    """An invitation addressed to the caller: which organization, which role, from whom."""

    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status = serializers.SerializerMethodField()
    invited_by = serializers.CharField(
        source="invited_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "organization",
            "organization_name",
            "role",
            "status",
            "invited_by",
            "created",
            "expires_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=InvitationStatus.choices))
    def get_status(self, invitation) -> str:
        return invitation.effective_status()


class OrganizationAPIKeySerializer(serializers.ModelSerializer):
    """An organization API key as listed: never its secret, never its hash."""

    created_by = serializers.CharField(
        source="created_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = OrganizationAPIKey
        # Not `id`: the primary key contains the key's hash.
        fields = [
            "prefix",
            "organization",
            "name",
            "role",
            "created",
            "created_by",
            "last_used",
            "expiry_date",
            "revoked",
            "revoked_at",
        ]
        read_only_fields = fields


class OrganizationAPIKeyCreateSerializer(serializers.ModelSerializer):
    """A new key: its name, role and optional expiry; the answer carries the secret once."""

    role = serializers.ChoiceField(choices=APIKeyRole.choices)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, default=None, allow_null=True
    )
    key = serializers.SerializerMethodField(
        help_text="The secret for `Authorization: Api-Key <key>`. Shown in this answer only: "
        "it is stored as a hash and cannot be shown again."
    )

    class Meta:
        model = OrganizationAPIKey
        fields = [*OrganizationAPIKeySerializer.Meta.fields, "key"]
        read_only_fields = [
            "prefix",
            "organization",
            "created",
            "created_by",
            "last_used",
            "revoked",
            "revoked_at",
        ]
        extra_kwargs = {
            # The model's `default=None` would make DRF treat the name as optional.
            "name": {"required": True},
            "expiry_date": {"help_text": "Optional; must be in the future."},
        }

    @extend_schema_field(OpenApiTypes.STR)
    def get_key(self, api_key) -> str:
        return self.context["secret"]

    def validate_expiry_date(self, expiry_date):
        if expiry_date is not None and expiry_date <= timezone.now():
            raise serializers.ValidationError(_("The expiry date must be in the future."))
        return expiry_date
