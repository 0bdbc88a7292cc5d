"""Serializers of the availability API: the report's parameters and rows, maintenance windows."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from availability.choices import Group, Period
from availability.forms import BOTH_SCOPES, ENDS_BEFORE_START
from availability.models import MaintenanceWindow
from availability.selectors import parse_day_or_month
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
