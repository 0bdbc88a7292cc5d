"""Portal forms of availability: the report's filters and a maintenance window."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from availability.choices import Group, Period
from availability.models import MaintenanceRecord, MaintenanceWindow
from availability.selectors import RangeError, parse_day_or_month, resolve_range
from availability.services import ALLOWED_TYPES_LABEL, validate_attachments
from cards.forms import ZonedDateTimeField
from core.timezones import zone_of
from organizations.portal import OrganizationModelForm
from stations.models import ChargingStation, Site

DUE_BEFORE_PERFORMED = _("The next maintenance cannot be due before this one was done.")
BOTH_SCOPES = _("Choose a site or a station, not both: a station's window covers it alone.")
ENDS_BEFORE_START = _("The window must end after it starts.")


class ReportForm(forms.Form):
    """The report's filters, with the API's parameter names: a URL means the same in both."""

    period = forms.ChoiceField(
        label=_("Period"), choices=Period.choices, required=False, initial=Period.DAY
    )
    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month"}),
        help_text=_("Instead of from and to: one month."),
    )
    site = forms.ModelChoiceField(
        label=_("Site"), queryset=Site.objects.none(), required=False, empty_label=_("All sites")
    )
    station = forms.ModelChoiceField(
        label=_("Station"),
        queryset=ChargingStation.objects.none(),
        required=False,
        empty_label=_("All stations"),
    )
    # Only the CSV reads it (the page shows every level): its links set it, the bar hides it.
    group = forms.ChoiceField(
        label=_("Rows"),
        choices=Group.choices,
        required=False,
        initial=Group.STATION,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        # `from` is a Python keyword: these two are added by name.
        for name, label in (("from", _("From")), ("to", _("To"))):
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                # The browser's picker sends YYYY-MM-DD; YYYY-MM (a whole month) works too.
                widget=forms.DateInput(attrs={"type": "date"}),
            )
        self.order_fields(["period", "from", "to", "month", "site", "station"])
        self.fields["site"].queryset = Site.objects.for_org(organization).order_by("name")
        self.fields["station"].queryset = ChargingStation.objects.for_org(organization).order_by(
            "ocpp_id"
        )

    def clean(self):
        cleaned = super().clean()
        period = cleaned.get("period") or Period.DAY
        cleaned["period"] = period
        cleaned["group"] = cleaned.get("group") or Group.STATION
        bounds = {}
        for name, last in (("from", False), ("to", True)):
            text = cleaned.get(name) or ""
            try:
                bounds[name] = parse_day_or_month(text, last=last) if text else None
            except ValueError as error:
                self.add_error(name, str(error))
        month = cleaned.get("month") or ""
        if month:
            try:
                bounds = {
                    "from": parse_day_or_month(month[:7], last=False),
                    "to": parse_day_or_month(month[:7], last=True),
                }
            except ValueError as error:
                self.add_error("month", str(error))
        if self.errors:
            return cleaned
        try:
            cleaned["first"], cleaned["last"] = resolve_range(
                period, bounds.get("from"), bounds.get("to"), zone_of(self.organization)
            )
        except RangeError as error:
            self.add_error(error.field_name, error.message)
        return cleaned


class MaintenanceWindowForm(OrganizationModelForm):
    """Announce maintenance of the organization, a site or a station: the API's checks."""

    starts_at = ZonedDateTimeField(
        label=_("Starts"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = ZonedDateTimeField(
        label=_("Ends"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    class Meta:
        model = MaintenanceWindow
        fields = ["starts_at", "ends_at", "site", "station", "reason", "set_inoperative"]
        labels = {"site": _("Site"), "station": _("Station"), "reason": _("Reason")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = zone_of(self.organization)
        for name in ("starts_at", "ends_at"):
            self.fields[name].zone = zone
        self.fields["starts_at"].help_text = _("In the organization's time zone (%(zone)s).") % {
            "zone": zone
        }
        self.fields["site"].help_text = _(
            "A site, a station, or neither: then the window covers every station of the "
            "organization."
        )

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", ENDS_BEFORE_START)
        if cleaned.get("site") and cleaned.get("station"):
            self.add_error("station", BOTH_SCOPES)
        return cleaned


class MultipleFileInput(forms.ClearableFileInput):
    """A file input that takes several files at once."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several uploaded files (none when not required), each checked by FileField."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,application/pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(one, initial) for one in data]
        return [super().clean(data, initial)] if data else []


class MaintenanceRecordForm(OrganizationModelForm):
    """Record maintenance done to a station, with photos and documents."""

    performed_at = ZonedDateTimeField(
        label=_("Performed at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    attachments = MultipleFileField(
        label=_("Photos and documents"),
        required=False,
        help_text=_("%(types)s; several files at once.") % {"types": ALLOWED_TYPES_LABEL},
    )

    class Meta:
        model = MaintenanceRecord
        fields = [
            "station",
            "kind",
            "performed_at",
            "performed_by",
            "technician",
            "part_replaced",
            "notes",
            "next_due",
        ]
        labels = {"station": _("Station"), "kind": _("Kind"), "performed_by": _("Performed by")}
        help_texts = {"technician": _("An external contractor's name, if any.")}
        widgets = {
            "next_due": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = zone_of(self.organization)
        self.fields["performed_at"].zone = zone
        self.fields["performed_at"].help_text = _("In the organization's time zone (%(zone)s).") % {
            "zone": zone
        }
        # Only members of the organization: anybody else is a technician by name.
        self.fields["performed_by"].queryset = (
            get_user_model()
            .objects.filter(memberships__organization=self.organization)
            .order_by("username")
        )
        self.fields["station"].queryset = self.fields["station"].queryset.order_by("ocpp_id")

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        try:
            validate_attachments(files)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return files

    def clean(self):
        cleaned = super().clean()
        performed_at, next_due = cleaned.get("performed_at"), cleaned.get("next_due")
        performed_on = performed_at and performed_at.astimezone(zone_of(self.organization)).date()
        if performed_on and next_due and next_due < performed_on:
            self.add_error("next_due", DUE_BEFORE_PERFORMED)
        return cleaned
