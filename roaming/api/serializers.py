"""Serializers of the roaming API."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from billing.api.serializers import COUNTRY_CODE, PARTY_ID
from billing.models import Tariff
from organizations.api.fields import TenantRelatedField
from roaming.choices import PartnerRole
from roaming.models import RoamingActivity, RoamingPartner

OCPI_PARTY = ("country_code", "party_id", "role")


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
            "created",
            "updated",
        ]
        read_only_fields = ["id", "organization", "created", "updated"]
        extra_kwargs = {
            "country_code": {"validators": [COUNTRY_CODE]},
            "party_id": {"validators": [PARTY_ID]},
        }

    def get_has_credentials_token(self, partner) -> bool:
        return bool(partner.credentials_token)

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
    """One day of roaming sessions with one partner at one site."""

    partner_name = serializers.CharField(source="partner.name", read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True)

    class Meta:
        model = RoamingActivity
        fields = [
            "id",
            "organization",
            "partner",
            "partner_name",
            "site",
            "site_name",
            "date",
            "sessions",
            "energy_wh",
            "revenue",
            "currency",
        ]
        read_only_fields = fields
