"""Serializers of what stations report about themselves: events, monitors, customer data."""

from rest_framework import serializers

from stations.models import MonitorType, StationEvent, VariableMonitor


class StationEventSerializer(serializers.ModelSerializer):
    """One event: a NotifyEvent entry (component, variable, value) or a security event (type)."""

    class Meta:
        model = StationEvent
        fields = [
            "id",
            "kind",
            "timestamp",
            "received_at",
            "event_id",
            "trigger",
            "cause",
            "actual_value",
            "tech_code",
            "tech_info",
            "cleared",
            "transaction_id",
            "variable_monitoring_id",
            "event_notification_type",
            "component",
            "component_instance",
            "evse_number",
            "connector_number",
            "variable",
            "variable_instance",
            "severity",
            "type",
            "critical",
        ]
        read_only_fields = fields


class VariableMonitorSerializer(serializers.ModelSerializer):
    """A monitor the station has on a variable, as set through the platform or reported."""

    # Named apart from the other APIs' `type` fields, whose choices differ (schema enum names).
    monitor_type = serializers.ChoiceField(
        source="type", choices=MonitorType.choices, read_only=True
    )

    class Meta:
        model = VariableMonitor
        fields = [
            "monitor_id",
            "component",
            "component_instance",
            "evse_number",
            "connector_number",
            "variable",
            "variable_instance",
            "transaction",
            "monitor_type",
            "value",
            "severity",
            "status",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerInformationSerializer(serializers.Serializer):
    """What a station reported for one customer information request, its parts joined."""

    request_id = serializers.IntegerField()
    parts = serializers.IntegerField(help_text="Parts received so far.")
    complete = serializers.BooleanField(help_text="The last part has arrived.")
    data = serializers.CharField()
