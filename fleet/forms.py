"""Portal forms of fleet campaigns."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fleet import services
from fleet.models import CAMPAIGN_SETTINGS, Campaign
from organizations.portal import OrganizationModelForm

SAME_WINDOW_ENDS = _("The window opens and closes at the same time: leave both empty for all day.")
HALF_WINDOW = _("Give both ends of the window, or neither.")


def window_errors(start, end) -> dict:
    """Field errors of a daily window (both ends or neither, not equal)."""
    if (start is None) != (end is None):
        return {"window_end" if start is not None else "window_start": [HALF_WINDOW]}
    if start is not None and start == end:
        return {"window_end": [SAME_WINDOW_ENDS]}
    return {}


class CampaignForm(OrganizationModelForm):
    """A draft campaign: the image, the targets, the window and the rollout's pace."""

    class Meta:
        model = Campaign
        fields = [
            "name",
            "image",
            *CAMPAIGN_SETTINGS,
        ]
        widgets = {
            "target_sites": forms.CheckboxSelectMultiple,
            "window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "target_sites": _("None chosen: every site."),
            "target_stations": _("None chosen: every station the other criteria select."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_stations"].queryset = self.fields["target_stations"].queryset.order_by(
            "ocpp_id"
        )
        self.fields["target_stations"].widget.attrs["size"] = 8

    def clean_target_filter(self):
        text = self.cleaned_data.get("target_filter", "").strip().lstrip("?")
        errors = services.filter_errors(self.organization, text)
        if errors:
            raise forms.ValidationError(errors)
        return text

    def clean(self):
        cleaned = super().clean()
        for name, errors in window_errors(
            cleaned.get("window_start"), cleaned.get("window_end")
        ).items():
            for error in errors:
                self.add_error(name, error)
        return cleaned
