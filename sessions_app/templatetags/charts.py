"""`{% chart chart %}`: one core.charts.Chart as a figure, the same on every page that has one."""

from django import template
from django.utils import formats

register = template.Library()


@register.inclusion_tag("sessions_app/_chart.html")
def chart(chart):
    """The chart's figure: title, unit, SVG, legend, summary and data table."""
    return {"chart": chart}


@register.filter
def percent(ratio) -> str:
    """A ratio (0 to 1) as a percentage with one decimal, in the active language's format."""
    if ratio is None or ratio == "":
        return "–"
    return f"{formats.number_format(round(float(ratio) * 100, 1), 1, use_l10n=True)} %"
