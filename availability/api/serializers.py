"""Serializers of the availability API: the report, maintenance windows, the maintenance log."""

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from availability.choices import Group, MaintenanceKind, Period
from availability.forms import BOTH_SCOPES, DUE_BEFORE_PERFORMED, ENDS_BEFORE_START
from availability.models import (
    MaintenanceAttachment,
    MaintenanceRecord,
    MaintenanceWindow,
    MaintenanceWindowStation,
)
from availability.selectors import parse_day_or_month
from core.timezones import zone_of
from organizations.api.fields import TenantRelatedField
from organizations.models import Organization
from sessions_app.api.serializers import VisibleRelatedField
from stations.models import ChargingStation, Site


class ReportQuerySerializer(serializers.Serializer):
    """The query parameters of the report; an empty one means its default."""

    period = serializers.ChoiceField(
        choices=Period.choices,
        required=False,
        allow_blank=True,
        help_text="The bucket of each row: a local day (default) or a local month.",
    )
    group = serializers.ChoiceField(
        choices=Group.choices,
        required=False,
        allow_blank=True,
        help_text="What each row is about: a connector, a station (default) or a site.",
    )
    organization = VisibleRelatedField(
        queryset=Organization.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only this organization's stations (needed when your organizations keep "
        "different time zones).",
    )
    site = VisibleRelatedField(
        queryset=Site.objects.all(), required=False, allow_null=True, help_text="Only this site."
    )
    station = VisibleRelatedField(
        queryset=ChargingStation.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only this station.",
    )

    def get_fields(self):
        fields = super().get_fields()
        # `from` is a Python keyword, so these two are added by name.
        fields["from"] = serializers.CharField(
            required=False,
            allow_blank=True,
            help_text="The first local day (YYYY-MM-DD), or month (YYYY-MM). Default: the "
            "first day of the month of `to`.",
        )
        fields["to"] = serializers.CharField(
            required=False,
            allow_blank=True,
            help_text="The last local day (YYYY-MM-DD), or month (YYYY-MM: its last day). "
            "Default: today.",
        )
        return fields

    def validate(self, attrs):
        attrs = dict(attrs)
        attrs["period"] = attrs.get("period") or Period.DAY
        attrs["group"] = attrs.get("group") or Group.STATION
        errors = {}
        for name, last in (("from", False), ("to", True)):
            text = attrs.get(name) or ""
            try:
                attrs[name] = parse_day_or_month(text, last=last) if text else None
            except ValueError as error:
                errors[name] = [str(error)]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ReportRowSerializer(serializers.Serializer):
    """One row: a day or month of a connector, station or site, and its figures."""

    period = serializers.ChoiceField(choices=Period.choices)
    date = serializers.DateField(help_text="The first local day of the row's day or month.")
    start = serializers.DateTimeField(help_text="Where the row's time starts (UTC).")
    end = serializers.DateTimeField(
        help_text="Where it ends: the end of the day or month, or now while it runs."
    )
    site = serializers.IntegerField(allow_null=True)
    site_name = serializers.CharField(allow_null=True)
    station = serializers.IntegerField(allow_null=True, help_text="Null in site rows.")
    ocpp_id = serializers.CharField(allow_null=True)
    connector = serializers.IntegerField(allow_null=True, help_text="Only in connector rows.")
    connector_number = serializers.IntegerField(allow_null=True)
    connectors = serializers.IntegerField(help_text="How many connectors the row adds up.")
    period_seconds = serializers.IntegerField(
        help_text="Connector-seconds of the row: its time once per connector. The six "
        "*_seconds add up to it."
    )
    available_seconds = serializers.IntegerField()
    faulted_seconds = serializers.IntegerField()
    unavailable_seconds = serializers.IntegerField()
    offline_seconds = serializers.IntegerField()
    unknown_seconds = serializers.IntegerField()
    maintenance_seconds = serializers.IntegerField()
    available_share = serializers.FloatField(allow_null=True, help_text="0 to 1.")
    faulted_share = serializers.FloatField(allow_null=True)
    unavailable_share = serializers.FloatField(allow_null=True)
    offline_share = serializers.FloatField(allow_null=True)
    unknown_share = serializers.FloatField(allow_null=True)
    maintenance_share = serializers.FloatField(allow_null=True)
    uptime = serializers.FloatField(
        allow_null=True,
        help_text="available / (period − maintenance − unknown), 0 to 1; null when nothing "
        "was measured.",
    )
    sessions = serializers.IntegerField(help_text="Start attempts (docs/availability.md).")
    failed_sessions = serializers.IntegerField()
    success_rate = serializers.FloatField(
        allow_null=True, help_text="(sessions − failed) / sessions; null without sessions."
    )


# One answer per request, although it is the list action of its viewset.
@extend_schema_serializer(many=False)
class ReportSerializer(serializers.Serializer):
    """The report: the range and zone it covers, and one row per day or month and line."""

    period = serializers.ChoiceField(choices=Period.choices)
    group = serializers.ChoiceField(choices=Group.choices)
    time_zone = serializers.CharField(help_text="The zone of the days and months.")
    first_day = serializers.DateField(help_text="The first local day of the range.")
    last_day = serializers.DateField(help_text="The last local day of the range.")
    start = serializers.DateTimeField(allow_null=True, help_text="Null for a future range.")
    end = serializers.DateTimeField(allow_null=True, help_text="At most now.")
    results = ReportRowSerializer(many=True)


class MaintenanceWindowStationSerializer(serializers.ModelSerializer):
    """What a window's ChangeAvailability did to one station (read-only)."""

    ocpp_id = serializers.CharField(source="station.ocpp_id", read_only=True)

    class Meta:
        model = MaintenanceWindowStation
        fields = [
            "station",
            "ocpp_id",
            "state",
            "last_outcome",
            "detail",
            "attempts",
            "inoperative_sent_at",
            "inoperative_at",
            "operative_sent_at",
            "released_at",
        ]
        read_only_fields = fields


class MaintenanceWindowSerializer(serializers.ModelSerializer):
    """Announced maintenance of the organization (no site or station), a site or a station."""

    site = TenantRelatedField(
        queryset=Site.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("The site it covers; neither site nor station: every station."),
    )
    station = TenantRelatedField(
        queryset=ChargingStation.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("The station it covers (then no site)."),
    )
    stations = MaintenanceWindowStationSerializer(
        source="station_outcomes",
        many=True,
        read_only=True,
        help_text=_("Per covered station: Inoperative sent and accepted, Operative again."),
    )

    class Meta:
        model = MaintenanceWindow
        fields = [
            "id",
            "organization",
            "site",
            "station",
            "starts_at",
            "ends_at",
            "reason",
            "set_inoperative",
            "stations",
            "created_by",
            "created",
        ]
        read_only_fields = ["id", "organization", "created_by", "created"]

    def validate(self, attrs):
        # The database's CheckConstraints would refuse these too, but as a 500.
        starts_at, ends_at = self._value(attrs, "starts_at"), self._value(attrs, "ends_at")
        errors = {}
        if starts_at and ends_at and ends_at <= starts_at:
            errors["ends_at"] = [ENDS_BEFORE_START]
        if self._value(attrs, "site") and self._value(attrs, "station"):
            errors["station"] = [BOTH_SCOPES]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def _value(self, attrs, name):
        """The value after this write: the body's, else the stored one (PATCH)."""
        return attrs[name] if name in attrs else getattr(self.instance, name, None)


class MaintenanceAttachmentSerializer(serializers.ModelSerializer):
    """A photo or PDF of a maintenance record; its content at `download_url` (members only)."""

    download_url = serializers.SerializerMethodField()

    class Meta:
        model = MaintenanceAttachment
        fields = ["id", "original_name", "size", "content_type", "created", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        return reverse(
            "api:maintenancerecord-attachment-download",
            kwargs={"pk": attachment.record_id, "attachment_id": attachment.pk},
        )


class MemberField(serializers.PrimaryKeyRelatedField):
    """A user who is a member of the organization being written to."""

    default_error_messages = {
        "does_not_exist": _('No member "{pk_value}" in this organization.'),
    }

    def get_queryset(self):
        organization = self.context.get("organization_id")
        users = get_user_model().objects.all()
        if organization is None:
            return users.none()
        return users.filter(memberships__organization=organization)


class MaintenanceRecordSerializer(serializers.ModelSerializer):
    """Maintenance done to a station; attachments are uploaded to its attachments/ route."""

    station = TenantRelatedField(queryset=ChargingStation.objects.all())
    kind = serializers.ChoiceField(choices=MaintenanceKind.choices)
    performed_at = serializers.DateTimeField(default=timezone.now)
    performed_by = MemberField(
        required=False,
        allow_null=True,
        help_text=_("A member of the organization; an external contractor goes in technician."),
    )
    attachments = MaintenanceAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = MaintenanceRecord
        fields = [
            "id",
            "organization",
            "station",
            "kind",
            "performed_at",
            "performed_by",
            "technician",
            "part_replaced",
            "notes",
            "next_due",
            "attachments",
            "created_by",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "organization", "created_by", "created", "updated"]

    def validate(self, attrs):
        performed_at = attrs.get("performed_at", getattr(self.instance, "performed_at", None))
        next_due = attrs.get("next_due", getattr(self.instance, "next_due", None))
        station = attrs.get("station", getattr(self.instance, "station", None))
        if performed_at and next_due and station is not None:
            performed_on = performed_at.astimezone(zone_of(station.organization)).date()
            if next_due < performed_on:
                raise serializers.ValidationError({"next_due": [DUE_BEFORE_PERFORMED]})
        return attrs


class AttachmentUploadSerializer(serializers.Serializer):
    """Multipart: one or more `file` parts (JPEG, PNG, GIF, WebP or PDF)."""

    file = serializers.ListField(child=serializers.FileField())


class DueRecordSerializer(serializers.ModelSerializer):
    """The record a line of the overview refers to."""

    class Meta:
        model = MaintenanceRecord
        fields = ["id", "kind", "performed_at", "performed_by", "technician", "next_due"]
        read_only_fields = fields


class DueWindowSerializer(serializers.ModelSerializer):
    """A planned window covering the station."""

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "starts_at", "ends_at", "reason", "set_inoperative"]
        read_only_fields = fields


class MaintenanceDueSerializer(serializers.Serializer):
    """One station in the overview of what is due, overdue first."""

    station = serializers.IntegerField(source="station.pk")
    ocpp_id = serializers.CharField(source="station.ocpp_id")
    organization = serializers.IntegerField(source="station.organization_id")
    site = serializers.IntegerField(source="station.site_id", allow_null=True)
    last = DueRecordSerializer(allow_null=True, help_text="The latest record of any kind.")
    next_due = serializers.DateField(
        allow_null=True,
        help_text="The earliest next_due of the station's latest record of each kind.",
    )
    next_due_record = DueRecordSerializer(source="due_record", allow_null=True)
    overdue = serializers.BooleanField(help_text="next_due is before the organization's today.")
    days_left = serializers.IntegerField(allow_null=True, help_text="Negative when overdue.")
    windows = DueWindowSerializer(
        many=True, help_text="Planned windows not over yet, soonest first."
    )
