"""Portal form of a configuration baseline: its scope and its settings as `key = value` lines."""

from django import forms
from django.utils.translation import gettext_lazy as _

from baselines.models import ConfigurationBaseline
from baselines.notation import NotationError, parse_settings, settings_text
from organizations.portal import OrganizationModelForm

SETTINGS_HELP = _(
    "One setting per line, “name = value”. An OCPP 1.6 key is its name "
    "(HeartbeatInterval = 300); an OCPP 2.0.1 variable is Component/Variable "
    "(OCPPCommCtrlr/HeartbeatInterval = 300), with optional [instance] after either, @EVSE or "
    "@EVSE.connector after the component and :Target (or MinSet, MaxSet) at the end. "
    "Lines starting with # are comments."
)


class BaselineForm(OrganizationModelForm):
    """A baseline's name, vendor and model, choices and settings."""

    settings = forms.CharField(
        label=_("Settings"),
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text=SETTINGS_HELP,
    )

    class Meta:
        model = ConfigurationBaseline
        fields = ["name", "vendor", "model", "apply_at_first_boot", "detect_drift"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.is_bound:
            self.initial["settings"] = settings_text(self.instance.settings.all())

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = ConfigurationBaseline.objects.for_org(self.organization).filter(name__iexact=name)
        if self.instance.pk is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("A baseline of this name exists already."))
        return name

    def clean_settings(self):
        try:
            parsed = parse_settings(self.cleaned_data["settings"])
        except NotationError as error:
            raise forms.ValidationError(error.errors) from None
        if not parsed:
            raise forms.ValidationError(_("Give at least one setting."))
        self.parsed_settings = parsed
        return self.cleaned_data["settings"]
