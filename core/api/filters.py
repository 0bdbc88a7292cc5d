"""Filters shared by every app's filtersets."""

from datetime import UTC

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField


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


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, converted to UTC before any query sees it."""

    # Python takes offsets up to ±23:59, PostgreSQL only up to ±15:59; and a time near year 1
    # with a negative offset has no UTC form at all. Both are a 400, not a database error.
    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(_("Out of range."), code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """A time filter that compares in UTC (see UtcDateTimeField)."""

    field_class = UtcDateTimeField
