"""The dashboard's figures and the station panel follow the stations live (htmx fragments)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from organizations.choices import Role
from sessions_app.choices import SessionState
from stations.choices import ConnectionState
from stations.models import Connector
from tests.factories import ChargingSessionFactory, ChargingStationFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ROLES)
def test_every_member_gets_the_key_figures(org, role):
    response = portal_client(org, role).get(org_url(org, "key-figures/"))
    assert response.status_code == 200
    assert 'id="key-figures"' in response.content.decode()


def test_another_organizations_key_figures_are_404(org, other_org):
    response = portal_client(org, Role.OWNER).get(org_url(other_org, "key-figures/"))
    assert response.status_code == 404


def test_the_key_figures_count_only_the_organizations_own(org, other_org):
    mine = ChargingStationFactory(organization=org, connection_state=ConnectionState.ONLINE)
    ChargingStationFactory(organization=org)
    now = timezone.now()
    ChargingSessionFactory(station=mine, start=now, energy_wh=1_500, state=SessionState.ACTIVE)
    theirs = ChargingStationFactory(organization=other_org, connection_state=ConnectionState.ONLINE)
    ChargingSessionFactory(station=theirs, start=now, energy_wh=9_000, state=SessionState.ACTIVE)
    context = portal_client(org).get(org_url(org, "key-figures/")).context
    figures = {
        key: context[key]
        for key in ("stations_online", "stations_offline", "running_count", "energy_today_wh")
    }
    assert figures == {
        "stations_online": 1,
        "stations_offline": 1,
        "running_count": 1,
        "energy_today_wh": 1_500,
    }


def test_the_key_figures_refresh_on_live_figures_and_poll_while_sessions_run(org):
    station = ChargingStationFactory(organization=org)
    body = portal_client(org).get(org_url(org, "key-figures/")).content.decode()
    assert 'hx-trigger="live-figures from:body"' in body
    ChargingSessionFactory(station=station, start=timezone.now(), state=SessionState.ACTIVE)
    body = portal_client(org).get(org_url(org, "key-figures/")).content.decode()
    assert 'hx-trigger="live-figures from:body, every 30s"' in body


def test_the_dashboard_renders_the_same_key_figures_region(org):
    body = portal_client(org).get(org_url(org)).content.decode()
    assert f'hx-get="{org_url(org, "key-figures/")}"' in body
    assert 'id="connector-statuses"' in body
    assert 'hx-trigger="live-figures from:body"' in body


def test_the_key_figures_energy_counts_sessions_of_today_and_this_month(org):
    station = ChargingStationFactory(organization=org)
    now = timezone.now()
    done = SessionState.COMPLETED
    ChargingSessionFactory(station=station, start=now, energy_wh=2_000, state=done)
    ChargingSessionFactory(
        station=station, start=now - timedelta(days=400), energy_wh=7_000, state=done
    )
    context = portal_client(org).get(org_url(org, "key-figures/")).context
    assert context["energy_today_wh"] == 2_000
    assert context["energy_month_wh"] == 2_000


def test_the_key_figures_keep_a_small_query_budget(org, django_assert_max_num_queries):
    for _ in range(3):
        ChargingStationFactory(organization=org)
    client = portal_client(org)
    with django_assert_max_num_queries(10):
        client.get(org_url(org, "key-figures/"))


def test_the_dashboard_counts_an_offline_stations_connectors_as_not_available(org):
    online = ChargingStationFactory(organization=org, connection_state=ConnectionState.ONLINE)
    offline = ChargingStationFactory(organization=org)
    Connector.objects.filter(station__in=[online, offline]).update(status="Available")
    context = portal_client(org).get(org_url(org, "station-figures/")).context
    counts = {status: n for status, _, n in context["connector_statuses"] if n}
    assert counts == {"Available": 2, "Unavailable": 2}


def test_the_station_panel_fetches_its_buttons_again_when_its_station_connects(org):
    station = ChargingStationFactory(organization=org)
    body = portal_client(org, Role.OPERATOR).get(org_url(org, f"stations/{station.pk}/"))
    html = body.content.decode()
    assert 'id="station-command-buttons"' in html
    assert f"live-connection[detail.station=={station.pk}] from:body" in html
    assert 'hx-disinherit="*"' in html


def test_the_panels_get_returns_the_buttons_as_they_are_now(org):
    station = ChargingStationFactory(organization=org)
    client = portal_client(org, Role.OPERATOR)
    url = org_url(org, f"stations/{station.pk}/commands/")
    offline = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'id="station-command-buttons"' in offline
    assert "The station is offline." in offline
    station.connection_state = ConnectionState.ONLINE
    station.save(update_fields=["connection_state"])
    online = client.get(url, headers={"HX-Request": "true"}).content.decode()
    restart = re.search(
        r'<button type="submit" name="command" value="restart_station"[^>]*>', online
    )
    assert restart is not None
    assert "disabled" not in restart.group(0)


def test_the_site_list_and_overview_refresh_their_counts_on_live_figures(org):
    station = ChargingStationFactory(organization=org)
    client = portal_client(org)
    site_list = client.get(org_url(org, "sites/")).content.decode()
    assert 'id="site-list-live"' in site_list
    assert 'hx-select="#site-list-live"' in site_list
    overview = client.get(org_url(org, f"sites/{station.site_id}/")).content.decode()
    assert 'hx-select="#site-overview-live"' in overview
    assert 'hx-trigger="live-figures from:body"' in overview
