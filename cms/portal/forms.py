"""Forms of the portal itself, and the base form every tenant form builds on."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cms.tenancy import TenantQuerySet


class OrganizationModelForm(forms.ModelForm):
    """A model form whose related choices are narrowed to one organization's rows."""

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if isinstance(queryset, TenantQuerySet):
                # Another organization's row is then refused like one that does not exist.
                field.queryset = queryset.for_org(organization)


class PreferenceForm(forms.Form):
    """The user's settings."""

    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("As the browser says")), *settings.LANGUAGES],
        required=False,
    )
