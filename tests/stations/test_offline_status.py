"""An offline station's connectors and status are shown as Not available, with the last report."""

import re
from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

from organizations.choices import Role
from stations.choices import ConnectionState, ConnectorStatus
from stations.models import Connector
from stations.selectors import (
    connector_shown_status,
    connector_status_counts,
    effective_status,
    shown_status,
    station_shown_status,
)
from tests.apiclients import client_for, member
from tests.factories import ChargingStationFactory
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 3, tzinfo=UTC)


def shown_badges(body: str, attribute: str) -> list[str]:
    """The status classes of the live status badges marked with `attribute`, in page order."""
    return re.findall(attribute + r'="\d+"[^>]*><span class="badge status-(\w+)"', body)


def render(source: str, **context) -> str:
    return Template("{% load portal %}" + source).render(Context(context))


def test_an_online_station_shows_what_it_reported():
    shown = shown_status(ConnectorStatus.CHARGING, NOON, online=True)
    assert (shown.status, shown.reported, shown.offline) == ("Charging", "Charging", False)


@pytest.mark.parametrize("reported", list(ConnectorStatus.values))
def test_an_offline_station_shows_every_status_as_not_available(reported):
    shown = shown_status(reported, NOON, online=False)
    assert shown.status == ConnectorStatus.UNAVAILABLE
    assert shown.reported == reported


def test_a_status_never_reported_is_unknown():
    assert shown_status("", None, online=True).status == ConnectorStatus.UNKNOWN


def test_effective_status_follows_the_connection_state():
    assert effective_status("Available", ConnectionState.ONLINE) == "Available"
    assert effective_status("Available", ConnectionState.OFFLINE) == "Unavailable"


def test_a_connector_of_an_offline_station_is_not_available(org):
    station = ChargingStationFactory(organization=org, connection_state=ConnectionState.OFFLINE)
    connector = station.connectors.first()
    connector.status = ConnectorStatus.AVAILABLE
    assert connector_shown_status(connector, station).status == ConnectorStatus.UNAVAILABLE
    station.connection_state = ConnectionState.ONLINE
    assert connector_shown_status(connector, station).status == ConnectorStatus.AVAILABLE


def test_the_station_status_of_an_offline_station_is_not_available(org):
    station = ChargingStationFactory(organization=org, status=ConnectorStatus.AVAILABLE)
    assert station_shown_status(station).status == ConnectorStatus.UNAVAILABLE


def test_status_counts_count_an_offline_stations_connectors_as_not_available(org, other_org):
    online = ChargingStationFactory(organization=org, connection_state=ConnectionState.ONLINE)
    offline = ChargingStationFactory(organization=org, connection_state=ConnectionState.OFFLINE)
    Connector.objects.filter(station__in=[online, offline]).update(status="Available")
    Connector.objects.filter(station=offline, connector_id=2).update(status="Faulted")
    ChargingStationFactory(organization=other_org, connection_state=ConnectionState.ONLINE)
    assert connector_status_counts(org) == {"Available": 2, "Unavailable": 2}


def test_the_badge_of_an_offline_connector_names_the_last_reported_status_and_time(org):
    station = ChargingStationFactory(organization=org, connection_state=ConnectionState.OFFLINE)
    connector = station.connectors.first()
    connector.status, connector.status_at = ConnectorStatus.AVAILABLE, timezone.now()
    html = render("{% connector_status connector station %}", connector=connector, station=station)
    assert 'data-status="Unavailable">Not available</span>' in html
    local = timezone.localtime(connector.status_at).strftime("%H:%M")
    assert f'<span class="status-detail">(last reported: Available, {local})</span>' in html
    live = f'data-live-connector="{connector.pk}" data-live-of="{station.pk}" data-online="0"'
    assert live in html
    assert 'data-reported="Available"' in html


def test_an_older_report_names_its_date_too(org):
    station = ChargingStationFactory(organization=org, connection_state=ConnectionState.OFFLINE)
    connector = station.connectors.first()
    connector.status, connector.status_at = ConnectorStatus.CHARGING, NOON
    html = render("{% connector_status connector station %}", connector=connector, station=station)
    assert "(last reported: Charging, 03/02/2026 " in html


def test_the_badge_of_an_online_connector_has_no_detail(org):
    station = ChargingStationFactory(organization=org, connection_state=ConnectionState.ONLINE)
    connector = station.connectors.first()
    connector.status, connector.status_at = ConnectorStatus.AVAILABLE, NOON
    html = render("{% connector_status connector station %}", connector=connector, station=station)
    assert 'data-status="Available">Available</span>' in html
    assert "status-detail" not in html
    assert 'data-online="1"' in html


@pytest.mark.parametrize(
    "path",
    ["stations/", "stations/{station}/", "sites/{site}/sheet/"],
    ids=["list", "station", "sheet"],
)
def test_pages_show_an_offline_stations_connectors_as_not_available(org, path):
    station = ChargingStationFactory(
        organization=org, connection_state=ConnectionState.OFFLINE, status="Available"
    )
    Connector.objects.filter(station=station).update(status="Available", status_at=NOON)
    url = org_url(org, path.format(station=station.pk, site=station.site_id))
    body = portal_client(org).get(url).content.decode()
    assert shown_badges(body, "data-live-connector") == ["unavailable", "unavailable"]
    assert body.count("(last reported: Available, ") >= 2


def test_the_station_page_shows_the_station_status_of_an_offline_station_as_not_available(org):
    station = ChargingStationFactory(
        organization=org, connection_state=ConnectionState.OFFLINE, status="Available"
    )
    body = portal_client(org).get(org_url(org, f"stations/{station.pk}/")).content.decode()
    live = f'data-live-station-status="{station.pk}" data-live-of="{station.pk}" data-online="0"'
    assert live in body


def test_pages_show_an_online_stations_connectors_as_reported(org):
    station = ChargingStationFactory(organization=org, connection_state=ConnectionState.ONLINE)
    Connector.objects.filter(station=station).update(status="Available", status_at=NOON)
    body = portal_client(org).get(org_url(org, "stations/")).content.decode()
    assert shown_badges(body, "data-live-connector") == ["available", "available"]
    assert "(last reported" not in body


def test_the_api_gives_each_connector_and_station_its_effective_status(org):
    client = client_for(member((org, Role.VIEWER)))
    online = ChargingStationFactory(
        organization=org, connection_state=ConnectionState.ONLINE, status="Available"
    )
    offline = ChargingStationFactory(organization=org, status="Available")
    Connector.objects.filter(station__in=[online, offline]).update(status="Available")
    for station, expected in ((online, "Available"), (offline, "Unavailable")):
        data = client.get(f"/api/v1/stations/{station.pk}/").data
        assert data["status"] == "Available"
        assert data["effective_status"] == expected
        assert {c["effective_status"] for c in data["connectors"]} == {expected}
        listed = client.get("/api/v1/connectors/", {"station": station.pk}).data["results"]
        assert {(c["status"], c["effective_status"]) for c in listed} == {("Available", expected)}


def test_the_api_lists_connectors_with_their_effective_status_in_few_queries(
    org, django_assert_max_num_queries
):
    client = client_for(member((org, Role.VIEWER)))
    for _ in range(4):
        ChargingStationFactory(organization=org)
    with django_assert_max_num_queries(8):
        client.get("/api/v1/connectors/")
    with django_assert_max_num_queries(12):
        client.get("/api/v1/stations/")


def test_the_station_list_filters_connectors_by_the_status_it_shows(org):
    online = ChargingStationFactory(organization=org, connection_state=ConnectionState.ONLINE)
    offline = ChargingStationFactory(organization=org)
    Connector.objects.filter(station__in=[online, offline]).update(status="Available")
    client = portal_client(org)

    def listed(status):
        response = client.get(org_url(org, "stations/"), {"status": status})
        return {station.pk for station in response.context["stations"]}

    assert listed("Available") == {online.pk}
    assert listed("Unavailable") == {offline.pk}
