"""API: the availability report (JSON and CSV) and maintenance windows."""

import csv
import io
from datetime import date

import pytest

from availability.models import MaintenanceWindow
from organizations.choices import Role
from tests.apiclients import client_as, client_for, key_client, member
from tests.availability.helpers import connection, status, utc
from tests.factories import ChargingStationFactory, OrganizationFactory, SiteFactory, make_api_key

pytestmark = pytest.mark.django_db

REPORT = "/api/v1/availability/"
MAY_4 = {"from": "2026-05-04", "to": "2026-05-04"}


@pytest.fixture
def faulty_station(org):
    """Connector 1 Available all day, connector 2 Faulted from 06:00 UTC on 4 May 2026."""
    station = ChargingStationFactory(organization=org, site=SiteFactory(organization=org))
    connection(station, "online", utc(2026, 5, 1))
    status(station, 1, "Available", utc(2026, 5, 1))
    status(station, 2, "Available", utc(2026, 5, 1))
    status(station, 2, "Faulted", utc(2026, 5, 4, 6))
    return station


def test_the_report_answers_one_row_per_station_and_day(org, faulty_station):
    response = client_as(org).get(REPORT, MAY_4)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["period"], body["group"], body["time_zone"]) == ("day", "station", "Europe/Berlin")
    assert (body["first_day"], body["last_day"]) == ("2026-05-04", "2026-05-04")
    assert body["start"] == "2026-05-03T22:00:00Z"
    (row,) = body["results"]
    assert row["station"] == faulty_station.pk
    assert row["connectors"] == 2
    assert row["period_seconds"] == 48 * 3600
    # Connector 2 Available from 22:00 to 06:00 UTC, then Faulted: 8 of its 24 hours.
    assert row["faulted_seconds"] == 16 * 3600
    assert row["uptime"] == round(32 / 48, 6)
    assert row["success_rate"] is None


@pytest.mark.parametrize(("group", "count"), [("connector", 2), ("station", 1), ("site", 1)])
def test_the_report_groups_rows_by_connector_station_or_site(org, faulty_station, group, count):
    response = client_as(org).get(REPORT, {**MAY_4, "group": group})

    assert response.status_code == 200
    assert len(response.json()["results"]) == count


def test_per_month_each_row_is_a_local_month(org, faulty_station):
    response = client_as(org).get(REPORT, {"period": "month", "from": "2026-03", "to": "2026-04"})

    rows = response.json()["results"]
    assert [row["date"] for row in rows] == ["2026-03-01", "2026-04-01"]
    # March in Berlin loses an hour to DST: 743 hours, twice (two connectors).
    assert rows[0]["period_seconds"] == 2 * 743 * 3600


def test_the_report_as_csv_has_the_same_rows(org, faulty_station):
    response = client_as(org).get(REPORT, {**MAY_4, "group": "connector", "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["connector_number"] for row in rows] == ["1", "2"]
    assert rows[1]["faulted_seconds"] == str(16 * 3600)
    assert rows[0]["start"] == "2026-05-03T22:00:00+00:00"


def test_a_csv_request_with_a_bad_parameter_gets_json_errors(org):
    response = client_as(org).get(REPORT, {"from": "soon", "format": "csv"})

    assert response.status_code == 400
    assert "from" in response.json()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-05-04", "to": "2026-05-01"}, "to"),
        ({"from": "May"}, "from"),
        ({"period": "week"}, "period"),
        ({"group": "evse"}, "group"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ({"colour": "red"}, "colour"),
    ],
    ids=["ends before it starts", "no date", "period", "group", "too long", "unknown"],
)
def test_a_bad_query_parameter_is_a_400_naming_it(org, params, field):
    response = client_as(org).get(REPORT, params)

    assert response.status_code == 400
    assert field in response.json()


def test_a_station_of_another_organization_is_refused_like_a_missing_one(org, other_org):
    theirs = ChargingStationFactory(organization=other_org)

    response = client_as(org).get(REPORT, {**MAY_4, "station": theirs.pk})

    assert response.status_code == 400
    assert "station" in response.json()


def test_another_organizations_stations_never_appear(org, other_org, faulty_station):
    theirs = ChargingStationFactory(organization=other_org)

    rows = client_as(org).get(REPORT, MAY_4).json()["results"]
    outsider_rows = client_as(other_org).get(REPORT, MAY_4).json()["results"]

    assert {row["station"] for row in rows} == {faulty_station.pk}
    assert {row["station"] for row in outsider_rows} == {theirs.pk}


def test_the_site_and_station_parameters_narrow_the_report(org, faulty_station):
    other = ChargingStationFactory(organization=org)

    by_station = client_as(org).get(REPORT, {**MAY_4, "station": other.pk}).json()["results"]
    by_site = client_as(org).get(REPORT, {**MAY_4, "site": faulty_station.site_id}).json()

    assert [row["station"] for row in by_station] == [other.pk]
    assert [row["station"] for row in by_site["results"]] == [faulty_station.pk]


def test_organizations_in_different_time_zones_must_be_named(org):
    elsewhere = OrganizationFactory(timezone="America/New_York")
    user = member((org, Role.VIEWER), (elsewhere, Role.VIEWER))

    mixed = client_for(user).get(REPORT, MAY_4)
    named = client_for(user).get(REPORT, {**MAY_4, "organization": elsewhere.pk})

    assert mixed.status_code == 400
    assert "organization" in mixed.json()
    assert named.status_code == 200
    assert named.json()["time_zone"] == "America/New_York"


def test_an_api_key_reads_its_organizations_report(org, faulty_station):
    _key, secret = make_api_key(org, role=Role.VIEWER)

    response = key_client(secret).get(REPORT, MAY_4)

    assert response.status_code == 200
    assert [row["station"] for row in response.json()["results"]] == [faulty_station.pk]


def test_the_report_keeps_its_query_budget_whatever_the_number_of_stations(
    org, django_assert_max_num_queries
):
    client = client_as(org)
    for _ in range(8):
        station = ChargingStationFactory(organization=org, site=SiteFactory(organization=org))
        status(station, 1, "Available", utc(2026, 5, 1))
        connection(station, "offline", utc(2026, 5, 3))

    with django_assert_max_num_queries(12):
        response = client.get(REPORT, {"from": "2026-05-01", "to": "2026-05-31"})
    assert len(response.json()["results"]) == 8 * 31


# --- maintenance windows ------------------------------------------------------------------------


def windows_url(org):
    return f"/api/v1/organizations/{org.pk}/maintenance-windows/"


def body(**fields):
    return {
        "starts_at": "2026-06-01T06:00:00Z",
        "ends_at": "2026-06-01T10:00:00Z",
        "reason": "Firmware update",
        **fields,
    }


def test_an_operator_announces_a_window_for_the_organization_in_the_url(org, other_org, station):
    user = member((org, Role.OPERATOR))

    response = client_for(user).post(
        windows_url(org), body(station=station.pk, organization=other_org.pk), format="json"
    )

    assert response.status_code == 201, response.json()
    window = MaintenanceWindow.objects.get()
    assert window.organization == org
    assert window.station == station
    assert window.created_by == user
    assert response.json()["organization"] == org.pk


def test_an_api_key_announces_a_window_without_a_person(org):
    _key, secret = make_api_key(org, role=Role.OPERATOR)

    response = key_client(secret).post(windows_url(org), body(), format="json")

    assert response.status_code == 201, response.json()
    assert MaintenanceWindow.objects.get().created_by is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"ends_at": "2026-06-01T05:00:00Z"}, "ends_at"),
        ({"ends_at": "2026-06-01T06:00:00Z"}, "ends_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"ends_at": None}, "ends_at"),
    ],
    ids=["ends before it starts", "ends as it starts", "not a time", "no end"],
)
def test_an_invalid_window_is_a_400_with_field_errors(org, fields, field):
    response = client_as(org, Role.OPERATOR).post(windows_url(org), body(**fields), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not MaintenanceWindow.objects.exists()


def test_a_station_or_site_of_another_organization_is_refused(org, other_org):
    theirs = ChargingStationFactory(organization=other_org)
    client = client_as(org, Role.OPERATOR)

    by_station = client.post(windows_url(org), body(station=theirs.pk), format="json")
    by_site = client.post(windows_url(org), body(site=theirs.site_id), format="json")

    assert by_station.status_code == by_site.status_code == 400
    assert "station" in by_station.json()
    assert "site" in by_site.json()
    assert not MaintenanceWindow.objects.exists()


def test_a_window_for_a_site_and_a_station_at_once_is_refused(org, station):
    response = client_as(org, Role.OPERATOR).post(
        windows_url(org), body(site=station.site_id, station=station.pk), format="json"
    )

    assert response.status_code == 400
    assert "station" in response.json()


def make_window(org, **fields):
    times = {"starts_at": utc(2026, 6, 1, 6), "ends_at": utc(2026, 6, 1, 10)}
    return MaintenanceWindow.objects.create(organization=org, **{**times, **fields})


def test_a_patch_is_checked_against_the_stored_window(org):
    window = make_window(org)

    response = client_as(org, Role.OPERATOR).patch(
        f"/api/v1/maintenance-windows/{window.pk}/",
        {"ends_at": "2026-06-01T05:00:00Z"},
        format="json",
    )

    assert response.status_code == 400
    assert "ends_at" in response.json()


def test_a_patch_may_move_a_site_window_to_a_station(org, station):
    window = make_window(org, site=station.site)

    response = client_as(org, Role.OPERATOR).patch(
        f"/api/v1/maintenance-windows/{window.pk}/",
        {"site": None, "station": station.pk},
        format="json",
    )

    assert response.status_code == 200, response.json()
    window.refresh_from_db()
    assert (window.site, window.station) == (None, station)


def test_a_viewer_reads_windows_but_cannot_change_them(org):
    window = make_window(org)
    viewer = client_as(org, Role.VIEWER)

    assert viewer.get(f"/api/v1/maintenance-windows/{window.pk}/").status_code == 200
    assert viewer.post(windows_url(org), body(), format="json").status_code == 403
    assert viewer.delete(f"/api/v1/maintenance-windows/{window.pk}/").status_code == 403
    assert MaintenanceWindow.objects.count() == 1


def test_an_outsider_can_neither_see_nor_change_nor_delete_a_window(org, other_org):
    window = make_window(org, reason="Ours")
    outsider = client_as(other_org, Role.OWNER)
    url = f"/api/v1/maintenance-windows/{window.pk}/"

    assert outsider.get(url).status_code == 404
    assert outsider.patch(url, {"reason": "Theirs"}, format="json").status_code == 404
    assert outsider.delete(url).status_code == 404
    assert outsider.post(windows_url(org), body(), format="json").status_code == 404
    assert window.pk not in [
        row["id"] for row in outsider.get("/api/v1/maintenance-windows/").json()["results"]
    ]
    window.refresh_from_db()
    assert window.reason == "Ours"
    assert MaintenanceWindow.objects.count() == 1


def test_windows_filter_by_the_moment_they_cover(org):
    morning = make_window(org)
    make_window(org, starts_at=utc(2026, 6, 2), ends_at=utc(2026, 6, 3))

    response = client_as(org).get(
        "/api/v1/maintenance-windows/", {"active_at": "2026-06-01T08:00:00Z"}
    )

    assert [row["id"] for row in response.json()["results"]] == [morning.pk]


def test_windows_export_as_csv(org, station):
    make_window(org, station=station, reason="=cmd|' /C calc'!A0")

    response = client_as(org).get("/api/v1/maintenance-windows/", {"format": "csv"})

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["station"] == str(station.pk)
    assert rows[0]["reason"].startswith("'=")


def test_the_window_list_keeps_its_query_budget(org, station, django_assert_max_num_queries):
    for _ in range(10):
        make_window(org, station=station)
    client = client_as(org)

    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/maintenance-windows/")
    assert response.json()["count"] == 10


def test_a_window_announced_through_the_api_counts_in_the_report(org, faulty_station):
    client = client_as(org, Role.OPERATOR)
    client.post(
        windows_url(org),
        body(starts_at="2026-05-04T06:00:00Z", ends_at="2026-05-04T08:00:00Z"),
        format="json",
    )

    (row,) = client.get(REPORT, MAY_4).json()["results"]

    # 06:00 to 08:00 UTC on both connectors: 4 connector-hours of maintenance, out of the
    # measured time. Connector 2 is Faulted from 06:00, but only counts so from 08:00 (14 h);
    # available: 22 h on connector 1 and 8 h on connector 2, of 48 - 4 = 44 measured hours.
    assert row["maintenance_seconds"] == 4 * 3600
    assert row["faulted_seconds"] == 14 * 3600
    assert row["uptime"] == round(30 / 44, 6)
    assert date.fromisoformat(row["date"]) == date(2026, 5, 4)
