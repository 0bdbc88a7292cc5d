"""Template helpers of the portal: status badges, energy and durations, live labels."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, json_script
from django.utils.translation import gettext as _

from alerts.selectors import open_alert_count as count_open_alerts
from stations.choices import ConnectionState, ConnectorStatus
from stations.selectors import ShownStatus, connector_shown_status, station_shown_status

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
def connector_status(connector, station=None):
    """A connector's shown status, live: Not available while its station is offline."""
    station = station if station is not None else connector.station
    shown = connector_shown_status(connector, station)
    return _live_status(shown, "data-live-connector", connector.pk, station.pk)


@register.simple_tag
def station_status(station):
    """The station's own status, live: Not available while it is offline."""
    return _live_status(
        station_shown_status(station), "data-live-station-status", station.pk, station.pk
    )


def _live_status(shown: ShownStatus, live_attribute: str, pk: int, station_pk: int):
    """The badge of a shown status with its last report as a detail, in live.js's markup."""
    # live.js re-applies the same rule from these attributes when the station connects or
    # leaves, or reports a new status (see stations.selectors.shown_status).
    return format_html(
        '<span class="live-status" {}="{}" data-live-of="{}" data-online="{}" data-reported="{}"'
        ' data-reported-at="{}">{}{}</span>',
        live_attribute,
        pk,
        station_pk,
        "0" if shown.offline else "1",
        shown.reported,
        shown.reported_at.isoformat() if shown.reported_at else "",
        status_badge(shown.status),
        status_detail(shown),
    )


def status_detail(shown: ShownStatus):
    """What an offline station last reported, e.g. "(last reported: Available, 12:03)"."""
    if not shown.offline or shown.reported in (shown.status, ConnectorStatus.UNKNOWN):
        return ""
    status = STATUS_LABELS.get(shown.reported, shown.reported)
    if shown.reported_at is None:
        text = _("last reported: %(status)s") % {"status": status}
    else:
        text = _("last reported: %(status)s, %(time)s") % {
            "status": status,
            "time": reported_time(shown.reported_at),
        }
    return format_html(' <span class="status-detail">({})</span>', text)


def reported_time(moment) -> str:
    """The time of a report: only the time when it was today, else date and time."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return date_format(local, "H:i")
    return date_format(local, "SHORT_DATETIME_FORMAT")


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
            # The detail of an offline station's status; live.js fills in both.
            "lastReported": _("last reported: %(status)s, %(time)s"),
            "timeZone": timezone.get_current_timezone_name(),
        },
        "live-labels",
    )
