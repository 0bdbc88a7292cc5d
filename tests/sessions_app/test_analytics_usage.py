"""Analytics: usage per station (utilization, sessions per day, energy) and its uptime."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection as connection_of_default
from django.test.utils import CaptureQueriesContext

from availability.choices import Period
from availability.selectors import availability_report
from organizations.choices import Role
from stations.models import ChargingStation
from tests.availability.helpers import connection, status
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    SiteFactory,
)
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# Sunday 10 May 2026, noon in Berlin: a 7-day period is 4 May 00:00 to now, 6.5 days.
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=BERLIN)
PERIOD_HOURS = 6.5 * 24


def local(day, hour, minute=0):
    return datetime(2026, 5, day, hour, minute, tzinfo=BERLIN)


def completed(station, start, hours, energy_wh=1000, **fields):
    return ChargingSessionFactory(
        station=station,
        start=start,
        stop=start + timedelta(hours=hours),
        energy_wh=energy_wh,
        state="completed",
        **fields,
    )


def usage(client, org, path="analytics/", days=7):
    response = client.get(org_url(org, path), {"days": days})
    assert response.status_code == 200, response.content[:500]
    return {row["station_id"]: row for row in response.context["usage"]}


@pytest.fixture
def viewer(org):
    return portal_client(org, Role.VIEWER)


@pytest.fixture
def one_connector(org):
    return ChargingStationFactory(organization=org, connectors=1)


@time_machine.travel(NOW, tick=False)
def test_utilization_is_the_share_of_the_period_sessions_occupied(org, one_connector, viewer):
    completed(one_connector, local(5, 10), hours=2)
    completed(one_connector, local(6, 10), hours=3)
    # Began before the period: only its hour inside it counts.
    completed(one_connector, local(3, 23), hours=2)
    # Neither counts: one still runs, the other failed.
    ChargingSessionFactory(station=one_connector, start=local(7, 9))
    ChargingSessionFactory(
        station=one_connector, start=local(7, 9, 5), stop=local(7, 10), state="failed"
    )
    row = usage(viewer, org)[one_connector.pk]
    assert row["utilization"] == pytest.approx(6 / PERIOD_HOURS)


@time_machine.travel(NOW, tick=False)
def test_a_session_stopped_before_it_started_occupies_nothing(org, one_connector, viewer):
    completed(one_connector, local(5, 10), hours=2)
    # A station whose clock jumped back: its stop lies three hours before its start.
    completed(one_connector, local(6, 10), hours=-3)
    row = usage(viewer, org)[one_connector.pk]
    assert row["utilization"] == pytest.approx(2 / PERIOD_HOURS)


@time_machine.travel(NOW, tick=False)
def test_utilization_shares_the_time_among_the_stations_connectors(org, viewer):
    two = ChargingStationFactory(organization=org, connectors=2)
    completed(two, local(5, 10), hours=4)
    assert usage(viewer, org)[two.pk]["utilization"] == pytest.approx(4 / (2 * PERIOD_HOURS))


@time_machine.travel(NOW, tick=False)
def test_sessions_per_day_and_energy_count_sessions_started_in_the_period(
    org, one_connector, viewer
):
    completed(one_connector, local(5, 10), hours=1, energy_wh=10_000)
    completed(one_connector, local(9, 18), hours=1, energy_wh=5_000)
    completed(one_connector, local(3, 23), hours=2, energy_wh=99_999)
    row = usage(viewer, org)[one_connector.pk]
    assert (row["sessions"], row["energy_wh"]) == (2, 15_000)
    assert row["sessions_per_day"] == pytest.approx(2 / 7)


@time_machine.travel(NOW, tick=False)
def test_a_station_without_sessions_has_a_row_of_zeros(org, one_connector, viewer):
    row = usage(viewer, org)[one_connector.pk]
    assert (row["sessions"], row["energy_wh"], row["utilization"]) == (0, 0, 0.0)


@time_machine.travel(NOW, tick=False)
def test_the_uptime_is_the_availability_reports(org, viewer):
    station = ChargingStationFactory(organization=org, connectors=2)
    connection(station, "online", local(1, 0))
    status(station, 1, "Available", local(1, 0))
    status(station, 2, "Available", local(1, 0))
    status(station, 2, "Faulted", local(6, 6))
    expected = availability_report(
        ChargingStation.objects.filter(pk=station.pk),
        period=Period.DAY,
        first=date(2026, 5, 4),
        last=date(2026, 5, 10),
        zone=BERLIN,
    ).overall.total.tally.uptime
    assert 0 < expected < 1
    response = portal_client(org, Role.VIEWER).get(org_url(org, "analytics/"), {"days": 7})
    assert response.context["usage"][0]["uptime"] == pytest.approx(expected)
    assert 'data-testid="uptime"' in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_usage_table_lists_only_the_organizations_stations(org, other_org, viewer):
    mine = ChargingStationFactory(organization=org)
    theirs = ChargingStationFactory(organization=other_org)
    completed(theirs, local(5, 10), hours=1)
    rows = usage(viewer, org)
    assert set(rows) == {mine.pk}


@time_machine.travel(NOW, tick=False)
def test_site_usage_lists_the_sites_stations_only(org, viewer):
    site = SiteFactory(organization=org)
    here = ChargingStationFactory(organization=org, site=site)
    ChargingStationFactory(organization=org)
    assert set(usage(viewer, org, f"sites/{site.pk}/analytics/")) == {here.pk}


@time_machine.travel(NOW, tick=False)
def test_site_analytics_leave_out_cards_outside_the_sites_access_groups(org, viewer):
    site = SiteFactory(organization=org)
    station = ChargingStationFactory(organization=org, site=site, connectors=1)
    group = AccessGroupFactory(organization=org)
    site.access_groups.add(group)
    member = IdTokenFactory(organization=org, access_groups=[group])
    outsider_card = IdTokenFactory(organization=org)
    completed(station, local(5, 10), hours=1, energy_wh=4_000, id_token=member)
    completed(station, local(6, 10), hours=1, energy_wh=6_000, id_token=outsider_card)
    completed(station, local(7, 10), hours=1, energy_wh=1_000, auth_method="roaming")
    site_page = viewer.get(org_url(org, f"sites/{site.pk}/analytics/"), {"days": 7})
    assert (site_page.context["total_sessions"], site_page.context["total_energy_wh"]) == (
        2,
        5_000,
    )
    assert site_page.context["usage"][0]["sessions"] == 2
    assert "Sessions of cards outside such a group are not shown." in site_page.content.decode()
    # The organization's page counts every card.
    assert usage(viewer, org)[station.pk]["sessions"] == 3


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_usage_table(org, one_connector, role):
    body = portal_client(org, role).get(org_url(org, "analytics/")).content.decode()
    assert "Usage per station" in body


def test_an_outsider_gets_404_for_the_usage(org, other_org, one_connector):
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.get(org_url(org, "analytics/")).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_usage_reads_in_the_same_queries_for_one_station_or_many(org, viewer):
    def count_queries():
        with CaptureQueriesContext(connection_of_default) as captured:
            usage(viewer, org)
        return len(captured.captured_queries)

    station = ChargingStationFactory(organization=org)
    completed(station, local(5, 10), hours=1)
    few = count_queries()
    for _ in range(5):
        completed(ChargingStationFactory(organization=org), local(6, 10), hours=1)
    assert count_queries() == few
    # The page's own six, the usage's sessions and stations, the availability report's seven.
    assert few <= 15
