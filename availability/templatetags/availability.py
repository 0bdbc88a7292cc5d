"""Template filters of the availability pages."""

from datetime import timedelta

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def percent(value) -> str:
    """A share from 0 to 1 as a percentage with one decimal; – when there is none."""
    if value is None or value == "":
        return "–"
    # number_format cuts digits off; 2/3 must read 66.7, not 66.6.
    return f"{formats.number_format(round(float(value) * 100, 1), 1, use_l10n=True)} %"


@register.filter
def hours(seconds) -> str:
    """Whole seconds as hours with one decimal (a DST day is 23.0 or 25.0)."""
    if seconds is None or seconds == "":
        return "–"
    value = round(timedelta(seconds=int(seconds)) / timedelta(hours=1), 1)
    return formats.number_format(value, 1, use_l10n=True)
