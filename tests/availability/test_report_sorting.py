"""The availability report sorts siblings by a column; its CSV follows the same order."""

import csv
import io

import pytest

from tests.availability.helpers import connection, status, utc
from tests.factories import ChargingStationFactory, SiteFactory
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

MAY_4 = {"from": "2026-05-04", "to": "2026-05-04"}


@pytest.fixture
def stations(org):
    """One site; CS-A faulted from 06:00 UTC on connector 2, CS-B available all day."""
    site = SiteFactory(organization=org, name="Depot")
    made = {}
    for ocpp_id in ("CS-A", "CS-B"):
        station = ChargingStationFactory(organization=org, site=site, ocpp_id=ocpp_id)
        connection(station, "online", utc(2026, 5, 1))
        status(station, 1, "Available", utc(2026, 5, 1))
        status(station, 2, "Available", utc(2026, 5, 1))
        made[ocpp_id] = station
    status(made["CS-A"], 2, "Faulted", utc(2026, 5, 4, 6))
    return made


def lines(response, level: str) -> list:
    assert response.status_code == 200, response.content[:300]
    return [row["line"] for row in response.context["table"] if row["line"].level == level]


def test_stations_sort_by_uptime_within_their_site(org, stations):
    viewer = portal_client(org)
    url = org_url(org, "availability/")
    by_name = [line.ocpp_id for line in lines(viewer.get(url, MAY_4), "station")]
    assert by_name == ["CS-A", "CS-B"]
    worst_first = viewer.get(url, {**MAY_4, "ordering": "uptime"})
    assert [line.ocpp_id for line in lines(worst_first, "station")] == ["CS-A", "CS-B"]
    best_first = viewer.get(url, {**MAY_4, "ordering": "-uptime"})
    assert [line.ocpp_id for line in lines(best_first, "station")] == ["CS-B", "CS-A"]
    # Connectors stay under their station, sorted among themselves: CS-A's faulted one last.
    table = [row["line"] for row in best_first.context["table"]]
    named = [
        (line.level, line.connector_number if line.level == "connector" else line.ocpp_id)
        for line in table
    ]
    assert named[2:5] == [
        ("connector", 1),
        ("connector", 2),
        ("station", "CS-A"),
    ]
    assert 'aria-sort="descending"' in best_first.content.decode()


def test_sorting_by_name_descending_reverses_the_stations(org, stations):
    response = portal_client(org).get(org_url(org, "availability/"), {**MAY_4, "ordering": "-name"})
    assert [line.ocpp_id for line in lines(response, "station")] == ["CS-B", "CS-A"]


def test_an_unknown_ordering_keeps_the_reports_order(org, stations):
    response = portal_client(org).get(org_url(org, "availability/"), {**MAY_4, "ordering": "x"})
    assert [line.ocpp_id for line in lines(response, "station")] == ["CS-A", "CS-B"]


def test_the_csv_follows_the_tables_order(org, stations):
    response = portal_client(org).get(
        org_url(org, "availability/export.csv"),
        {**MAY_4, "group": "station", "ordering": "-uptime"},
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["ocpp_id"] for row in rows] == ["CS-B", "CS-A"]
