"""Serializers of the billing API."""

from decimal import Decimal

from django.core.validators import RegexValidator
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.choices import AssignmentScope
from billing.engine import DAYS, DIMENSIONS, RESERVATION_KINDS, TariffError, parse_elements
from billing.models import (
    BillingPeriod,
    ChargeDetailRecord,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAccount,
    PaymentRefund,
    Tariff,
    TariffAssignment,
)
from cards.models import AccessGroup
from organizations.api.fields import TenantRelatedField
from stations.models import ChargingStation, Site

CURRENCY_CODE = RegexValidator(r"^[A-Z]{3}$", _("Use an ISO 4217 code such as EUR."))
# An OCPI party: roaming (above billing) checks its partners' parties, and the party a tariff is
# published by, with these validators.
COUNTRY_CODE = RegexValidator(
    r"^[A-Z]{2}$", _("Two upper-case letters (ISO 3166-1 alpha-2), such as DE.")
)
PARTY_ID = RegexValidator(r"^[A-Z0-9]{3}$", _("Three upper-case letters or digits, such as ABC."))
ASSIGNMENT_TARGETS = ("site", "station", "access_group")
TARGET_OF_SCOPE = {
    AssignmentScope.ORGANIZATION: None,
    AssignmentScope.SITE: "site",
    AssignmentScope.STATION: "station",
    AssignmentScope.ACCESS_GROUP: "access_group",
}


class TariffElementsField(serializers.JSONField):
    """OCPI 2.2.1 TariffElement objects, checked by the pricing engine's own parser."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        try:
            parse_elements(data)
        except TariffError as error:
            # The engine names each fault by its place: elements[0].price_components[1].type.
            raise serializers.ValidationError(error.messages) from None
        return data


def _decimal_schema(strict: bool, description: str) -> dict:
    """A non-negative decimal as a string (exact) or a JSON number."""
    text = {"type": "string"}
    number = {"type": "number", "minimum": 0}
    if strict:
        # What a client should send; the engine reads any decimal notation Python reads.
        text["pattern"] = r"^[0-9]{1,8}(\.[0-9]{1,4})?$"
        number.update(maximum=99999999.9999, multipleOf=0.0001)
    return {"anyOf": [text, number], "description": description}


def tariff_elements_schema(strict: bool) -> dict:
    """The JSON schema of a tariff's elements; `strict` for bodies, the loose one for answers."""

    def optional(schema):
        # The engine reads a restriction given as null as one that is not set.
        return schema if strict else {**schema, "nullable": True}

    def clock(description):
        schema = {"type": "string", "description": description}
        if strict:
            schema["pattern"] = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
        return optional(schema)

    def day(description):
        schema = {"type": "string", "description": description}
        if strict:
            schema["format"] = "date"
        return optional(schema)

    component = {
        "type": "object",
        "properties": {
            "type": {
                "type": "string",
                "enum": list(DIMENSIONS),
                "description": "ENERGY per kWh, TIME and PARKING_TIME per hour, FLAT per session.",
            },
            "price": _decimal_schema(strict, "Price per unit, excl. tax, 4 decimals at most."),
            "step_size": {
                "type": "integer",
                "minimum": 0,
                "default": 1,
                "description": "Billed in steps of this many Wh or seconds (OCPI step_size); "
                "0 for no steps.",
            },
            "vat": {
                **_decimal_schema(strict, "VAT in percent on this component; else the tax_rate."),
                "nullable": True,
            },
        },
        "required": ["type", "price"],
        "additionalProperties": False,
    }
    restrictions = {
        "type": "object",
        "nullable": True,
        "description": "When the element applies; every limit set must hold.",
        "properties": {
            "start_time": clock("Local time of day HH:MM, inclusive."),
            "end_time": clock("Local time of day HH:MM, exclusive; before start_time wraps."),
            "start_date": day("Local date, inclusive."),
            "end_date": day("Local date, exclusive."),
            "min_kwh": optional(_decimal_schema(strict, "Session energy so far, inclusive.")),
            "max_kwh": optional(_decimal_schema(strict, "Session energy so far, exclusive.")),
            "min_power": optional(_decimal_schema(strict, "Average power in kW, inclusive.")),
            "max_power": optional(_decimal_schema(strict, "Average power in kW, exclusive.")),
            "min_duration": optional(
                {"type": "integer", "minimum": 0, "description": "Seconds since start."}
            ),
            "max_duration": optional(
                {"type": "integer", "minimum": 0, "description": "Seconds since start."}
            ),
            "day_of_week": {
                "type": "array",
                "items": {"type": "string", "enum": list(DAYS)},
                "uniqueItems": True,
            },
            "reservation": optional(
                {
                    "type": "string",
                    "enum": list(RESERVATION_KINDS),
                    "description": "The element prices a reservation (FLAT and TIME only), "
                    "never a charge.",
                }
            ),
        },
        "additionalProperties": False,
    }
    return {
        "type": "array",
        "minItems": 1,
        "description": "OCPI 2.2.1 TariffElement objects in order: for each stretch of the "
        "session and each dimension, the first element that applies prices it. Prices are "
        "excl. tax; a component's vat, else the tariff's tax_rate, is published as its vat.",
        "items": {
            "type": "object",
            "properties": {
                "price_components": {"type": "array", "minItems": 1, "items": component},
                "restrictions": restrictions,
            },
            "required": ["price_components"],
            "additionalProperties": False,
        },
    }


class TariffElementsFieldExtension(OpenApiSerializerFieldExtension):
    """Documents `elements` as OCPI TariffElements, so clients and the fuzzer see the shape."""

    target_class = TariffElementsField

    def map_serializer_field(self, auto_schema, direction):
        # A body gets the notation to send; an answer is what was sent, in any notation the
        # engine accepted (a price of "1e2" is valid and comes back as it was written).
        return tariff_elements_schema(strict=direction == "request")


class TariffAssignmentSummarySerializer(serializers.ModelSerializer):
    """Where a tariff applies, as listed inside the tariff."""

    class Meta:
        model = TariffAssignment
        fields = ["id", "scope", "site", "station", "access_group"]
        read_only_fields = fields


class TariffSerializer(serializers.ModelSerializer):
    """OCPI tariff elements with tax, price bounds and validity; where it applies is read-only."""

    elements = TariffElementsField(
        help_text=_("OCPI 2.2.1 TariffElement objects; prices excl. tax (see docs/billing.md).")
    )
    assignments = TariffAssignmentSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Tariff
        fields = [
            "id",
            "organization",
            "name",
            "type",
            "currency",
            "tax_rate",
            "elements",
            "min_price",
            "max_price",
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
        # The database's CheckConstraints would refuse these too, but as a 500.
        valid_from = self._value(attrs, "valid_from")
        valid_to = self._value(attrs, "valid_to")
        if valid_from and valid_to and valid_to <= valid_from:
            raise serializers.ValidationError({"valid_to": [_("Must be after valid_from.")]})
        min_price = self._value(attrs, "min_price")
        max_price = self._value(attrs, "max_price")
        if min_price is not None and max_price is not None and max_price < min_price:
            raise serializers.ValidationError(
                {"max_price": [_("Must not be below the minimum price.")]}
            )
        return attrs

    def _value(self, attrs, name):
        """The value after this write: the body's, else the stored one (PATCH)."""
        return attrs[name] if name in attrs else getattr(self.instance, name, None)

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
    """One priced line of a CDR: a volume of a dimension at one element's price."""

    component = serializers.CharField(
        read_only=True, help_text="ENERGY, TIME, PARKING_TIME, FLAT, MIN_PRICE or MAX_PRICE."
    )
    tariff_element = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Index of the tariff element that priced it; null for a price bound.",
    )
    volume = serializers.IntegerField(read_only=True, help_text="Whole Wh, seconds or 1.")
    volume_unit = serializers.CharField(read_only=True, allow_blank=True)
    quantity = serializers.CharField(read_only=True, help_text="The volume in the price unit.")
    unit = serializers.CharField(read_only=True, allow_blank=True)
    unit_price = serializers.CharField(read_only=True)
    amount = serializers.CharField(read_only=True)
    tax_rate = serializers.CharField(
        read_only=True,
        help_text="VAT in percent on this line: its component's, else the tariff's.",
    )


class CdrPeriodSerializer(serializers.Serializer):
    """A stretch of the session priced by the same elements, charging or parked."""

    start = serializers.CharField(read_only=True)
    end = serializers.CharField(read_only=True)
    charging = serializers.BooleanField(read_only=True)
    energy_wh = serializers.CharField(read_only=True, help_text="Wh, to three decimals.")
    tariff_elements = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="Per dimension, the index of the tariff element that priced it.",
    )


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
    id_token_uid = serializers.CharField(
        source="id_token.uid", read_only=True, default=None, allow_null=True
    )
    start = serializers.DateTimeField(source="session.start", read_only=True)
    stop = serializers.DateTimeField(source="session.stop", read_only=True, allow_null=True)
    components = CdrComponentSerializer(many=True, read_only=True)
    periods = CdrPeriodSerializer(many=True, read_only=True)
    billing_stopped_by = serializers.CharField(
        source="billing_stopped_by.username",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Who stopped billing the session (null for an API key or nobody).",
    )

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
            "id_token",
            "id_token_uid",
            "roaming_partner",
            "start",
            "stop",
            "energy_wh",
            "charging_seconds",
            "idle_seconds",
            "parking_tolerance_wh",
            "tariff",
            "tariff_snapshot",
            "currency",
            "tax_rate",
            "components",
            "periods",
            "energy_amount",
            "time_amount",
            "idle_amount",
            "session_fee_amount",
            "price_cap_amount",
            "total_excl_tax",
            "tax_amount",
            "total_incl_tax",
            "reason",
            "billing_stopped_by",
            "accounted_at",
            "created",
        ]
        read_only_fields = fields


class InvoiceLineSerializer(serializers.ModelSerializer):
    """One line of an invoice: one CDR (a charge, or a credit with negative amounts)."""

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


@extend_schema_field(
    {
        "type": "array",
        "description": "Per tax rate, lowest first: the base excl. tax and the tax on it.",
        "items": {
            "type": "object",
            "properties": {
                "rate": {"type": "string", "description": "Tax rate in percent."},
                "base": {"type": "string"},
                "tax": {"type": "string"},
            },
        },
    }
)
class TaxBreakdownField(serializers.JSONField):
    """The invoice's tax per rate, as billing wrote it."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "The issuing organization as it was at issue: name, billing_address, "
        "vat_id, contact_email.",
    }
)
class IssuerField(serializers.JSONField):
    """The issuer snapshot of an invoice."""


class InvoiceSerializer(serializers.ModelSerializer):
    """An invoice with its issuer, totals, tax per rate and lines."""

    id_token_uid = serializers.CharField(
        source="id_token.uid", read_only=True, default=None, allow_null=True
    )
    issuer = IssuerField(read_only=True)
    tax_breakdown = TaxBreakdownField(read_only=True)
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "organization",
            "billing_period",
            "number",
            "sequence",
            "status",
            "id_token",
            "id_token_uid",
            "roaming_partner",
            "holder_name",
            "holder_email",
            "issuer",
            "period_start",
            "period_end",
            "currency",
            "total_excl_tax",
            "tax_amount",
            "total_incl_tax",
            "tax_breakdown",
            "issued_at",
            "lines",
        ]
        read_only_fields = fields


class BillingPeriodSerializer(serializers.ModelSerializer):
    """A closed billing period of an organization and how many invoices it issued."""

    class Meta:
        model = BillingPeriod
        fields = ["id", "organization", "start", "end", "closed_at", "invoice_count"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    """A payment: what was held, collected and paid back, and what is still refundable."""

    refundable = serializers.DecimalField(max_digits=12, decimal_places=4, read_only=True)

    class Meta:
        model = Payment
        # Not the idempotency key: it is the platform's, for retried provider calls only.
        fields = [
            "id",
            "organization",
            "provider",
            "reference",
            "purpose",
            "status",
            "currency",
            "amount_authorized",
            "amount_captured",
            "amount_refunded",
            "refundable",
            "session",
            "cdr",
            "email",
            "failure",
            "receipt_id",
            "receipt_url",
            "created",
            "updated",
            "authorized_at",
            "captured_at",
            "canceled_at",
        ]
        read_only_fields = fields


class PaymentRefundSerializer(serializers.ModelSerializer):
    """A refund of a payment: how much, why, by whom, and whether the provider paid it."""

    organization = serializers.IntegerField(source="payment.organization_id", read_only=True)
    currency = serializers.CharField(source="payment.currency", read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = PaymentRefund
        fields = [
            "id",
            "organization",
            "payment",
            "reference",
            "amount",
            "currency",
            "reason",
            "status",
            "failure",
            "credit",
            "created_by",
            "created",
        ]
        read_only_fields = fields


class RefundRequestSerializer(serializers.Serializer):
    """What an operator asks to pay back: an amount in the payment's currency, and why."""

    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), label=_("Amount")
    )
    reason = serializers.CharField(max_length=255, label=_("Reason"))


class PaymentAccountSerializer(serializers.ModelSerializer):
    """The organization's account with its payment provider (one per organization)."""

    class Meta:
        model = PaymentAccount
        fields = [
            "organization",
            "provider",
            "account_id",
            "currency",
            "enabled",
            "created",
            "updated",
        ]
        # The organization is the URL's; Stripe is the only provider there is an adapter for.
        # The connected account is set by the platform's staff (Django admin) when they onboard
        # the organization: an organization naming one could read another's money.
        read_only_fields = ["organization", "provider", "account_id", "created", "updated"]

    def validate_currency(self, currency):
        PaymentAccount.check_currency(currency)
        return currency


class BalanceLineSerializer(serializers.Serializer):
    """What the account holds at the provider in one currency."""

    currency = serializers.CharField()
    available = serializers.DecimalField(max_digits=14, decimal_places=2)
    pending = serializers.DecimalField(max_digits=14, decimal_places=2)


class PayoutSerializer(serializers.Serializer):
    """A payout to the organization's bank, as the provider reports it."""

    reference = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.CharField(help_text=_("paid, pending, in_transit, canceled or failed"))
    created = serializers.DateTimeField()
    arrival_date = serializers.DateField()
    failure = serializers.CharField()


class PayoutsSerializer(serializers.Serializer):
    """The account's balance and latest payouts, read from the provider now."""

    configured = serializers.BooleanField(
        help_text=_("False when the organization takes no payments: nothing else to show.")
    )
    own_account = serializers.BooleanField(
        help_text=_(
            "False when the organization is paid on the platform's own account: its balance "
            "and payouts are the platform's and are not shown."
        )
    )
    balance = BalanceLineSerializer(many=True)
    payouts = PayoutSerializer(many=True)
