"""Filters shared by every app's filtersets."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _


def visible(model):
    """A queryset callable for a filter: rows of `model` in the user's organizations only."""

    def rows(request):
        return model.objects.visible_to(request.user if request else None)

    return rows


class StrictBooleanField(forms.NullBooleanField):
    """true or false (1 or 0); anything else is an error, not silently no filter at all."""

    # The raw text: NullBooleanSelect would turn every unknown value into "no filter".
    widget = forms.TextInput
    default_error_messages = {"invalid": _("Use true or false.")}
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.VALUES[str(value).lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter that rejects a value it does not understand (django-filter ignores it)."""

    field_class = StrictBooleanField
