"""Serializers of the stations API."""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework import serializers

from organizations.api.fields import TenantRelatedField
from stations import services
from stations.choices import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    SecurityProfile,
    SiteStatus,
)
from stations.models import (
    ChargingProfile,
    ChargingStation,
    Connector,
    Evse,
    Site,
    access_group_model,
    validate_schedule_periods,
)
from stations.selectors import effective_status

# OCPP 2.0.1 identifierString without ':' (the identity is also the Basic-auth username, which
# may not hold one, RFC 7617); no '/', '?', '%' or space either, as it ends the station's URL.
OCPP_ID_PATTERN = re.compile(r"^[A-Za-z0-9*\-_=+|@.]+$")
OCPP_ID_CHARACTERS = "letters, digits and * - _ = + | @ ."
# The station password: OCPP 1.6 security profiles 1 and 2 (16 to 20 bytes in 1.6, 16 to 40
# characters in 2.0.1), as the Django admin enforces.
PASSWORD_MIN, PASSWORD_MAX = 16, 40
BASIC_AUTH_PROFILES = (SecurityProfile.BASIC, SecurityProfile.TLS_BASIC)


class OrganizationWriteMixin:
    """A unique field checked as a field error, and a lost race on it reported the same way."""

    # (field, message) for the one unique constraint a client can run into, so a concurrent
    # write that slips past the check is still a 400 on that field, never a 500.
    unique_field: tuple[str, str] | None = None
    # Unique across every organization (a station's OCPP identity), not within one.
    unique_globally = False

    def others_with(self, field: str, value):
        """The other rows that hold `value` in `field`, where it must be unique."""
        model = self.Meta.model
        rows = model.objects.all()
        if not self.unique_globally:
            rows = rows.for_org(self.context.get("organization_id"))
        rows = rows.filter(**{field: value})
        return rows if self.instance is None else rows.exclude(pk=self.instance.pk)

    def validate_unique_field(self, value):
        """Raise the unique field's message when another row holds `value`."""
        field, message = self.unique_field
        if self.others_with(field, value).exists():
            raise serializers.ValidationError(message)
        return value

    def save(self, **kwargs):
        try:
            with transaction.atomic():
                return super().save(**kwargs)
        except IntegrityError:
            # Only the race on the unique field is the client's doing; anything else is a bug.
            if self.unique_field is None:
                raise
            field, message = self.unique_field
            value = self.validated_data.get(field, getattr(self.instance, field, None))
            if value is None or not self.others_with(field, value).exists():
                raise
            raise serializers.ValidationError({field: [message]}) from None


def model_clean_errors(instance) -> None:
    """Run the model's clean() and re-raise its errors as DRF field errors."""
    try:
        instance.clean()
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.message_dict) from None


class CoordinateField(serializers.DecimalField):
    """A latitude or longitude: more decimals than stored are rounded (6 decimals: ~0.1 m)."""

    def validate_precision(self, value):
        # GPS readings come with 8 or more decimals; refusing them would help nobody.
        if value.is_finite() and abs(value) < 1000:
            value = value.quantize(Decimal(1).scaleb(-self.decimal_places))
        return super().validate_precision(value)


# --- Sites ---------------------------------------------------------------------------------


class SiteSerializer(OrganizationWriteMixin, serializers.ModelSerializer):
    """A site with its station count and status summary (Available, Unknown, Load)."""

    latitude = CoordinateField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, allow_null=True, required=False
    )
    longitude = CoordinateField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        allow_null=True,
        required=False,
    )
    access_groups = TenantRelatedField(
        many=True,
        queryset=access_group_model().objects.all(),
        required=False,
        help_text="Access groups whose cards may charge at every station of the site.",
    )
    station_count = serializers.IntegerField(read_only=True)
    connected_station_count = serializers.IntegerField(
        read_only=True, help_text="Stations holding a connection to us now."
    )
    status = serializers.ChoiceField(
        choices=SiteStatus.choices,
        read_only=True,
        help_text="Available: stations are connected. Unknown: none connected, or none yet. "
        "Load: every connector of the connected stations is in use.",
    )
    unique_field = ("name", "A site with this name already exists in this organization.")

    class Meta:
        model = Site
        fields = [
            "id",
            "organization",
            "name",
            "street",
            "postal_code",
            "city",
            "country",
            "latitude",
            "longitude",
            "provider",
            "roaming_enabled",
            "scan2pay_enabled",
            "access_groups",
            "grid_capacity_kw",
            "time_zone",
            "station_count",
            "connected_station_count",
            "status",
            "created",
            "updated",
        ]
        read_only_fields = ["organization", "created", "updated"]

    def validate_name(self, name):
        return self.validate_unique_field(name)

    def validate_country(self, country):
        if country and not re.fullmatch(r"[A-Za-z]{2}", country):
            raise serializers.ValidationError("Give the ISO 3166-1 alpha-2 code, e.g. DE.")
        return country.upper()

    def validate(self, attrs):
        latitude = attrs.get("latitude", getattr(self.instance, "latitude", None))
        longitude = attrs.get("longitude", getattr(self.instance, "longitude", None))
        if (latitude is None) != (longitude is None):
            missing = "longitude" if longitude is None else "latitude"
            raise serializers.ValidationError({missing: ["Give both coordinates, or neither."]})
        return attrs

    def create(self, validated_data):
        access_groups = validated_data.pop("access_groups", None)
        return services.save_site(Site(**validated_data), access_groups)

    def update(self, instance, validated_data):
        access_groups = validated_data.pop("access_groups", None)
        for field, value in validated_data.items():
            setattr(instance, field, value)
        return services.save_site(instance, access_groups)


# --- Connectors ----------------------------------------------------------------------------


EFFECTIVE_STATUS_HELP = (
    "The status as the portal shows it: `Unavailable` while the station is offline, whatever "
    "it last reported (that stays in `status`); else `status`."
)


class EffectiveStatusMixin:
    """`effective_status`: a connector's status, Unavailable while its station is offline."""

    def get_effective_status(self, connector) -> str:
        return effective_status(connector.status, connector.station.connection_state)


class StationConnectorSerializer(EffectiveStatusMixin, serializers.ModelSerializer):
    """A connector as listed inside its station, with its live status."""

    evse_id = serializers.CharField(source="evse_identity", read_only=True)
    effective_status = serializers.SerializerMethodField(help_text=EFFECTIVE_STATUS_HELP)

    class Meta:
        model = Connector
        fields = [
            "id",
            "connector_id",
            "evse_id",
            "connector_type",
            "max_power_kw",
            "status",
            "effective_status",
            "error_code",
            "status_at",
        ]
        read_only_fields = fields


class ConnectorSerializer(EffectiveStatusMixin, serializers.ModelSerializer):
    """A connector: its plug and power are typed in, its status comes from the station."""

    ocpp_id = serializers.CharField(source="station.ocpp_id", read_only=True)
    effective_status = serializers.SerializerMethodField(help_text=EFFECTIVE_STATUS_HELP)
    evse_id = serializers.CharField(
        source="evse_identity",
        max_length=Evse._meta.get_field("evse_id").max_length,
        required=False,
        allow_blank=True,
        help_text="The EVSE identity of the connector's EVSE, e.g. DE*ABC*E1234*1.",
    )
    max_power_kw = serializers.DecimalField(
        max_digits=7, decimal_places=2, min_value=Decimal("0.01"), allow_null=True, required=False
    )

    class Meta:
        model = Connector
        fields = [
            "id",
            "station",
            "ocpp_id",
            "connector_id",
            "evse_id",
            "connector_type",
            "max_power_kw",
            "status",
            "effective_status",
            "error_code",
            "info",
            "status_at",
        ]
        # A connector stays on its station and keeps its number: the station reports by it.
        read_only_fields = ["station", "connector_id", "status", "error_code", "info", "status_at"]

    def update(self, instance, validated_data):
        evse_id = validated_data.pop("evse_identity", None)
        for field, value in validated_data.items():
            setattr(instance, field, value)
        return services.update_connector(instance, evse_id)


class NewConnectorSerializer(ConnectorSerializer):
    """A connector added by hand to the station in the URL (`context["station"]`)."""

    unique_message = "The station already has a connector with this number."

    class Meta(ConnectorSerializer.Meta):
        read_only_fields = ["station", "status", "error_code", "info", "status_at"]

    def validate_connector_id(self, number):
        if Connector.objects.filter(station=self.context["station"], connector_id=number).exists():
            raise serializers.ValidationError(self.unique_message)
        return number

    def create(self, validated_data):
        evse_id = validated_data.pop("evse_identity", "")
        try:
            with transaction.atomic():
                return services.add_connector(
                    self.context["station"], evse_id=evse_id, **validated_data
                )
        except IntegrityError:
            raise serializers.ValidationError({"connector_id": [self.unique_message]}) from None


# --- Stations ------------------------------------------------------------------------------

BOOT_REPORTED = " Reported by the station in its BootNotification, which overwrites it."


class ChargingStationSerializer(OrganizationWriteMixin, serializers.ModelSerializer):
    """A station with its connectors' live status; the gateway's fields are read-only."""

    ocpp_id = serializers.CharField(
        max_length=ChargingStation._meta.get_field("ocpp_id").max_length,
        help_text="The identity the station connects with: the last segment of its OCPP URL "
        f"and its Basic-auth username ({OCPP_ID_CHARACTERS}).",
    )
    site = TenantRelatedField(queryset=Site.objects.all(), allow_null=True, required=False)
    site_name = serializers.SerializerMethodField()
    access_groups = TenantRelatedField(
        many=True,
        queryset=access_group_model().objects.all(),
        required=False,
        help_text="Authorized here in addition to the site's access groups.",
    )
    password = serializers.CharField(
        write_only=True,
        required=False,
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=f"The station's Basic-auth password ({PASSWORD_MIN} to {PASSWORD_MAX} "
        "characters), for security profiles 1 and 2. Stored hashed, never shown.",
    )
    password_set = serializers.SerializerMethodField()
    effective_status = serializers.SerializerMethodField(help_text=EFFECTIVE_STATUS_HELP)
    connectors = StationConnectorSerializer(many=True, read_only=True)
    # Every station in one namespace: the identity alone tells the gateway who connects. The
    # message names no organization, so it tells nothing about whose station it is.
    unique_field = ("ocpp_id", "A station with this OCPP identity already exists.")
    unique_globally = True

    class Meta:
        model = ChargingStation
        fields = [
            "id",
            "ocpp_id",
            "site",
            "site_name",
            "organization",
            "serial_number",
            "vendor",
            "model",
            "firmware_version",
            "ocpp_version",
            "plan",
            "security_profile",
            "password",
            "password_set",
            "access_groups",
            "heartbeat_interval",
            "message_log_enabled",
            "connection_state",
            "last_seen",
            "registration_status",
            "status",
            "effective_status",
            "firmware_status",
            "firmware_status_at",
            "diagnostics_status",
            "diagnostics_status_at",
            "connectors",
            "created",
            "updated",
        ]
        read_only_fields = [
            "organization",
            "firmware_version",
            "ocpp_version",
            "connection_state",
            "last_seen",
            "registration_status",
            "status",
            "firmware_status",
            "firmware_status_at",
            "diagnostics_status",
            "diagnostics_status_at",
            "created",
            "updated",
        ]
        extra_kwargs = {
            "serial_number": {"help_text": "Serial number." + BOOT_REPORTED},
            "vendor": {"help_text": "Vendor." + BOOT_REPORTED},
            "model": {"help_text": "Model." + BOOT_REPORTED},
        }

    # Methods, not fields with a default: DRF leaves a default out of a PATCH's answer.
    def get_site_name(self, station) -> str | None:
        return station.site.name if station.site_id else None

    def get_password_set(self, station) -> bool:
        return bool(station.password_hash)

    def get_effective_status(self, station) -> str:
        return effective_status(station.status, station.connection_state)

    def validate_ocpp_id(self, ocpp_id):
        # A station registered with an identity we would refuse now keeps it.
        if self.instance is not None and ocpp_id == self.instance.ocpp_id:
            return ocpp_id
        if not OCPP_ID_PATTERN.fullmatch(ocpp_id):
            raise serializers.ValidationError(f"Use {OCPP_ID_CHARACTERS} only.")
        return self.validate_unique_field(ocpp_id)

    def validate(self, attrs):
        # Profiles 1 and 2 authenticate with Basic auth: without a password the station is
        # refused on every connect. Checked when the profile is chosen, not on every change.
        if self.instance is None or "security_profile" in attrs:
            current = getattr(self.instance, "security_profile", SecurityProfile.BASIC)
            profile = attrs.get("security_profile", current)
            has_password = attrs.get("password") or getattr(self.instance, "password_hash", "")
            if profile in BASIC_AUTH_PROFILES and not has_password:
                raise serializers.ValidationError(
                    {
                        "password": [
                            "Security profiles 1 and 2 authenticate with HTTP Basic: "
                            "give the station a password."
                        ]
                    }
                )
        return attrs

    def create(self, validated_data):
        password = validated_data.pop("password", None)
        access_groups = validated_data.pop("access_groups", None)
        return services.save_station(ChargingStation(**validated_data), password, access_groups)

    def update(self, instance, validated_data):
        password = validated_data.pop("password", None)
        access_groups = validated_data.pop("access_groups", None)
        for field, value in validated_data.items():
            setattr(instance, field, value)
        return services.save_station(instance, password, access_groups)


# --- Charging profiles ---------------------------------------------------------------------


class SchedulePeriodSerializer(serializers.Serializer):
    """One period of a charging schedule (OCPP 1.6 ChargingSchedulePeriod)."""

    start_period = serializers.IntegerField(
        min_value=0,
        # OCPP's integer is 32 bits.
        max_value=2**31 - 1,
        help_text="Seconds from the start of the schedule; the first is 0.",
    )
    limit = serializers.DecimalField(
        max_digits=9,
        decimal_places=1,
        min_value=0,
        coerce_to_string=False,
        help_text="In the profile's charging rate unit (A or W), at most one decimal; "
        "0 pauses charging.",
    )
    number_phases = serializers.IntegerField(
        min_value=1, max_value=3, required=False, allow_null=True
    )

    def to_internal_value(self, data):
        if isinstance(data, dict) and (unknown := set(data) - set(self.fields)):
            raise serializers.ValidationError(
                {key: ["Not a schedule period key."] for key in sorted(unknown)}
            )
        # A PATCH makes every nested field optional in DRF; a period is always given whole.
        if isinstance(data, dict) and (missing := {"start_period", "limit"} - set(data)):
            raise serializers.ValidationError(
                {key: ["This field is required."] for key in sorted(missing)}
            )
        period = super().to_internal_value(data)
        # Stored as JSON: a number, whole where it can be (16, not 16.0).
        limit = period["limit"]
        period["limit"] = int(limit) if limit == limit.to_integral_value() else float(limit)
        if period.get("number_phases") is None:
            period.pop("number_phases", None)
        return period

    def to_representation(self, instance):
        period = super().to_representation(instance)
        # Absent, as in OCPP, rather than null: the station then uses all phases.
        if period.get("number_phases") is None:
            period.pop("number_phases", None)
        return period


class ChargingProfileSerializer(OrganizationWriteMixin, serializers.ModelSerializer):
    """A smart-charging profile, checked as OCPP 1.6 checks a csChargingProfiles object."""

    # The periods are a nested serializer for the schema and the errors, but one JSON column
    # of the profile: create and update write them as a plain field.

    schedule_periods = SchedulePeriodSerializer(
        many=True,
        allow_empty=False,
        help_text="The schedule's periods, the first starting at 0, then strictly increasing.",
    )
    min_charging_rate = serializers.DecimalField(
        max_digits=9, decimal_places=1, min_value=0, allow_null=True, required=False
    )
    unique_field = (
        "name",
        "A charging profile with this name already exists in this organization.",
    )

    class Meta:
        model = ChargingProfile
        fields = [
            "id",
            "organization",
            "name",
            "purpose",
            "stack_level",
            "kind",
            "recurrency_kind",
            "valid_from",
            "valid_to",
            "charging_rate_unit",
            "duration",
            "start_schedule",
            "min_charging_rate",
            "schedule_periods",
            "created",
            "updated",
        ]
        read_only_fields = ["organization", "created", "updated"]

    def validate_name(self, name):
        return self.validate_unique_field(name)

    def validate_schedule_periods(self, periods):
        # The model's own rule (first at 0, strictly increasing), as the admin applies it.
        try:
            validate_schedule_periods(periods)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return periods

    def validate(self, attrs):
        fields = {
            name: attrs.get(name, getattr(self.instance, name, None))
            for name in ("kind", "recurrency_kind", "start_schedule", "valid_from", "valid_to")
        }
        probe = ChargingProfile(**{k: v for k, v in fields.items() if v is not None})
        model_clean_errors(probe)
        purpose = attrs.get("purpose", getattr(self.instance, "purpose", None))
        if (
            purpose == ChargingProfilePurpose.CHARGE_POINT_MAX
            and probe.kind == ChargingProfileKind.RELATIVE
        ):
            # A relative schedule starts with a transaction; the station's maximum has none.
            raise serializers.ValidationError(
                {"kind": ["A ChargePointMaxProfile is Absolute or Recurring, never Relative."]}
            )
        return attrs

    def create(self, validated_data):
        return ChargingProfile.objects.create(**validated_data)

    def update(self, instance, validated_data):
        for field, value in validated_data.items():
            setattr(instance, field, value)
        instance.save()
        return instance
