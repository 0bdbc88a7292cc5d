"""The availability report from the database: histories, maintenance, sessions, local days."""

from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest
import time_machine

from availability.choices import Group, Period
from availability.models import MaintenanceWindow
from availability.selectors import (
    RangeError,
    availability_report,
    report_rows,
    resolve_range,
    spans,
)
from sessions_app.choices import AuthorizationStatus, RemoteStartStatus, SessionState
from stations.models import ChargingStation
from tests.availability.helpers import BERLIN, connection, status, utc
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    RemoteStartFactory,
    SiteFactory,
)

pytestmark = pytest.mark.django_db
HOUR = 3600


def report(org, first, last=None, period=Period.DAY, stations=None, now=None):
    return availability_report(
        stations if stations is not None else ChargingStation.objects.for_org(org),
        period=period,
        first=first,
        last=last or first,
        zone=BERLIN,
        now=now or utc(2026, 12, 1),
    )


def rows(result, group=Group.CONNECTOR):
    return list(report_rows(result, group))


# --- a scripted day with a DST change, figured out by hand ------------------------------------


@pytest.fixture
def spring_forward(org):
    """One connector's 29 March 2026 in Berlin: clocks jump from 02:00 CET to 03:00 CEST."""
    station = ChargingStationFactory(organization=org, connectors=1)
    # Before the day: connected, and the connector Available.
    connection(station, "online", utc(2026, 3, 28, 20))
    status(station, 1, "Available", utc(2026, 3, 28, 10))
    # 01:30 CET (00:30 UTC) Faulted until 03:30 CEST (01:30 UTC): one hour, though the wall
    # clock moves two.
    status(station, 1, "Faulted", utc(2026, 3, 29, 0, 30))
    status(station, 1, "Available", utc(2026, 3, 29, 1, 30))
    # 08:00 to 09:15 CEST (06:00 to 07:15 UTC) the socket is gone: 1 h 15 min offline.
    connection(station, "offline", utc(2026, 3, 29, 6))
    connection(station, "online", utc(2026, 3, 29, 7, 15))
    # 10:00 CEST Charging, 11:00 CEST Finishing, 11:30 CEST Available: all operational.
    status(station, 1, "Charging", utc(2026, 3, 29, 8))
    status(station, 1, "Finishing", utc(2026, 3, 29, 9))
    status(station, 1, "Available", utc(2026, 3, 29, 9, 30))
    # 12:00 to 14:00 CEST announced maintenance of the whole organization: 2 h. A fault inside
    # it counts as maintenance.
    MaintenanceWindow.objects.create(
        organization=org, starts_at=utc(2026, 3, 29, 10), ends_at=utc(2026, 3, 29, 12)
    )
    status(station, 1, "Faulted", utc(2026, 3, 29, 10, 30))
    status(station, 1, "Available", utc(2026, 3, 29, 11, 30))
    # 20:00 to 21:00 CEST the station itself (connector 0) is Unavailable: 1 h for connector 1.
    status(station, 0, "Unavailable", utc(2026, 3, 29, 18))
    status(station, 0, "Available", utc(2026, 3, 29, 19))
    # After the day (00:30 CEST on the 30th): not counted on the 29th.
    status(station, 1, "Faulted", utc(2026, 3, 29, 22, 30))
    return station


def test_a_dst_day_has_23_hours_and_each_state_its_hand_counted_share(org, spring_forward):
    (row,) = rows(report(org, date(2026, 3, 29)))

    # 00:00 CET is 23:00 UTC on the 28th; 24:00 CEST is 22:00 UTC on the 29th: 23 hours.
    assert row["start"] == utc(2026, 3, 28, 23)
    assert row["end"] == utc(2026, 3, 29, 22)
    assert row["period_seconds"] == 23 * HOUR
    assert row["faulted_seconds"] == 1 * HOUR
    assert row["offline_seconds"] == 1.25 * HOUR
    assert row["maintenance_seconds"] == 2 * HOUR
    assert row["unavailable_seconds"] == 1 * HOUR
    assert row["unknown_seconds"] == 0
    # What is left: 23 - 1 - 1.25 - 2 - 1 = 17.75 hours.
    assert row["available_seconds"] == 17.75 * HOUR
    # Uptime: 17.75 available hours of 23 - 2 (maintenance) = 21 measured hours.
    assert row["uptime"] == round(17.75 / 21, 6)
    assert row["available_share"] == round(17.75 / 23, 6)
    assert row["offline_share"] == round(1.25 / 23, 6)


def test_the_day_after_the_dst_change_has_24_hours_and_starts_where_the_dst_day_ends(
    org, spring_forward
):
    first, second = rows(report(org, date(2026, 3, 29), date(2026, 3, 30)))

    assert second["date"] == date(2026, 3, 30)
    assert second["start"] == first["end"] == utc(2026, 3, 29, 22)
    assert second["period_seconds"] == 24 * HOUR
    # Faulted from 00:30 CEST on: the connector's last word.
    assert second["faulted_seconds"] == 23.5 * HOUR


def test_the_autumn_dst_day_has_25_hours(org):
    station = ChargingStationFactory(organization=org, connectors=1)
    status(station, 1, "Available", utc(2026, 10, 1))

    (row,) = rows(report(org, date(2026, 10, 25)))

    assert row["period_seconds"] == 25 * HOUR
    assert row["available_seconds"] == 25 * HOUR
    assert row["uptime"] == 1.0


def test_a_month_with_a_dst_change_has_an_hour_less(org):
    station = ChargingStationFactory(organization=org, connectors=1)
    status(station, 1, "Available", utc(2026, 1, 1))

    (row,) = rows(report(org, date(2026, 3, 1), date(2026, 3, 31), period=Period.MONTH))

    assert row["date"] == date(2026, 3, 1)
    assert row["period_seconds"] == (31 * 24 - 1) * HOUR


# --- what the report reads --------------------------------------------------------------------


def test_a_connector_without_any_history_is_unknown_and_has_no_uptime(org):
    ChargingStationFactory(organization=org, connectors=1)

    (row,) = rows(report(org, date(2026, 5, 4)))

    assert row["unknown_seconds"] == row["period_seconds"] == 24 * HOUR
    assert row["uptime"] is None


def test_only_the_last_report_before_the_period_counts(org):
    station = ChargingStationFactory(organization=org, connectors=1)
    status(station, 1, "Faulted", utc(2026, 5, 1))
    status(station, 1, "Available", utc(2026, 5, 2))
    # Reported late, with an older timestamp: history only, not the state at the start.
    status(station, 1, "Unavailable", utc(2026, 5, 1, 12))

    (row,) = rows(report(org, date(2026, 5, 4)))

    assert row["available_seconds"] == 24 * HOUR


def test_a_station_offline_since_before_the_period_is_offline(org):
    station = ChargingStationFactory(organization=org, connectors=1)
    status(station, 1, "Available", utc(2026, 5, 1))
    connection(station, "online", utc(2026, 5, 1))
    connection(station, "offline", utc(2026, 5, 3))

    (row,) = rows(report(org, date(2026, 5, 4)))

    assert row["offline_seconds"] == 24 * HOUR
    assert row["uptime"] == 0.0


def test_each_connector_of_a_station_has_its_own_figures(org):
    station = ChargingStationFactory(organization=org, connectors=2)
    status(station, 1, "Available", utc(2026, 5, 1))
    status(station, 2, "Faulted", utc(2026, 5, 1))

    first, second = rows(report(org, date(2026, 5, 4)))

    assert (first["connector_number"], first["uptime"]) == (1, 1.0)
    assert (second["connector_number"], second["uptime"]) == (2, 0.0)


def test_a_station_adds_up_its_connectors_time_and_a_site_its_stations(org):
    site = SiteFactory(organization=org, name="Depot")
    one = ChargingStationFactory(organization=org, site=site, connectors=2)
    two = ChargingStationFactory(organization=org, site=site, connectors=1)
    status(one, 1, "Available", utc(2026, 5, 1))
    status(one, 2, "Faulted", utc(2026, 5, 1))
    status(two, 1, "Available", utc(2026, 5, 1))
    result = report(org, date(2026, 5, 4))

    stations = {row["station"]: row for row in rows(result, Group.STATION)}
    (site_row,) = rows(result, Group.SITE)

    assert stations[one.pk]["connectors"] == 2
    assert stations[one.pk]["period_seconds"] == 48 * HOUR
    assert stations[one.pk]["uptime"] == 0.5
    assert site_row["connectors"] == 3
    assert site_row["period_seconds"] == 72 * HOUR
    assert site_row["uptime"] == round(2 / 3, 6)
    assert (site_row["site"], site_row["site_name"], site_row["station"]) == (
        site.pk,
        "Depot",
        None,
    )


@pytest.mark.parametrize(
    ("scope", "covered"),
    [("organization", {"here", "there"}), ("site", {"here"}), ("station", {"here"})],
)
def test_a_maintenance_window_covers_its_scope_only(org, other_org, scope, covered):
    site = SiteFactory(organization=org)
    here = ChargingStationFactory(organization=org, site=site, connectors=1)
    there = ChargingStationFactory(organization=org, connectors=1)
    MaintenanceWindow.objects.create(
        organization=org,
        site=site if scope == "site" else None,
        station=here if scope == "station" else None,
        starts_at=utc(2026, 5, 4, 6),
        ends_at=utc(2026, 5, 4, 9),
    )
    # Another organization's window over the whole day covers none of ours.
    MaintenanceWindow.objects.create(
        organization=other_org, starts_at=utc(2026, 5, 3), ends_at=utc(2026, 5, 6)
    )
    names = {here.pk: "here", there.pk: "there"}

    found = {
        names[row["station"]]
        for row in rows(report(org, date(2026, 5, 4)), Group.STATION)
        if row["maintenance_seconds"]
    }

    assert found == covered


def test_another_organizations_stations_never_appear(org, other_org):
    ours = ChargingStationFactory(organization=org)
    theirs = ChargingStationFactory(organization=other_org)
    status(theirs, 1, "Faulted", utc(2026, 5, 1))

    found = {row["station"] for row in rows(report(org, date(2026, 5, 4)), Group.STATION)}

    assert found == {ours.pk}


def test_the_running_day_counts_up_to_now_and_later_days_not_at_all(org):
    station = ChargingStationFactory(organization=org, connectors=1)
    status(station, 1, "Available", utc(2026, 5, 1))
    now = utc(2026, 5, 4, 10)  # 12:00 in Berlin

    found = rows(report(org, date(2026, 5, 4), date(2026, 5, 6), now=now))

    assert [row["date"] for row in found] == [date(2026, 5, 4)]
    assert found[0]["end"] == now
    assert found[0]["period_seconds"] == 12 * HOUR


def test_a_range_in_the_future_reports_nothing(org):
    ChargingStationFactory(organization=org)

    result = report(org, date(2027, 1, 1), now=utc(2026, 12, 1))

    assert result.spans == []
    assert rows(result) == []


def test_the_report_reads_the_same_number_of_queries_for_one_station_or_many(
    org, django_assert_num_queries
):
    def busy_station():
        station = ChargingStationFactory(organization=org, site=SiteFactory(organization=org))
        status(station, 1, "Available", utc(2026, 5, 1))
        status(station, 2, "Faulted", utc(2026, 5, 4, 8))
        connection(station, "online", utc(2026, 5, 1))
        connection(station, "offline", utc(2026, 5, 4, 9))
        MaintenanceWindow.objects.create(
            organization=org, station=station, starts_at=utc(2026, 5, 4), ends_at=utc(2026, 5, 5)
        )
        ChargingSessionFactory(station=station, start=utc(2026, 5, 4, 8))
        RemoteStartFactory(station=station, status=RemoteStartStatus.REJECTED)

    busy_station()
    with django_assert_num_queries(7):
        report(org, date(2026, 5, 1), date(2026, 5, 31))
    for _ in range(5):
        busy_station()
    with django_assert_num_queries(7):
        result = report(org, date(2026, 5, 1), date(2026, 5, 31))
    assert len(rows(result, Group.STATION)) == 6 * 31


# --- session success ----------------------------------------------------------------------------

START = utc(2026, 5, 4, 8)


@pytest.mark.parametrize(
    ("fields", "attempts", "failed"),
    [
        ({"state": SessionState.COMPLETED, "energy_wh": 5000}, 1, 0),
        ({"state": SessionState.ACTIVE, "energy_wh": 0}, 1, 0),
        ({"state": SessionState.FAILED, "energy_wh": 0}, 1, 1),
        ({"state": SessionState.COMPLETED, "energy_wh": 0}, 1, 1),
        (
            {
                "state": SessionState.COMPLETED,
                "energy_wh": 20,
                "stop_reason": "EmergencyStop",
                "stop": START + timedelta(seconds=30),
            },
            1,
            1,
        ),
        (
            {
                "state": SessionState.COMPLETED,
                "energy_wh": 20,
                "stop_reason": "EVDisconnected",
                "stop": START + timedelta(seconds=59),
            },
            1,
            1,
        ),
        (
            {
                "state": SessionState.COMPLETED,
                "energy_wh": 9000,
                "stop_reason": "PowerLoss",
                "stop": START + timedelta(minutes=40),
            },
            1,
            0,
        ),
        (
            {
                "state": SessionState.COMPLETED,
                "energy_wh": 20,
                "stop_reason": "Local",
                "stop": START + timedelta(seconds=30),
            },
            1,
            0,
        ),
        # A card the authorization refused is no attempt of the charge point.
        ({"state": SessionState.COMPLETED, "auth_status": AuthorizationStatus.INVALID}, 0, 0),
    ],
    ids=[
        "completed with energy",
        "running",
        "failed",
        "no energy",
        "emergency stop within a minute",
        "unplugged within a minute",
        "power loss after 40 minutes",
        "stopped by the driver within a minute",
        "refused card",
    ],
)
def test_session_success_counts_attempts_and_failures(org, fields, attempts, failed):
    station = ChargingStationFactory(organization=org, connectors=1)
    fields = {"stop": START + timedelta(hours=1), **fields}
    ChargingSessionFactory(station=station, start=START, **fields)

    (row,) = rows(report(org, date(2026, 5, 4)))

    assert (row["sessions"], row["failed_sessions"]) == (attempts, failed)


@pytest.mark.parametrize(
    ("remote_status", "claimed", "age", "counted"),
    [
        (RemoteStartStatus.REJECTED, False, timedelta(hours=1), True),
        (RemoteStartStatus.FAILED, False, timedelta(hours=1), True),
        (RemoteStartStatus.ACCEPTED, False, timedelta(hours=1), True),
        (RemoteStartStatus.ACCEPTED, False, timedelta(minutes=2), False),
        (RemoteStartStatus.PENDING, False, timedelta(minutes=2), False),
        (RemoteStartStatus.ACCEPTED, True, timedelta(hours=1), False),
    ],
    ids=[
        "rejected",
        "never answered",
        "accepted without a session",
        "accepted, a session may still come",
        "pending",
        "accepted and claimed by its session",
    ],
)
def test_failed_remote_starts_count_as_failed_attempts(org, remote_status, claimed, age, counted):
    station = ChargingStationFactory(organization=org, connectors=1)
    now = utc(2026, 5, 4, 12)
    session = (
        ChargingSessionFactory(
            station=station,
            start=now - age,
            stop=now,
            energy_wh=1000,
            state=SessionState.COMPLETED,
        )
        if claimed
        else None
    )
    with time_machine.travel(now - age, tick=False):
        RemoteStartFactory(
            station=station,
            connector=station.connectors.get(),
            status=remote_status,
            session=session,
        )

    (row,) = rows(report(org, date(2026, 5, 4), now=now))

    sessions = 1 if claimed else 0
    assert (row["sessions"], row["failed_sessions"]) == (
        sessions + counted,
        int(counted),
    )


def test_a_remote_start_for_no_connector_counts_for_the_station_only(org):
    station = ChargingStationFactory(organization=org, connectors=2)
    with time_machine.travel(utc(2026, 5, 4, 8), tick=False):
        RemoteStartFactory(station=station, status=RemoteStartStatus.REJECTED)
    result = report(org, date(2026, 5, 4))

    (station_row,) = rows(result, Group.STATION)
    connector_rows = rows(result, Group.CONNECTOR)

    assert (station_row["sessions"], station_row["failed_sessions"]) == (1, 1)
    assert station_row["success_rate"] == 0.0
    assert [row["sessions"] for row in connector_rows] == [0, 0]


def test_sessions_count_on_the_local_day_they_started(org):
    station = ChargingStationFactory(organization=org, connectors=1)
    # 23:30 UTC on the 3rd is 01:30 on the 4th in Berlin.
    ChargingSessionFactory(
        station=station,
        start=utc(2026, 5, 3, 23, 30),
        stop=utc(2026, 5, 4, 1),
        energy_wh=1000,
        state=SessionState.COMPLETED,
    )

    found = {
        row["date"]: row["sessions"]
        for row in rows(report(org, date(2026, 5, 3), date(2026, 5, 4)))
    }

    assert found == {date(2026, 5, 3): 0, date(2026, 5, 4): 1}


def test_sessions_count_in_the_local_month_they_started(org):
    station = ChargingStationFactory(organization=org, connectors=1)
    # 22:30 UTC on 30 April is 00:30 on 1 May in Berlin.
    ChargingSessionFactory(station=station, start=utc(2026, 4, 30, 22, 30), state="active")

    found = {
        row["date"]: row["sessions"]
        for row in rows(report(org, date(2026, 4, 1), date(2026, 5, 31), period=Period.MONTH))
    }

    assert found == {date(2026, 4, 1): 0, date(2026, 5, 1): 1}


# --- the range ----------------------------------------------------------------------------------

NOW = utc(2026, 5, 20, 10)


@pytest.mark.parametrize(
    ("period", "first", "last", "expected"),
    [
        (Period.DAY, None, None, (date(2026, 5, 1), date(2026, 5, 20))),
        (Period.DAY, date(2026, 4, 3), None, (date(2026, 4, 3), date(2026, 5, 20))),
        (Period.DAY, None, date(2026, 2, 10), (date(2026, 2, 1), date(2026, 2, 10))),
        (Period.MONTH, None, None, (date(2026, 5, 1), date(2026, 5, 31))),
        (Period.MONTH, date(2026, 1, 15), date(2026, 3, 2), (date(2026, 1, 1), date(2026, 3, 31))),
    ],
)
def test_resolve_range_fills_in_defaults_and_whole_months(period, first, last, expected):
    assert resolve_range(period, first, last, BERLIN, NOW) == expected


@pytest.mark.parametrize(
    ("period", "first", "last", "field"),
    [
        (Period.DAY, date(2026, 5, 2), date(2026, 5, 1), "to"),
        (Period.DAY, date(2024, 12, 31), date(2026, 1, 1), "from"),
        (Period.MONTH, date(2020, 1, 1), date(2026, 1, 1), "from"),
        (Period.DAY, date(1900, 1, 1), date(2026, 1, 1), "from"),
    ],
    ids=["ends before it starts", "too many days", "too many months", "too early"],
)
def test_resolve_range_refuses_what_it_cannot_answer(period, first, last, field):
    with pytest.raises(RangeError) as refusal:
        resolve_range(period, first, last, BERLIN, NOW)
    assert refusal.value.field_name == field


def test_spans_are_local_days_in_utc_without_gaps():
    found = spans(Period.DAY, date(2026, 10, 24), date(2026, 10, 26), BERLIN, utc(2027, 1, 1))

    assert [span.end - span.start for span in found] == [
        timedelta(hours=24),
        timedelta(hours=25),
        timedelta(hours=24),
    ]
    assert all(a.end == b.start for a, b in pairwise(found))
    assert found[0].start == datetime(2026, 10, 24, tzinfo=BERLIN)
