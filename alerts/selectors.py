"""Reads of alerting for pages and the API: an organization's alerts, counts, open faults."""

from collections.abc import Iterable

from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from alerts.choices import LIVE_STATES
from alerts.models import Alert, AlertHistory
from stations.choices import ConnectorStatus
from stations.models import Connector

# Alerts a station's or site's page lists; the inbox has them all.
PLACE_ALERTS = 20


def alert_rows(organization):
    """The organization's alerts with what a row shows (station, connector, site, rule)."""
    return Alert.objects.for_org(organization).select_related(
        "station", "connector", "site", "rule"
    )


def live_first(alerts):
    """Alerts whose condition still holds first, then the newest."""
    rank = Case(
        When(state__in=LIVE_STATES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return alerts.annotate(live_rank=rank).order_by("live_rank", "-opened_at", "-id")


def alert_history(alert):
    """The steps of an alert's life, oldest first, with who took them."""
    return AlertHistory.objects.filter(alert=alert).select_related("actor").order_by("at", "id")


def open_alert_count(organization) -> int:
    """How many of the organization's alerts are open or acknowledged (one query)."""
    return Alert.objects.for_org(organization).live().count()


def with_open_alert_counts(memberships):
    """Memberships with their organization's open alerts as `open_alerts` (in the same query)."""
    live = (
        Alert.objects.filter(organization=OuterRef("organization_id"), state__in=LIVE_STATES)
        .order_by()
        .values("organization")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return memberships.annotate(open_alerts=Coalesce(Subquery(live), 0))


def open_faults(organization):
    """The organization's connectors that report Faulted now, with their station and site."""
    return (
        Connector.objects.for_org(organization)
        .filter(status=ConnectorStatus.FAULTED)
        .select_related("station", "station__site")
        .order_by("station__ocpp_id", "connector_id")
    )


def live_counts(organization_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Open alerts and faulted connectors of each organization: two queries for all of them."""
    ids = {pk for pk in organization_ids if pk}
    counts = {pk: {"open": 0, "faults": 0} for pk in ids}
    if not ids:
        return counts
    alerts = (
        Alert.objects.filter(organization_id__in=ids, state__in=LIVE_STATES)
        .values_list("organization_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for pk, n in alerts:
        counts[pk]["open"] = n
    faults = (
        Connector.objects.filter(station__organization_id__in=ids, status=ConnectorStatus.FAULTED)
        .values_list("station__organization_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for pk, n in faults:
        counts[pk]["faults"] = n
    return counts


def station_alerts(station, organization) -> dict:
    """The station's open alerts, for its page (a stations.pages part)."""
    alerts = (
        alert_rows(organization)
        .filter(station=station, state__in=LIVE_STATES)
        .order_by("-opened_at", "-id")
    )
    shown = list(alerts[:PLACE_ALERTS])
    # Counted only when the page is full: a station rarely has that many.
    count = alerts.count() if len(shown) == PLACE_ALERTS else len(shown)
    return {"station_alerts": shown, "station_alert_count": count}


def site_alerts(site, organization):
    """The alerts of a site and of its stations, live first."""
    # An alert about a station names the station's site too; the station may have moved since.
    return live_first(alert_rows(organization).filter(Q(site=site) | Q(station__site=site)))
