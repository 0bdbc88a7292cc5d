"""Portal forms of alerting: the inbox filters, notes, rules, preferences, webhook endpoints."""

from datetime import timedelta

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from alerts.api.serializers import NOTE_MAX_LENGTH, SUBSCRIBABLE_EVENTS, scope_errors
from alerts.choices import RuleKind
from alerts.filtersets import AlertFilterSet
from alerts.models import AlertRule, NotificationPreference, WebhookEndpoint
from core.timezones import day_start, zone_of
from organizations.portal import OrganizationModelForm
from stations.models import ChargingStation, Site

# The inbox's filter bar, in order; the API's other filters still apply when a link has them.
SHOWN_FILTERS = ["state", "severity", "kind", "site", "station", "date_from", "date_to"]
FILTER_LABELS = {
    "state": _("State"),
    "severity": _("Severity"),
    "min_severity": _("Severity at least"),
    "kind": _("Condition"),
    "site": _("Site"),
    "station": _("Station"),
    "ocpp_id": _("OCPP identity"),
    "rule": _("Rule"),
    "opened_after": _("Opened at or after"),
    "opened_before": _("Opened before"),
    "date_from": _("Opened from"),
    "date_to": _("Opened until"),
}


class AlertInboxFilterSet(AlertFilterSet):
    """The API's alert filters over one organization, with days in its time zone."""

    # The page's organization is the URL's; a filter naming another would only mislead.
    organization = None
    date_from = django_filters.DateFilter(method="filter_date_from")
    date_to = django_filters.DateFilter(method="filter_date_to")

    class Meta(AlertFilterSet.Meta):
        fields = [
            *(name for name in AlertFilterSet.Meta.fields if name != "organization"),
            "date_from",
            "date_to",
        ]

    def __init__(self, data=None, queryset=None, *, request=None, organization):
        super().__init__(data, queryset, request=request)
        self.zone = zone_of(organization)
        self.filters["site"].queryset = Site.objects.for_org(organization)
        self.filters["station"].queryset = ChargingStation.objects.for_org(organization)
        self.filters["rule"].queryset = AlertRule.objects.for_org(organization)
        for name, label in FILTER_LABELS.items():
            self.filters[name].label = label
        for name in ("state", "severity", "min_severity", "kind", "site", "station", "rule"):
            self.filters[name].extra["empty_label"] = _("Any")
        for name in ("date_from", "date_to"):
            # ISO in the value whatever the language: the browser's date picker reads only that.
            self.filters[name].extra["widget"] = forms.DateInput(
                attrs={"type": "date"}, format="%Y-%m-%d"
            )

    def shown_fields(self):
        """The bound fields of the filter bar."""
        return [self.form[name] for name in SHOWN_FILTERS]

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(opened_at__gte=day_start(value, self.zone))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(opened_at__lt=day_start(value + timedelta(days=1), self.zone))


class AlertNoteForm(forms.Form):
    """An optional note for an alert's history."""

    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# The thresholds that mean something for each condition; the rest keep their defaults.
KIND_FIELDS = {
    RuleKind.STATION_OFFLINE: ["delay_minutes"],
    RuleKind.CONNECTOR_FAULTED: ["error_codes", "vendor_error_codes"],
    RuleKind.STATION_REJECTED: [],
    RuleKind.AUTHORIZATION_FAILURES: ["failure_count", "window_minutes"],
    RuleKind.SESSION_STUCK: ["delay_minutes", "max_session_hours"],
    RuleKind.START_FAILED: ["start_timeout_seconds"],
    RuleKind.SESSION_IMPLAUSIBLE: [],
    RuleKind.FIRMWARE_FAILED: [],
    RuleKind.DIAGNOSTICS_FAILED: [],
    RuleKind.SECURITY_EVENT: [],
    RuleKind.METER_SILENT: ["delay_minutes"],
    RuleKind.SITE_OVER_CAPACITY: ["delay_minutes"],
    RuleKind.CONFIGURATION_DRIFT: [],
}
# What "after (minutes)" means for the conditions that have it.
DELAY_HELP = {
    RuleKind.STATION_OFFLINE: _("How long a station must be offline before the alert opens."),
    RuleKind.SESSION_STUCK: _(
        "How long an active session may go without a meter value before the alert opens."
    ),
    RuleKind.METER_SILENT: _(
        "How long a charging connector's meter may stay silent before the alert opens."
    ),
    RuleKind.SITE_OVER_CAPACITY: _(
        "How long a site must draw more than its grid capacity before the alert opens; "
        "0 opens it at once."
    ),
}
# Where a rule's scope cannot be a single station.
SITE_SCOPED_KINDS = {RuleKind.SITE_OVER_CAPACITY}
COMMON_FIELDS = ["name", "severity", "enabled", "site", "station"]
ESCALATION_FIELDS = ["escalate_after_minutes", "escalate_to_role"]


class AlertRuleForm(OrganizationModelForm):
    """A rule of one condition (its kind is chosen first and stays): the fields that apply."""

    class Meta:
        model = AlertRule
        fields = [
            *COMMON_FIELDS,
            *sorted({name for names in KIND_FIELDS.values() for name in names}),
            *ESCALATION_FIELDS,
        ]

    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = RuleKind(kind)
        self.instance.kind = self.kind
        wanted = [*COMMON_FIELDS, *KIND_FIELDS[self.kind], *ESCALATION_FIELDS]
        if self.kind in SITE_SCOPED_KINDS:
            wanted.remove("station")
        for name in list(self.fields):
            if name not in wanted:
                del self.fields[name]
        self.order_fields(wanted)
        self.fields["site"].empty_label = _("Whole organization")
        self.fields["site"].help_text = _("Only this site's stations; empty: every station.")
        if "station" in self.fields:
            self.fields["station"].empty_label = _("Any station")
            self.fields["station"].help_text = _(
                "Only this station (then leave the site empty); its own rule wins over its "
                "site's and the organization's."
            )
        if "delay_minutes" in self.fields and self.kind in DELAY_HELP:
            self.fields["delay_minutes"].help_text = DELAY_HELP[self.kind]
        if not self.instance.pk:
            self.initial.setdefault("name", str(self.kind.label))

    def clean(self):
        cleaned = super().clean()
        errors = scope_errors(self.kind, cleaned.get("site"), cleaned.get("station"))
        for field, message in errors.items():
            self.add_error(field if field in self.fields else None, message)
        return cleaned


class NotificationPreferenceForm(OrganizationModelForm):
    """What a member wants to hear of the organization's alerts, by email."""

    class Meta:
        model = NotificationPreference
        fields = ["email_enabled", "min_severity", "digest_below", "notify_resolved", "sites"]
        widgets = {"sites": forms.CheckboxSelectMultiple}
        help_texts = {
            "min_severity": _("Less severe alerts are not mailed to you."),
            "sites": _("Only alerts of these sites; none ticked: every site."),
        }


class WebhookEndpointForm(OrganizationModelForm):
    """A URL that receives the organization's events, and which events."""

    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=SUBSCRIBABLE_EVENTS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event. A test message is always sent when asked for."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "min_severity", "enabled"]
        help_texts = {
            "url": _("An https URL that accepts a POST with a JSON body."),
            "min_severity": _("Alert events below this severity are not sent."),
        }
