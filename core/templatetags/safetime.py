"""Overflow-safe `date` and `time` filters, installed as builtins over Django's own."""

from datetime import datetime

from django import template
from django.template import defaultfilters
from django.utils import timezone

register = template.Library()


def safe_localtime(value):
    """The value in the current time zone; a moment no local calendar can hold stays in UTC."""
    if not isinstance(value, datetime) or timezone.is_naive(value):
        return value
    try:
        return timezone.localtime(value)
    except OverflowError:
        # 9999-12-31T23:00Z in Europe/Berlin is year 10000: a stored implausible moment must
        # never make a page fail, so it is shown as it is stored.
        return value


# Django's filters convert with `expects_localtime`, before the filter runs and outside any
# error handling; these convert themselves, in the one place that cannot overflow.
@register.filter(is_safe=False)
def date(value, arg=None):
    """Format a date or datetime in the current time zone, like Django's `date`."""
    return defaultfilters.date(safe_localtime(value), arg)


@register.filter(is_safe=False)
def time(value, arg=None):
    """Format a time or datetime in the current time zone, like Django's `time`."""
    return defaultfilters.time(safe_localtime(value), arg)
