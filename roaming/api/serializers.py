"""Serializers of the roaming API."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.api.serializers import COUNTRY_CODE, PARTY_ID
from billing.models import Tariff
from organizations.api.fields import TenantRelatedField
from roaming import selectors
from roaming.choices import PartnerRole
from roaming.models import RoamingActivity, RoamingPartner, RoamingProfile
from roaming.ocpi import registration

OCPI_PARTY = ("country_code", "party_id", "role")


class CredentialsRoleSerializer(serializers.Serializer):
    """One role of the partner's credentials: a party it speaks for."""

    role = serializers.CharField(read_only=True)
    country_code = serializers.CharField(read_only=True)
    party_id = serializers.CharField(read_only=True)
    business_details = serializers.DictField(read_only=True)


class EndpointSerializer(serializers.Serializer):
    """One module interface the partner offers."""

    identifier = serializers.CharField(read_only=True)
    role = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)


class ModuleStateSerializer(serializers.Serializer):
    """How one OCPI module with the partner is doing."""

    module = serializers.CharField(read_only=True)
    interfaces = serializers.ListField(child=serializers.CharField(), read_only=True)
    last_success_at = serializers.DateTimeField(read_only=True)
    last_failure_at = serializers.DateTimeField(read_only=True)
    last_error = serializers.CharField(read_only=True)
    sent = serializers.IntegerField(read_only=True)
    received = serializers.IntegerField(read_only=True)
    healthy = serializers.BooleanField(read_only=True)


class RoamingPartnerSerializer(serializers.ModelSerializer):
    """An OCPI party; its credentials token can be set or replaced but is never shown."""

    credentials_token = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=RoamingPartner._meta.get_field("credentials_token").max_length,
        help_text=_("Write-only. Omit to keep the current token; an empty string removes it."),
    )
    has_credentials_token = serializers.SerializerMethodField()
    has_incoming_token = serializers.SerializerMethodField(
        help_text=_("Whether the partner holds a token to call us with (never shown).")
    )
    is_hub = serializers.BooleanField(read_only=True)
    roles = CredentialsRoleSerializer(
        many=True,
        read_only=True,
        help_text=_("The roles and parties of the partner's credentials (several for a hub)."),
    )
    endpoints = EndpointSerializer(
        many=True,
        read_only=True,
        help_text=_("The partner's modules from its version details."),
    )
    modules = serializers.SerializerMethodField(
        help_text=_("Each module exchanged with the partner: last success, last failure, counts.")
    )
    last_sync = serializers.SerializerMethodField()
    healthy = serializers.SerializerMethodField()
    pushes_owed = serializers.IntegerField(read_only=True, default=0)
    pushes_failed = serializers.IntegerField(read_only=True, default=0)
    tariff = TenantRelatedField(
        queryset=Tariff.objects.all(),
        required=False,
        allow_null=True,
        help_text=_(
            "The tariff published to this partner; its customers' sessions are priced by it."
        ),
    )

    class Meta:
        model = RoamingPartner
        fields = [
            "id",
            "organization",
            "name",
            "country_code",
            "party_id",
            "role",
            "versions_url",
            "credentials_token",
            "has_credentials_token",
            "status",
            "tariff",
            "version",
            "registered_at",
            "is_hub",
            "roles",
            "endpoints",
            "has_incoming_token",
            "modules",
            "last_sync",
            "healthy",
            "pushes_owed",
            "pushes_failed",
            "last_error",
            "last_error_at",
            "created",
            "updated",
        ]
        read_only_fields = [
            "id",
            "organization",
            "version",
            "registered_at",
            "last_error",
            "last_error_at",
            "created",
            "updated",
        ]
        extra_kwargs = {
            "country_code": {"validators": [COUNTRY_CODE]},
            "party_id": {"validators": [PARTY_ID]},
        }

    def get_has_credentials_token(self, partner) -> bool:
        return bool(partner.credentials_token)

    def get_has_incoming_token(self, partner) -> bool:
        return bool(partner.incoming_token_hash)

    @extend_schema_field(ModuleStateSerializer(many=True))
    def get_modules(self, partner) -> list[dict]:
        return ModuleStateSerializer(selectors.module_states(partner), many=True).data

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_sync(self, partner) -> str | None:
        moment = selectors.last_sync(partner)
        return None if moment is None else serializers.DateTimeField().to_representation(moment)

    def get_healthy(self, partner) -> bool:
        return selectors.is_healthy(partner)

    def validate(self, attrs):
        # The organization is not a field, so DRF cannot check the model's UniqueConstraint.
        party = {
            name: attrs[name] if name in attrs else getattr(self.instance, name, None)
            for name in OCPI_PARTY
        }
        party["role"] = party["role"] or PartnerRole.EMSP
        clash = RoamingPartner.objects.for_org(self.context["organization_id"]).filter(**party)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(
                {
                    "party_id": [
                        _("The organization already has a %(role)s partner %(country)s*%(party)s.")
                        % {
                            "role": party["role"],
                            "country": party["country_code"],
                            "party": party["party_id"],
                        }
                    ]
                }
            )
        return attrs


class RoamingActivitySerializer(serializers.ModelSerializer):
    """One day of roaming sessions with one partner at one location, in one of our roles.

    CPO: the partner's drivers at our site (`site`); revenue is what the partner owes us.
    EMSP: our drivers at the partner's location (`location_id`, `location_name`, no `site`);
    revenue is what we owe the partner.
    """

    partner_name = serializers.CharField(source="partner.name", read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True, default=None)

    class Meta:
        model = RoamingActivity
        fields = [
            "id",
            "organization",
            "partner",
            "partner_name",
            "role",
            "site",
            "site_name",
            "location_id",
            "location_name",
            "date",
            "sessions",
            "energy_wh",
            "revenue",
            "currency",
        ]
        read_only_fields = fields


class TokenASerializer(serializers.Serializer):
    """A token A for the partner to register with, and the URL it reads our versions from."""

    token = serializers.CharField(read_only=True, help_text=_("Shown in this answer only."))
    versions_url = serializers.URLField(read_only=True)


class ConnectSerializer(serializers.Serializer):
    """What the partner gave us to register with it."""

    versions_url = serializers.URLField(max_length=200, help_text=_("The partner's versions URL."))
    token = serializers.CharField(
        max_length=64, write_only=True, help_text=_("The token A the partner gave us.")
    )


class SyncResultSerializer(serializers.Serializer):
    """What a sync pulled from the partner, per module."""

    pulled = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    errors = serializers.DictField(child=serializers.CharField(), read_only=True)


class RetriedSerializer(serializers.Serializer):
    """How many failed pushes are owed again."""

    retried = serializers.IntegerField(read_only=True)


class RoamingProfileSerializer(serializers.ModelSerializer):
    """How the organization appears in OCPI: its party, name and roles."""

    versions_url = serializers.SerializerMethodField(
        help_text=_("Where partners read our OCPI versions.")
    )
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = RoamingProfile
        fields = [
            "id",
            "organization",
            "country_code",
            "party_id",
            "name",
            "website",
            "cpo_enabled",
            "emsp_enabled",
            "roles",
            "versions_url",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "organization", "created", "updated"]
        extra_kwargs = {
            "country_code": {"validators": [COUNTRY_CODE]},
            "party_id": {"validators": [PARTY_ID]},
        }

    def get_versions_url(self, profile) -> str:
        return registration.versions_url(profile.organization)
