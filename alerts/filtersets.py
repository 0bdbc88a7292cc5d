"""Query-string filters of the alerts API (and of the portal's alert inbox)."""

import django_filters
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext_lazy as _

from alerts.choices import LIVE_STATES, AlertState, DeliveryStatus, RuleKind, Severity
from alerts.models import Alert, AlertRule, WebhookDelivery, WebhookEndpoint
from core.api.filters import StrictBooleanFilter, UtcDateTimeFilter, visible
from core.ordering import Ordering
from organizations.models import Organization
from stations.models import ChargingStation, Site

# "live" is the inbox's default: open or acknowledged, the alerts whose condition still holds.
LIVE = "live"
STATE_CHOICES = [(LIVE, _("Open or acknowledged")), *AlertState.choices]


def _rank(field: str, values) -> Case:
    return Case(
        *(When(**{field: value}, then=Value(rank)) for rank, value in enumerate(values)),
        default=Value(len(values)),
        output_field=IntegerField(),
    )


# `?ordering=` of the inbox and of the API's /alerts/ alike: `live` puts alerts whose condition
# still holds first; severities sort by urgency, not by name.
ALERT_ORDERING = Ordering(
    {
        "live": Case(
            When(state__in=LIVE_STATES, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "kind": "kind",
        "severity": _rank("severity", Severity.values),
        "station": "station__ocpp_id",
        "connector": "connector__connector_id",
        "site": "site__name",
        "opened_at": "opened_at",
        "last_seen_at": "last_seen_at",
        "resolved_at": "resolved_at",
        "occurrences": "occurrences",
        "state": "state",
    },
    default=("live", "-opened_at"),
)


class AlertFilterSet(django_filters.FilterSet):
    """Alerts by state, severity, condition, place and opening time."""

    state = django_filters.ChoiceFilter(
        choices=STATE_CHOICES, method="filter_state", label="State; `live`: open or acknowledged"
    )
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    min_severity = django_filters.ChoiceFilter(
        choices=Severity.choices, method="filter_min_severity", label="This severity or worse"
    )
    kind = django_filters.ChoiceFilter(choices=RuleKind.choices, label="Condition")
    organization = django_filters.ModelChoiceFilter(queryset=visible(Organization))
    site = django_filters.ModelChoiceFilter(queryset=visible(Site))
    station = django_filters.ModelChoiceFilter(queryset=visible(ChargingStation))
    ocpp_id = django_filters.CharFilter(field_name="station__ocpp_id")
    rule = django_filters.ModelChoiceFilter(queryset=visible(AlertRule))
    # A half-open interval, so consecutive windows neither overlap nor leave a gap.
    opened_after = UtcDateTimeFilter(
        field_name="opened_at", lookup_expr="gte", label="Opened at or after"
    )
    opened_before = UtcDateTimeFilter(
        field_name="opened_at", lookup_expr="lt", label="Opened before"
    )

    class Meta:
        model = Alert
        fields = [
            "state",
            "severity",
            "min_severity",
            "kind",
            "organization",
            "site",
            "station",
            "ocpp_id",
            "rule",
            "opened_after",
            "opened_before",
        ]

    def filter_state(self, queryset, name, value):
        if value == LIVE:
            return queryset.filter(state__in=LIVE_STATES)
        return queryset.filter(state=value)

    def filter_min_severity(self, queryset, name, value):
        return queryset.filter(severity__in=Severity.at_least(value))


class AlertRuleFilterSet(django_filters.FilterSet):
    """Alert rules by condition, severity, scope and whether they are switched on."""

    kind = django_filters.ChoiceFilter(choices=RuleKind.choices, label="Condition")
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    enabled = StrictBooleanFilter()
    site = django_filters.ModelChoiceFilter(queryset=visible(Site))
    station = django_filters.ModelChoiceFilter(queryset=visible(ChargingStation))

    class Meta:
        model = AlertRule
        fields = ["kind", "severity", "enabled", "site", "station"]


class WebhookEndpointFilterSet(django_filters.FilterSet):
    """Webhook endpoints by whether they are switched on."""

    enabled = StrictBooleanFilter()

    class Meta:
        model = WebhookEndpoint
        fields = ["enabled"]


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    """Webhook deliveries by endpoint, event type, status and creation time."""

    endpoint = django_filters.ModelChoiceFilter(queryset=visible(WebhookEndpoint))
    event_type = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    created_after = UtcDateTimeFilter(
        field_name="created", lookup_expr="gte", label="Created at or after"
    )
    created_before = UtcDateTimeFilter(
        field_name="created", lookup_expr="lt", label="Created before"
    )

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "event_type", "status", "created_after", "created_before"]
