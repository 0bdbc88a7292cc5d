"""Serializers of the baselines API: baselines with their settings, drift, runs and results."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from baselines import services
from baselines.models import (
    ADDRESS_FIELDS,
    MAX_VALUE_LENGTH,
    BaselineResult,
    BaselineRun,
    BaselineSetting,
    ConfigurationBaseline,
    address_label,
)
from baselines.notation import MAX_KEY_VALUE_LENGTH, ParsedSetting, validate_address
from stations.models import AttributeType


class BaselineSettingSerializer(serializers.ModelSerializer):
    """One desired value: a 1.6 key (no component) or a 2.0.1 variable attribute."""

    label = serializers.CharField(read_only=True)
    value = serializers.CharField(
        max_length=MAX_VALUE_LENGTH, allow_blank=True, trim_whitespace=False
    )
    attribute_type = serializers.ChoiceField(
        choices=AttributeType.choices, default=AttributeType.ACTUAL
    )

    class Meta:
        model = BaselineSetting
        fields = ["label", *ADDRESS_FIELDS, "value"]
        # Uniqueness per baseline is checked over the whole list by the baseline.
        validators = []

    def validate(self, attrs):
        address = {
            name: attrs.get(name, "" if name not in ("evse_number", "connector_number") else 0)
            for name in ADDRESS_FIELDS
        }
        address["attribute_type"] = attrs.get("attribute_type") or AttributeType.ACTUAL
        try:
            validate_address(address)
        except ValueError as error:
            raise serializers.ValidationError({"variable": [str(error)]}) from None
        if not address["component"] and len(attrs.get("value", "")) > MAX_KEY_VALUE_LENGTH:
            raise serializers.ValidationError(
                {
                    "value": [
                        _("An OCPP 1.6 value takes at most %(n)d characters.")
                        % {"n": MAX_KEY_VALUE_LENGTH}
                    ]
                }
            )
        return {**address, "value": attrs.get("value", "")}


class ConfigurationBaselineSerializer(serializers.ModelSerializer):
    """A baseline; `settings` replaces all its settings when written."""

    settings = BaselineSettingSerializer(many=True)
    drifting = serializers.IntegerField(
        read_only=True, help_text="How many stations differ from it now."
    )

    class Meta:
        model = ConfigurationBaseline
        fields = [
            "id",
            "organization",
            "name",
            "vendor",
            "model",
            "apply_at_first_boot",
            "detect_drift",
            "settings",
            "drifting",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "organization", "created", "updated"]
        # The name is unique per organization: checked in validate_name with the URL's one.
        validators = []

    def validate_name(self, value):
        value = value.strip()
        organization = self.context.get("organization_id") or getattr(
            self.instance, "organization_id", None
        )
        taken = ConfigurationBaseline.objects.filter(
            organization_id=organization, name__iexact=value
        )
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(_("A baseline of this name exists already."))
        return value

    def validate_settings(self, value):
        if not value:
            raise serializers.ValidationError(_("Give at least one setting."))
        seen, errors = set(), []
        for item in value:
            key = tuple(item[name] for name in ADDRESS_FIELDS)
            if key in seen:
                label = address_label(dict(zip(ADDRESS_FIELDS, key, strict=True)))
                errors.append(_("%(key)s is set twice.") % {"key": label})
            seen.add(key)
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def _parsed(self, validated_data) -> list[ParsedSetting] | None:
        settings = validated_data.pop("settings", None)
        if settings is None:
            return None
        return [
            ParsedSetting({name: item[name] for name in ADDRESS_FIELDS}, item["value"])
            for item in settings
        ]

    def create(self, validated_data):
        settings = self._parsed(validated_data)
        user = validated_data.pop("user", None)
        with transaction.atomic():
            return services.save_baseline(
                ConfigurationBaseline(**validated_data), settings, user=user
            )

    def update(self, instance, validated_data):
        settings = self._parsed(validated_data)
        user = validated_data.pop("user", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return services.save_baseline(instance, settings, user=user)


class DriftItemSerializer(serializers.Serializer):
    """One setting of the baseline beside what the station reported."""

    key = serializers.CharField(source="setting.label")
    desired = serializers.CharField(source="setting.value")
    reported = serializers.CharField(allow_null=True, help_text="Null: never reported.")
    reported_at = serializers.DateTimeField(allow_null=True)
    state = serializers.ChoiceField(choices=["matches", "differs", "unknown"])


class StationDriftSerializer(serializers.Serializer):
    """A station the baseline matches: whether it drifts, and each setting compared."""

    station = serializers.IntegerField(source="station.pk")
    ocpp_id = serializers.CharField(source="station.ocpp_id")
    ocpp_version = serializers.CharField(source="station.ocpp_version")
    drifting = serializers.BooleanField()
    drifting_since = serializers.DateTimeField(allow_null=True)
    settings = DriftItemSerializer(many=True)


class BaselineResultSerializer(serializers.ModelSerializer):
    """The station's answer for one setting."""

    label = serializers.CharField(read_only=True)

    class Meta:
        model = BaselineResult
        fields = ["label", *ADDRESS_FIELDS, "value", "status", "message"]


class BaselineRunSerializer(serializers.ModelSerializer):
    """An application of a baseline to a station, with the answer per setting."""

    results = BaselineResultSerializer(many=True, read_only=True)
    ocpp_id = serializers.CharField(source="station.ocpp_id", read_only=True)

    class Meta:
        model = BaselineRun
        fields = [
            "id",
            "baseline",
            "station",
            "ocpp_id",
            "trigger",
            "status",
            "message",
            "requested_by",
            "created",
            "started",
            "finished",
            "results",
        ]
        read_only_fields = fields
