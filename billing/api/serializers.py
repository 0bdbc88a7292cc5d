"""Serializers of the billing API."""

from django.core.validators import RegexValidator
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from billing.choices import AssignmentScope
from billing.models import (
    ChargeDetailRecord,
    Invoice,
    InvoiceLine,
    Tariff,
    TariffAssignment,
)
from cms.api.fields import TenantRelatedField
from organizations.models import AccessGroup
from stations.models import ChargingStation, Site

CURRENCY_CODE = RegexValidator(r"^[A-Z]{3}$", _("Use an ISO 4217 code such as EUR."))
ASSIGNMENT_TARGETS = ("site", "station", "access_group")
TARGET_OF_SCOPE = {
    AssignmentScope.ORGANIZATION: None,
    AssignmentScope.SITE: "site",
    AssignmentScope.STATION: "station",
    AssignmentScope.ACCESS_GROUP: "access_group",
}


class TariffAssignmentSummarySerializer(serializers.ModelSerializer):
    """Where a tariff applies, as listed inside the tariff."""

    class Meta:
        model = TariffAssignment
        fields = ["id", "scope", "site", "station", "access_group"]
        read_only_fields = fields


class TariffSerializer(serializers.ModelSerializer):
    """Prices with tax and validity; where the tariff applies is read-only here."""

    assignments = TariffAssignmentSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Tariff
        fields = [
            "id",
            "organization",
            "name",
            "currency",
            "price_per_kwh",
            "price_per_minute_charging",
            "price_per_minute_idle",
            "session_fee",
            "tax_rate",
            "valid_from",
            "valid_to",
            "assignments",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "organization", "assignments", "created", "updated"]
        extra_kwargs = {
            "currency": {
                "validators": [CURRENCY_CODE],
                "help_text": _("ISO 4217 code; defaults to the organization's currency."),
            }
        }

    def validate(self, attrs):
        # The database's CheckConstraint would refuse it too, but as a 500.
        valid_from = attrs.get("valid_from", getattr(self.instance, "valid_from", None))
        valid_to = attrs.get("valid_to", getattr(self.instance, "valid_to", None))
        if valid_from and valid_to and valid_to <= valid_from:
            raise serializers.ValidationError({"valid_to": [_("Must be after valid_from.")]})
        return attrs

    def create(self, validated_data):
        validated_data.setdefault("currency", validated_data["organization"].currency)
        return super().create(validated_data)


class TariffAssignmentSerializer(serializers.ModelSerializer):
    """A tariff applied to the organization (its default), a site, a station or an access group."""

    tariff = TenantRelatedField(queryset=Tariff.objects.all())
    tariff_name = serializers.CharField(source="tariff.name", read_only=True)
    site = TenantRelatedField(queryset=Site.objects.all(), required=False, allow_null=True)
    station = TenantRelatedField(
        queryset=ChargingStation.objects.all(), required=False, allow_null=True
    )
    access_group = TenantRelatedField(
        queryset=AccessGroup.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = TariffAssignment
        fields = [
            "id",
            "organization",
            "tariff",
            "tariff_name",
            "scope",
            "site",
            "station",
            "access_group",
        ]
        read_only_fields = ["id", "organization"]

    def validate(self, attrs):
        scope = AssignmentScope(attrs["scope"])
        wanted = TARGET_OF_SCOPE[scope]
        # The model's CheckConstraint: exactly the target that matches the scope is set.
        errors = {}
        for name in ASSIGNMENT_TARGETS:
            if name == wanted and attrs.get(name) is None:
                errors[name] = [_("Required for scope %(scope)s.") % {"scope": scope}]
            elif name != wanted and attrs.get(name) is not None:
                errors[name] = [_("Leave empty for scope %(scope)s.") % {"scope": scope}]
        if errors:
            raise serializers.ValidationError(errors)
        self._validate_target_is_free(scope, wanted, attrs)
        return attrs

    def _validate_target_is_free(self, scope, wanted, attrs):
        """The model's UniqueConstraints: one tariff per target, one default per organization."""
        taken = TariffAssignment.objects.select_related("tariff")
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if wanted is None:
            existing = taken.filter(
                organization_id=self.context["organization_id"], scope=scope
            ).first()
            if existing:
                raise serializers.ValidationError(
                    {
                        "scope": [
                            _("The organization already has a default tariff: %(tariff)s.")
                            % {"tariff": existing.tariff}
                        ]
                    }
                )
            return
        target = attrs[wanted]
        existing = taken.filter(**{wanted: target}).first()
        if existing:
            raise serializers.ValidationError(
                {
                    wanted: [
                        _('%(kind)s "%(target)s" already has a tariff: %(tariff)s.')
                        % {
                            "kind": capfirst(target._meta.verbose_name),
                            "target": target,
                            "tariff": existing.tariff,
                        }
                    ]
                }
            )


class CdrComponentSerializer(serializers.Serializer):
    """One priced component of a CDR; numbers as exact decimal strings."""

    component = serializers.CharField(read_only=True)
    quantity = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True)
    unit_price = serializers.CharField(read_only=True)
    amount = serializers.CharField(read_only=True)


class ChargeDetailRecordSerializer(serializers.ModelSerializer):
    """A priced session record (or a credit correcting one), with its session's key facts."""

    transaction_id = serializers.CharField(
        source="session.transaction_id", read_only=True, allow_null=True
    )
    station = serializers.PrimaryKeyRelatedField(source="session.station", read_only=True)
    ocpp_id = serializers.CharField(source="session.station.ocpp_id", read_only=True)
    site = serializers.PrimaryKeyRelatedField(
        source="session.station.site", read_only=True, allow_null=True
    )
    id_tag = serializers.CharField(source="session.id_tag", read_only=True)
    start = serializers.DateTimeField(source="session.start", read_only=True)
    stop = serializers.DateTimeField(source="session.stop", read_only=True, allow_null=True)
    components = CdrComponentSerializer(many=True, read_only=True)

    class Meta:
        model = ChargeDetailRecord
        fields = [
            "id",
            "organization",
            "kind",
            "corrects",
            "session",
            "transaction_id",
            "station",
            "ocpp_id",
            "site",
            "id_tag",
            "start",
            "stop",
            "energy_wh",
            "charging_seconds",
            "idle_seconds",
            "tariff",
            "tariff_snapshot",
            "currency",
            "components",
            "energy_amount",
            "time_amount",
            "idle_amount",
            "session_fee_amount",
            "total_excl_tax",
            "tax_amount",
            "total_incl_tax",
            "zero_reason",
            "created",
        ]
        read_only_fields = fields


class InvoiceLineSerializer(serializers.ModelSerializer):
    """One line of an invoice, usually one CDR."""

    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "cdr",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "tax_rate",
            "amount_excl_tax",
            "tax_amount",
            "amount_incl_tax",
        ]
        read_only_fields = fields


class InvoiceSerializer(serializers.ModelSerializer):
    """An invoice with its totals and lines."""

    id_token_uid = serializers.CharField(source="id_token.uid", read_only=True, default=None)
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "organization",
            "number",
            "sequence",
            "status",
            "id_token",
            "id_token_uid",
            "holder_name",
            "holder_email",
            "period_start",
            "period_end",
            "currency",
            "total_excl_tax",
            "tax_amount",
            "total_incl_tax",
            "issued_at",
            "lines",
        ]
        read_only_fields = fields
