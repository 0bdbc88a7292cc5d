"""Portal forms of the roaming app: our OCPI identity, a partner, connecting to a partner."""

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.portal import OrganizationModelForm
from roaming.models import RoamingPartner, RoamingProfile


def _upper(form, name: str) -> str:
    # OCPI spells country codes and party ids in capitals; a lower-case entry is the same party.
    return (form.cleaned_data.get(name) or "").strip().upper()


class RoamingProfileForm(forms.ModelForm):
    """How the organization appears to partners: its party and the roles it plays."""

    class Meta:
        model = RoamingProfile
        fields = ["country_code", "party_id", "name", "website", "cpo_enabled", "emsp_enabled"]
        help_texts = {
            "country_code": _("ISO 3166-1 alpha-2, e.g. DE."),
            "party_id": _("Three letters or digits, e.g. ABC (as in DE*ABC)."),
        }

    def clean_country_code(self):
        return _upper(self, "country_code")

    def clean_party_id(self):
        return _upper(self, "party_id")


class RoamingPartnerForm(OrganizationModelForm):
    """A partner: its party, role and the tariff published to it (one of the organization's)."""

    class Meta:
        model = RoamingPartner
        fields = ["name", "country_code", "party_id", "role", "tariff"]
        help_texts = {
            "country_code": _("The partner's country code, e.g. NL."),
            "party_id": _("The partner's party id, e.g. ABC."),
        }

    def clean_country_code(self):
        return _upper(self, "country_code")

    def clean_party_id(self):
        return _upper(self, "party_id")

    def clean(self):
        cleaned_data = super().clean()
        party = {name: cleaned_data.get(name) for name in ("country_code", "party_id", "role")}
        if all(party.values()):
            # The organization is not a form field, so the model's constraint is checked here.
            clash = RoamingPartner.objects.for_org(self.organization).filter(**party)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error(
                    "party_id",
                    _("The organization already has a %(role)s partner %(country)s*%(party)s.")
                    % {
                        "role": party["role"],
                        "country": party["country_code"],
                        "party": party["party_id"],
                    },
                )
        return cleaned_data


class ConnectForm(forms.Form):
    """What a partner gave us to register with it: its versions URL and a token A."""

    versions_url = forms.URLField(
        label=_("The partner's versions URL"),
        max_length=200,
        assume_scheme="https",
        help_text=_("Where the partner lists its OCPI versions, e.g. https://…/ocpi/versions."),
    )
    token = forms.CharField(
        label=_("Token A from the partner"),
        max_length=64,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Used once to register; the partner then gives us the token we keep."),
    )
