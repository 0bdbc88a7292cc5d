"""Reads of stations the pages and the API share: what status a connector is shown with."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from stations.choices import ConnectionState, ConnectorStatus
from stations.models import ChargingStation, Connector

# What an offline station's connectors and the station itself are shown as: nobody can
# charge there now, whatever it last reported (the seed sheet's "Not available").
OFFLINE_STATUS = ConnectorStatus.UNAVAILABLE


@dataclass(frozen=True)
class ShownStatus:
    """The status a connector or station is shown with, and what it last reported."""

    status: str
    reported: str
    reported_at: datetime | None
    offline: bool


def shown_status(reported: str, reported_at: datetime | None, online: bool) -> ShownStatus:
    """The one rule: an offline station's statuses are shown as not available."""
    reported = reported or ConnectorStatus.UNKNOWN
    return ShownStatus(
        status=reported if online else OFFLINE_STATUS,
        reported=reported,
        reported_at=reported_at,
        offline=not online,
    )


def connector_shown_status(connector: Connector, station: ChargingStation) -> ShownStatus:
    """A connector's shown status; `station` is its station (passed to spare a query)."""
    return shown_status(connector.status, connector.status_at, station.is_online)


def station_shown_status(station: ChargingStation) -> ShownStatus:
    """The station's own status (connector 0) as shown."""
    return shown_status(station.status, station.status_at, station.is_online)


def effective_status(status: str, connection_state: str) -> str:
    """The shown status from a status and a connection state (for the API and counts)."""
    return shown_status(status, None, connection_state == ConnectionState.ONLINE).status


def shown_status_q(status: str) -> Q:
    """Connectors whose shown status is `status` (the rule of `shown_status`, in SQL)."""
    online = Q(station__connection_state=ConnectionState.ONLINE)
    if status == OFFLINE_STATUS:
        return ~online | Q(status=status)
    return online & Q(status=status)


def connector_status_counts(organization) -> dict[str, int]:
    """The organization's connectors counted by shown status, in one query."""
    rows = (
        Connector.objects.for_org(organization)
        .values_list("status", "station__connection_state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[str, int] = {}
    for status, state, n in rows:
        shown = effective_status(status, state)
        counts[shown] = counts.get(shown, 0) + n
    return counts
