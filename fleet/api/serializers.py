"""Serializers of the fleet API: campaigns and their stations."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from firmware.models import FirmwareImage
from fleet import services
from fleet.forms import window_errors
from fleet.models import CAMPAIGN_SETTINGS, Campaign, CampaignStation
from fleet.selectors import campaign_progress
from organizations.api.fields import TenantRelatedField
from stations.models import ChargingStation, Site


class CampaignSerializer(serializers.ModelSerializer):
    """A firmware campaign: image, targets, window, pace; its state and progress read-only."""

    image = TenantRelatedField(queryset=FirmwareImage.objects.all())
    target_sites = TenantRelatedField(
        queryset=Site.objects.all(), many=True, required=False, help_text=_("None: every site.")
    )
    target_stations = TenantRelatedField(
        queryset=ChargingStation.objects.all(),
        many=True,
        required=False,
        help_text=_("None: every station the other criteria select."),
    )
    progress = serializers.SerializerMethodField(
        help_text="Stations per state (only the states some station is in)."
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "organization",
            "name",
            "image",
            *CAMPAIGN_SETTINGS,
            "state",
            "current_wave",
            "pause_reason",
            "progress",
            "created_by",
            "created",
            "updated",
            "launched_at",
            "finished_at",
        ]
        read_only_fields = [
            "id",
            "organization",
            "state",
            "current_wave",
            "pause_reason",
            "created_by",
            "created",
            "updated",
            "launched_at",
            "finished_at",
        ]

    def get_progress(self, campaign) -> dict[str, int]:
        counts = self.context.get("progress")
        if counts is not None:
            return counts.get(campaign.pk, {})
        return campaign_progress(campaign).counts

    def validate_target_filter(self, value):
        value = value.strip().lstrip("?")
        organization = self.context.get("organization_id")
        if value and organization is not None:
            errors = services.filter_errors(organization, value)
            if errors:
                raise serializers.ValidationError(errors)
        return value

    def validate(self, attrs):
        def value(name):
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        errors = window_errors(value("window_start"), value("window_end"))
        if errors:
            raise serializers.ValidationError({k: [str(m) for m in v] for k, v in errors.items()})
        return attrs


class CampaignStationSerializer(serializers.ModelSerializer):
    """One station of a campaign and how far its update got."""

    ocpp_id = serializers.CharField(source="station.ocpp_id", read_only=True)

    class Meta:
        model = CampaignStation
        fields = [
            "id",
            "campaign",
            "station",
            "ocpp_id",
            "wave",
            "state",
            "firmware_status",
            "firmware_status_at",
            "attempts",
            "command_log",
            "version_before",
            "version_after",
            "error",
            "sent_at",
            "finished_at",
            "updated",
        ]
        read_only_fields = fields


class LaunchResultSerializer(serializers.Serializer):
    """What a launch froze."""

    targets = serializers.IntegerField(help_text="Stations frozen into the campaign.")
    not_fitting = serializers.IntegerField(
        help_text="Stations that matched but the image is not for their vendor and model."
    )
    campaign = CampaignSerializer()


class CountSerializer(serializers.Serializer):
    """How many stations an action changed, and the campaign after it."""

    count = serializers.IntegerField()
    campaign = CampaignSerializer()
