"""GET /api/v1/analytics/: sessions, energy and durations per local day, site or station."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from organizations.choices import Role
from tests.apiclients import member
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    OrganizationFactory,
    SiteFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/analytics/"
BERLIN = ZoneInfo("Europe/Berlin")
MARCH_1_TO_5 = {"date_from": "2026-03-01", "date_to": "2026-03-05"}


@pytest.fixture
def viewer(org):
    client = APIClient()
    client.force_authenticate(member((org, Role.VIEWER)))
    return client


def completed(station, start, minutes=60, energy_wh=10000, **fields):
    return ChargingSessionFactory(
        station=station,
        start=start,
        stop=start + timedelta(minutes=minutes),
        energy_wh=energy_wh,
        state="completed",
        **fields,
    )


def rows(response):
    assert response.status_code == 200, response.data
    return response.data["results"]


def by_day(response):
    return {row["date"]: row["sessions"] for row in rows(response)}


def test_days_are_local_days_and_days_without_sessions_are_zeros(viewer, org, station):
    # 23:30 UTC on 1 March is 00:30 on 2 March in Berlin.
    completed(station, datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    completed(station, datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    completed(station, datetime(2026, 3, 4, 8, 0, tzinfo=UTC))

    response = viewer.get(URL, MARCH_1_TO_5)

    assert by_day(response) == {
        "2026-03-01": 0,
        "2026-03-02": 2,
        "2026-03-03": 0,
        "2026-03-04": 1,
        "2026-03-05": 0,
    }
    assert response.data["time_zone"] == "Europe/Berlin"
    # Times are UTC like everywhere in the API: local midnight of 1 March and 6 March.
    assert response.data["start_after"] == "2026-02-28T23:00:00Z"
    assert response.data["start_before"] == "2026-03-05T23:00:00Z"
    assert rows(response)[0] == {
        "date": "2026-03-01",
        "site": None,
        "site_name": None,
        "station": None,
        "ocpp_id": None,
        "sessions": 0,
        "energy_wh": 0,
        "duration_seconds": 0,
        "average_duration_seconds": None,
    }


def test_a_bucket_adds_up_energy_and_durations_and_averages_the_duration(viewer, station):
    completed(station, datetime(2026, 3, 2, 8, tzinfo=UTC), minutes=30, energy_wh=4000)
    completed(station, datetime(2026, 3, 2, 9, tzinfo=UTC), minutes=90, energy_wh=16000)

    day = next(row for row in rows(viewer.get(URL, MARCH_1_TO_5)) if row["sessions"])

    assert {k: day[k] for k in ("energy_wh", "duration_seconds", "average_duration_seconds")} == {
        "energy_wh": 20000,
        "duration_seconds": 7200,
        "average_duration_seconds": 3600,
    }


def test_only_completed_sessions_count(viewer, station):
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    completed(station, start)
    ChargingSessionFactory(station=station, start=start, state="active", energy_wh=500)
    ChargingSessionFactory(
        station=station,
        connector=station.connectors.get(connector_id=2),
        start=start,
        stop=start + timedelta(minutes=5),
        state="failed",
    )
    assert by_day(viewer.get(URL, MARCH_1_TO_5))["2026-03-02"] == 1


def test_the_default_range_is_the_30_days_up_to_the_end_of_today(viewer, station):
    completed(station, timezone.now() - timedelta(minutes=90), minutes=30)
    today = timezone.now().astimezone(BERLIN).date()

    response = viewer.get(URL)

    days = rows(response)
    assert [row["date"] for row in days] == [
        (today - timedelta(days=n)).isoformat() for n in range(29, -1, -1)
    ]
    assert sum(row["sessions"] for row in days) == 1
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=BERLIN)
    assert response.data["start_before"] == tomorrow.astimezone(UTC).isoformat().replace(
        "+00:00", "Z"
    )


def test_start_after_and_start_before_are_a_half_open_range(viewer, station):
    at_start = completed(station, datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    completed(station, datetime(2026, 3, 3, 0, 0, tzinfo=UTC))  # at the end: left out
    completed(station, datetime(2026, 3, 1, 23, 59, tzinfo=UTC))  # before: left out

    response = viewer.get(
        URL,
        {
            "group_by": "station",
            "start_after": "2026-03-02T00:00:00Z",
            "start_before": "2026-03-03T00:00:00Z",
        },
    )

    [row] = rows(response)
    assert (row["station"], row["sessions"]) == (at_start.station_id, 1)


def test_group_by_site_counts_per_site_by_name_and_stations_without_site_last(viewer, org):
    zulu = ChargingStationFactory(organization=org, site=SiteFactory(organization=org, name="Zulu"))
    alpha = ChargingStationFactory(
        organization=org, site=SiteFactory(organization=org, name="Alpha")
    )
    loose = ChargingStationFactory(organization=org, site=None)
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    completed(zulu, start)
    completed(alpha, start, energy_wh=1000)
    completed(alpha, start, energy_wh=2000, connector=alpha.connectors.get(connector_id=2))
    completed(loose, start)

    response = viewer.get(URL, {"group_by": "site", **MARCH_1_TO_5})

    assert [(r["site"], r["site_name"], r["sessions"], r["energy_wh"]) for r in rows(response)] == [
        (alpha.site_id, "Alpha", 2, 3000),
        (zulu.site_id, "Zulu", 1, 10000),
        (None, None, 1, 10000),
    ]
    assert all(r["date"] is None and r["station"] is None for r in rows(response))


def test_group_by_station_names_each_station_and_its_site(viewer, org, station):
    other = ChargingStationFactory(organization=org, ocpp_id="CS-A", site=None)
    completed(station, datetime(2026, 3, 2, 8, tzinfo=UTC))
    completed(other, datetime(2026, 3, 3, 8, tzinfo=UTC), minutes=10)

    response = viewer.get(URL, {"group_by": "station", **MARCH_1_TO_5})

    assert [
        (r["station"], r["ocpp_id"], r["site"], r["site_name"], r["duration_seconds"])
        for r in rows(response)
    ] == [
        (other.pk, "CS-A", None, None, 600),
        (station.pk, "CS-DEMO-1", station.site_id, station.site.name, 3600),
    ]


def test_site_station_and_organization_narrow_the_sessions(viewer, org, station):
    other = ChargingStationFactory(organization=org, site=SiteFactory(organization=org))
    completed(station, datetime(2026, 3, 2, 8, tzinfo=UTC))
    completed(other, datetime(2026, 3, 2, 9, tzinfo=UTC))
    completed(other, datetime(2026, 3, 3, 9, tzinfo=UTC))

    def total(**params):
        return sum(row["sessions"] for row in rows(viewer.get(URL, {**MARCH_1_TO_5, **params})))

    assert (total(), total(organization=org.pk)) == (3, 3)
    assert (total(station=station.pk), total(site=other.site_id)) == (1, 2)


def test_other_organizations_sessions_are_never_counted(viewer, station, other_org):
    completed(station, datetime(2026, 3, 2, 8, tzinfo=UTC))
    completed(ChargingStationFactory(organization=other_org), datetime(2026, 3, 2, 8, tzinfo=UTC))
    assert sum(by_day(viewer.get(URL, MARCH_1_TO_5)).values()) == 1


def test_naming_another_organizations_site_station_or_organization_is_a_400(viewer, other_org):
    foreign = ChargingStationFactory(organization=other_org)
    for name, value in (
        ("organization", other_org.pk),
        ("site", foreign.site_id),
        ("station", foreign.pk),
    ):
        response = viewer.get(URL, {name: value})
        assert (response.status_code, list(response.data)) == (400, [name])


@pytest.fixture
def tokyo_too(org, station):
    """A member of `org` (Berlin) and of an organization in Tokyo, each with a session."""
    tokyo = OrganizationFactory(timezone="Asia/Tokyo")
    # 16:00 UTC on 1 March: 1 March in Berlin, already 2 March in Tokyo.
    completed(station, datetime(2026, 3, 1, 16, tzinfo=UTC))
    completed(ChargingStationFactory(organization=tokyo), datetime(2026, 3, 1, 16, tzinfo=UTC))
    client = APIClient()
    client.force_authenticate(member((org, Role.VIEWER), (tokyo, Role.VIEWER)))
    return client, tokyo


def test_days_across_time_zones_need_one_organization_named(tokyo_too):
    client, _tokyo = tokyo_too
    response = client.get(URL, MARCH_1_TO_5)
    assert response.status_code == 400
    assert "Asia/Tokyo, Europe/Berlin" in response.data["organization"][0]


def test_with_one_organization_named_days_are_its_local_days(tokyo_too):
    client, tokyo = tokyo_too
    response = client.get(URL, {"organization": tokyo.pk, **MARCH_1_TO_5})
    assert response.data["time_zone"] == "Asia/Tokyo"
    assert by_day(response)["2026-03-02"] == 1
    assert sum(by_day(response).values()) == 1


def test_stations_across_time_zones_are_counted_in_utc(tokyo_too):
    client, _tokyo = tokyo_too
    response = client.get(
        URL,
        {
            "group_by": "station",
            "start_after": "2026-03-01T00:00:00Z",
            "start_before": "2026-03-02T00:00:00Z",
        },
    )
    assert response.data["time_zone"] == "UTC"
    assert [row["sessions"] for row in rows(response)] == [1, 1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "week"}, "group_by"),
        ({"start_after": "last tuesday"}, "start_after"),
        ({"date_to": "2026-02-30"}, "date_to"),
        (
            {"start_after": "2026-03-02T00:00:00Z", "start_before": "2026-03-01T00:00:00Z"},
            "start_before",
        ),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "start_before"),
        ({"date_from": "2020-01-01", "date_to": "2026-01-01"}, "start_after"),
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"start_before": "9999-12-31T23:59:59Z"}, "start_before"),
        ({"site": "abc"}, "site"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(viewer, params, field):
    response = viewer.get(URL, params)
    assert (response.status_code, list(response.data)) == (400, [field])


def test_a_long_range_by_site_is_fine(viewer, station):
    completed(station, datetime(2021, 6, 1, tzinfo=UTC))
    response = viewer.get(
        URL, {"group_by": "site", "date_from": "2020-01-01", "date_to": "2026-12-31"}
    )
    assert [row["sessions"] for row in rows(response)] == [1]


def test_two_years_by_day_is_the_longest_range(viewer, station):
    response = viewer.get(URL, {"date_from": "2024-01-01", "date_to": "2025-12-31"})
    assert len(rows(response)) == 731
    assert rows(response)[-1]["date"] == date(2025, 12, 31).isoformat()
