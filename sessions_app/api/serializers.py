"""Serializers of the sessions API: sessions, meter values, reservations and analytics."""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from cards.models import IdToken
from organizations.models import Organization
from sessions_app.models import ChargingSession, MeterValue, Reservation, TransactionEvent
from sessions_app.selectors import GroupBy, duration_seconds, missing_event_numbers
from stations.models import ChargingStation, Site


class UsedCardSerializer(serializers.ModelSerializer):
    """The card a session or reservation was made with."""

    class Meta:
        model = IdToken
        fields = ["id", "uid", "label"]
        read_only_fields = fields


class SessionCardSerializer(serializers.ModelSerializer):
    """The card used, as the session detail shows it."""

    class Meta:
        model = IdToken
        fields = ["id", "uid", "label", "type", "holder_name", "status"]
        read_only_fields = fields


class ChargingSessionSerializer(serializers.ModelSerializer):
    """A charging session as listed: where, who, when, how much and what it cost."""

    ocpp_id = serializers.CharField(source="station.ocpp_id", read_only=True)
    site = serializers.PrimaryKeyRelatedField(
        source="station.site", read_only=True, allow_null=True
    )
    site_name = serializers.CharField(
        source="station.site.name", read_only=True, default=None, allow_null=True
    )
    connector_id = serializers.IntegerField(
        source="connector.connector_id", read_only=True, help_text="The OCPP connector id."
    )
    evse_id = serializers.CharField(
        source="connector.evse_identity", read_only=True, help_text="e.g. DE*ABC*E1234*1"
    )
    id_token = UsedCardSerializer(
        read_only=True, allow_null=True, help_text="The card used; null when the tag is unknown."
    )
    duration_seconds = serializers.SerializerMethodField()
    cost = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text="Charged incl. tax, less any credits; null until the session is rated.",
    )
    currency = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = ChargingSession
        fields = [
            "id",
            "transaction_id",
            "organization",
            "station",
            "ocpp_id",
            "site",
            "site_name",
            "connector_id",
            "evse_id",
            "id_tag",
            "id_token",
            "roaming_partner",
            "auth_method",
            "start",
            "stop",
            "energy_wh",
            "duration_seconds",
            "state",
            "stop_reason",
            "cost",
            "currency",
            "billing_stopped",
            "needs_review",
            "review_reason",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_duration_seconds(self, session) -> int | None:
        return duration_seconds(session)


class TransactionEventSerializer(serializers.ModelSerializer):
    """One OCPP 2.0.1/2.1 TransactionEvent of a session, as the station sent it (no payload)."""

    tariff_id = serializers.SerializerMethodField(
        help_text="OCPP 2.1: the tariff the station applies (transactionInfo.tariffId)."
    )
    cost_details = serializers.SerializerMethodField(
        help_text="OCPP 2.1: the station's own cost calculation (costDetails), as sent."
    )
    transaction_limit = serializers.SerializerMethodField(
        help_text="OCPP 2.1: the limits of the transaction (maxCost, maxEnergy, maxTime, maxSoC)."
    )

    class Meta:
        model = TransactionEvent
        fields = [
            "seq_no",
            "event_type",
            "trigger_reason",
            "charging_state",
            "offline",
            "timestamp",
            "id_tag",
            "tariff_id",
            "cost_details",
            "transaction_limit",
        ]
        read_only_fields = fields

    @staticmethod
    def _info(event) -> dict:
        info = event.payload.get("transactionInfo") if isinstance(event.payload, dict) else None
        return info if isinstance(info, dict) else {}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_tariff_id(self, event) -> str | None:
        return self._info(event).get("tariffId")

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_cost_details(self, event) -> dict | None:
        return event.payload.get("costDetails") if isinstance(event.payload, dict) else None

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_transaction_limit(self, event) -> dict | None:
        return self._info(event).get("transactionLimit")


class ChargingSessionDetailSerializer(ChargingSessionSerializer):
    """A session with its card, meter readings, authorization and billing decisions."""

    id_token = SessionCardSerializer(
        read_only=True, allow_null=True, help_text="The card used; null when the tag is unknown."
    )
    billing_stopped_by = serializers.CharField(
        source="billing_stopped_by.username", read_only=True, default=None, allow_null=True
    )
    reviewed_by = serializers.CharField(
        source="reviewed_by.username", read_only=True, default=None, allow_null=True
    )
    transaction_events = TransactionEventSerializer(
        many=True,
        read_only=True,
        help_text="OCPP 2.0.1 stations: every TransactionEvent of the session, by seqNo "
        "(empty for 1.6 sessions).",
    )
    missing_event_numbers = serializers.SerializerMethodField(
        help_text="OCPP 2.0.1: seqNos between the first and the last event that never arrived."
    )
    corrections = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text="What was changed in what the station sent, or by a review: "
        '{"field", "sent" or "was", "used", and for a review "by" and "at"}.',
    )

    class Meta(ChargingSessionSerializer.Meta):
        fields = [
            *ChargingSessionSerializer.Meta.fields,
            "meter_start",
            "meter_stop",
            "last_power_w",
            "auth_status",
            "reservation",
            "billable",
            "billing_stopped_by",
            "billing_stopped_reason",
            "billing_stopped_at",
            "review_outcome",
            "reviewed_by",
            "reviewed_at",
            "corrections",
            "charging_state",
            "number_of_phases_used",
            "cable_max_current",
            "time_spent_charging",
            "transaction_events",
            "missing_event_numbers",
            "created",
            "updated",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_missing_event_numbers(self, session) -> list[int]:
        return missing_event_numbers(session)


class MeterValueSerializer(serializers.ModelSerializer):
    """One sampled value of a session."""

    class Meta:
        model = MeterValue
        fields = ["timestamp", "measurand", "phase", "unit", "context", "location", "value"]
        read_only_fields = fields


class StopBillingSerializer(serializers.Serializer):
    """Why billing of the session stops (kept with the session and any credit record)."""

    reason = serializers.CharField(
        max_length=ChargingSession._meta.get_field("billing_stopped_reason").max_length
    )


class CorrectSessionSerializer(serializers.Serializer):
    """The corrected registers (and, if wrong too, times) of a session held for review."""

    meter_start = serializers.IntegerField(min_value=0, max_value=10**14)
    meter_stop = serializers.IntegerField(min_value=0, max_value=10**14)
    start = serializers.DateTimeField(required=False)
    stop = serializers.DateTimeField(required=False)


class ReservationSerializer(serializers.ModelSerializer):
    """A connector (or any connector of a station) held for one card until its expiry."""

    ocpp_id = serializers.CharField(source="station.ocpp_id", read_only=True)
    connector_id = serializers.IntegerField(
        source="connector.connector_id",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="The OCPP connector id; null: any connector of the station.",
    )
    id_token = UsedCardSerializer(read_only=True, allow_null=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Reservation
        fields = [
            "id",
            "station",
            "ocpp_id",
            "connector_id",
            "id_tag",
            "id_token",
            "parent_id_tag",
            "expiry",
            "status",
            "created_by",
            "created",
            "updated",
        ]
        read_only_fields = fields


# --- analytics ---------------------------------------------------------------------------------


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A query parameter naming a row of the caller's organizations (others: 'does not exist')."""

    def get_queryset(self):
        request = self.context.get("request")
        return self.queryset.visible_to(request.user if request else None)


class AnalyticsQuerySerializer(serializers.Serializer):
    """The query parameters of the analytics: buckets, range and which sessions."""

    group_by = serializers.ChoiceField(
        choices=GroupBy.CHOICES, default=GroupBy.DAY, help_text="The bucket of each row."
    )
    start_after = serializers.DateTimeField(
        required=False,
        help_text="Sessions that started at or after this moment. Default: 30 days before "
        "start_before.",
    )
    start_before = serializers.DateTimeField(
        required=False,
        help_text="Sessions that started before this moment. Default: the end of today.",
    )
    date_from = serializers.DateField(
        required=False, help_text="Sessions that started on or after this day (local)."
    )
    date_to = serializers.DateField(
        required=False, help_text="Sessions that started on or before this day (local)."
    )
    organization = VisibleRelatedField(queryset=Organization.objects.all(), required=False)
    site = VisibleRelatedField(queryset=Site.objects.all(), required=False)
    station = VisibleRelatedField(queryset=ChargingStation.objects.all(), required=False)


class AnalyticsRowSerializer(serializers.Serializer):
    """One bucket: its key (date, site or station; the others null) and its sessions' totals."""

    date = serializers.DateField(allow_null=True, help_text="The local day (group_by=day).")
    site = serializers.IntegerField(allow_null=True, help_text="group_by=site or station.")
    site_name = serializers.CharField(allow_null=True)
    station = serializers.IntegerField(allow_null=True, help_text="group_by=station.")
    ocpp_id = serializers.CharField(allow_null=True)
    sessions = serializers.IntegerField(help_text="How many completed sessions started.")
    energy_wh = serializers.IntegerField()
    duration_seconds = serializers.IntegerField(help_text="The sessions' durations added up.")
    average_duration_seconds = serializers.IntegerField(
        allow_null=True, help_text="Null when there are no sessions."
    )


# One answer per request, although it is the list action of its viewset.
@extend_schema_serializer(many=False)
class AnalyticsSerializer(serializers.Serializer):
    """The analytics answer: the range and time zone it covers, and one row per bucket."""

    group_by = serializers.ChoiceField(choices=GroupBy.CHOICES)
    time_zone = serializers.CharField(help_text="The zone of the days and the default range.")
    start_after = serializers.DateTimeField()
    start_before = serializers.DateTimeField()
    results = AnalyticsRowSerializer(many=True)
