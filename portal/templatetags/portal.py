"""Template helpers of the portal: status badges, energy and durations, live labels."""

from datetime import timedelta

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html, json_script
from django.utils.translation import gettext as _

from alerts.selectors import open_alert_count as count_open_alerts
from stations.choices import ConnectionState, ConnectorStatus

register = template.Library()

STATUS_LABELS = dict(ConnectorStatus.choices)
CONNECTION_LABELS = dict(ConnectionState.choices)


@register.simple_tag
def status_badge(status: str):
    """A connector or station status as a coloured, labelled badge."""
    status = status or ConnectorStatus.UNKNOWN
    label = STATUS_LABELS.get(status, status)
    return format_html(
        '<span class="badge status-{}" data-status="{}">{}</span>', status.lower(), status, label
    )


@register.simple_tag
def connection_badge(state: str):
    """A station's connection state as a badge."""
    return format_html(
        '<span class="badge conn-{}" data-state="{}">{}</span>',
        state,
        state,
        CONNECTION_LABELS.get(state, state),
    )


@register.filter
def kwh(wh) -> str:
    """Integer Wh as kWh with two decimals, in the active language's number format."""
    if wh is None or wh == "":
        return "–"
    return f"{number_format(int(wh) / 1000, 2, use_l10n=True)} kWh"


@register.filter
def hours_minutes(value) -> str:
    """A duration (timedelta or seconds) as h:mm."""
    if value is None or value == "":
        return "–"
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours}:{rest // 60:02d} h"


@register.simple_tag
def open_alert_count(memberships, organization) -> int:
    """The organization's open or acknowledged alerts, from the context's `memberships`."""
    for membership in memberships or ():
        if membership.organization_id == organization.pk:
            return getattr(membership, "open_alerts", 0)
    # Not among the user's memberships (a page rendered without the context processor).
    return count_open_alerts(organization)


@register.simple_tag
def live_labels():
    """The translated labels the live-update script puts on badges, as a JSON script tag."""
    return json_script(
        {
            "status": {k: str(v) for k, v in STATUS_LABELS.items()},
            "connection": {k: str(v) for k, v in CONNECTION_LABELS.items()},
            "updated": _("Updated live"),
        },
        "live-labels",
    )
