"""Planned maintenance windows set their stations Inoperative, then Operative (the task)."""

from datetime import UTC, datetime, timedelta

import pytest

from availability.choices import CommandOutcome, WindowStationState
from availability.models import MaintenanceWindow, MaintenanceWindowStation
from ocpp_gateway import tasks
from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import maintenance_windows
from ocpp_gateway.remote.maintenance_windows import Answer, apply_maintenance_windows
from stations.models import ChargingStation
from tests.factories import ChargingStationFactory, SiteFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class FakeStations:
    """Stands in for the socket: records each ChangeAvailability and answers as told."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []
        self.answers: dict[str, str] = {}

    def __call__(self, station, *, operative):
        self.sent.append((station.ocpp_id, "Operative" if operative else "Inoperative"))
        return Answer(self.answers.get(station.ocpp_id, CommandOutcome.ACCEPTED))


@pytest.fixture
def stations(monkeypatch):
    fake = FakeStations()
    monkeypatch.setattr(maintenance_windows, "send_availability", fake)
    return fake


def online(org, ocpp_id, **fields):
    return ChargingStationFactory(
        organization=org, ocpp_id=ocpp_id, connection_state="online", **fields
    )


def window(org, start=T0, end=T0 + 2 * HOUR, **fields):
    return MaintenanceWindow.objects.create(
        organization=org, starts_at=start, ends_at=end, **fields
    )


def outcome(win, station) -> MaintenanceWindowStation:
    return MaintenanceWindowStation.objects.get(window=win, station=station)


def test_a_window_that_starts_sets_its_station_inoperative_once(org, stations):
    station = online(org, "CS-1")
    win = window(org, station=station)

    apply_maintenance_windows(T0 - HOUR)
    assert stations.sent == []
    apply_maintenance_windows(T0)
    apply_maintenance_windows(T0 + HOUR)

    assert stations.sent == [("CS-1", "Inoperative")]
    row = outcome(win, station)
    assert (row.state, row.last_outcome, row.attempts) == ("inoperative", "accepted", 1)
    assert row.inoperative_sent_at == T0


def test_a_window_that_ends_sets_its_station_operative_again(org, stations):
    station = online(org, "CS-1")
    win = window(org, station=station)

    apply_maintenance_windows(T0)
    apply_maintenance_windows(T0 + 2 * HOUR)
    apply_maintenance_windows(T0 + 3 * HOUR)

    assert stations.sent == [("CS-1", "Inoperative"), ("CS-1", "Operative")]
    row = outcome(win, station)
    assert row.state == WindowStationState.RELEASED
    assert row.operative_sent_at == T0 + 2 * HOUR


def test_a_site_window_covers_every_station_of_the_site_and_no_other(org, other_org, stations):
    site = SiteFactory(organization=org)
    online(org, "CS-A", site=site)
    online(org, "CS-B", site=site)
    online(org, "CS-ELSEWHERE")
    online(other_org, "CS-THEIRS")
    window(org, site=site)

    apply_maintenance_windows(T0)

    assert sorted(stations.sent) == [("CS-A", "Inoperative"), ("CS-B", "Inoperative")]


def test_an_organization_window_never_reaches_an_outsiders_station(org, other_org, stations):
    online(other_org, "CS-THEIRS")
    window(org)

    apply_maintenance_windows(T0)

    assert stations.sent == []
    assert not MaintenanceWindowStation.objects.exists()


def test_overlapping_windows_keep_the_station_inoperative_until_the_last_ends(org, stations):
    station = online(org, "CS-1")
    first = window(org, station=station, end=T0 + 2 * HOUR)
    second = window(org, start=T0 + HOUR, end=T0 + 4 * HOUR)

    for hours in (0, 1, 2, 3):
        apply_maintenance_windows(T0 + hours * HOUR)
    assert stations.sent == [("CS-1", "Inoperative")]
    assert outcome(first, station).last_outcome == CommandOutcome.SHARED
    assert outcome(second, station).last_outcome == CommandOutcome.SHARED

    apply_maintenance_windows(T0 + 4 * HOUR)
    assert stations.sent == [("CS-1", "Inoperative"), ("CS-1", "Operative")]
    assert outcome(second, station).state == WindowStationState.RELEASED


def test_an_offline_station_gets_inoperative_on_the_first_tick_after_it_reconnects(org, stations):
    station = ChargingStationFactory(organization=org, ocpp_id="CS-1", connection_state="offline")
    win = window(org, station=station)

    apply_maintenance_windows(T0)
    assert stations.sent == []
    assert outcome(win, station).last_outcome == CommandOutcome.OFFLINE

    ChargingStation.objects.filter(pk=station.pk).update(connection_state="online")
    apply_maintenance_windows(T0 + HOUR)

    assert stations.sent == [("CS-1", "Inoperative")]
    assert outcome(win, station).state == WindowStationState.INOPERATIVE


def test_a_station_offline_for_the_whole_window_is_sent_nothing(org, stations):
    station = ChargingStationFactory(organization=org, ocpp_id="CS-1", connection_state="offline")
    win = window(org, station=station)

    apply_maintenance_windows(T0)
    apply_maintenance_windows(T0 + 3 * HOUR)

    assert stations.sent == []
    assert outcome(win, station).state == WindowStationState.RELEASED


def test_a_deleted_window_sets_its_station_operative_again(org, stations):
    station = online(org, "CS-1")
    win = window(org, station=station)
    apply_maintenance_windows(T0)

    win.delete()
    apply_maintenance_windows(T0 + HOUR)

    assert stations.sent == [("CS-1", "Inoperative"), ("CS-1", "Operative")]
    row = MaintenanceWindowStation.objects.get(station=station)
    assert (row.window, row.state) == (None, WindowStationState.RELEASED)


def test_a_window_cut_short_releases_its_station_at_the_next_tick(org, stations):
    station = online(org, "CS-1")
    win = window(org, station=station, end=T0 + 8 * HOUR)
    apply_maintenance_windows(T0)

    win.ends_at = T0 + HOUR
    win.save()
    apply_maintenance_windows(T0 + 2 * HOUR)

    assert stations.sent[-1] == ("CS-1", "Operative")


def test_a_window_that_only_counts_for_uptime_sends_nothing(org, stations):
    station = online(org, "CS-1")
    window(org, station=station, set_inoperative=False)

    apply_maintenance_windows(T0)

    assert stations.sent == []


def test_an_operative_the_station_did_not_answer_is_sent_again(org, stations):
    station = online(org, "CS-1")
    win = window(org, station=station)
    apply_maintenance_windows(T0)

    stations.answers["CS-1"] = CommandOutcome.TIMEOUT
    apply_maintenance_windows(T0 + 2 * HOUR)
    assert outcome(win, station).state == WindowStationState.RELEASING
    stations.answers["CS-1"] = CommandOutcome.ACCEPTED
    # Past the time another tick's send could still be waiting for its answer.
    apply_maintenance_windows(T0 + 3 * HOUR)

    assert stations.sent == [("CS-1", "Inoperative"), ("CS-1", "Operative"), ("CS-1", "Operative")]
    assert outcome(win, station).state == WindowStationState.RELEASED


def test_a_refused_inoperative_is_shown_and_not_repeated_every_minute(org, stations):
    station = online(org, "CS-1")
    win = window(org, station=station)
    stations.answers["CS-1"] = CommandOutcome.REJECTED

    apply_maintenance_windows(T0)
    apply_maintenance_windows(T0 + HOUR)
    apply_maintenance_windows(T0 + 2 * HOUR)

    # Refused: nothing changed on the station, so nothing to set back either.
    assert stations.sent == [("CS-1", "Inoperative")]
    row = outcome(win, station)
    assert (row.state, row.last_outcome) == (WindowStationState.RELEASED, "rejected")


def test_a_send_still_in_flight_is_not_repeated_by_the_next_tick(org, stations):
    station = online(org, "CS-1")
    win = window(org, station=station)
    # Another tick claimed the row a moment ago and is waiting for the station's answer.
    MaintenanceWindowStation.objects.create(
        window=win, station=station, attempts=1, inoperative_sent_at=T0
    )

    apply_maintenance_windows(T0 + timedelta(seconds=5))

    assert stations.sent == []


def test_the_beat_task_applies_the_windows_running_now(org, stations):
    station = online(org, "CS-1")
    window(org, station=station, start=datetime.now(UTC) - HOUR, end=datetime.now(UTC) + HOUR)

    assert tasks.apply_maintenance_windows.delay().get() == 1
    assert stations.sent == [("CS-1", "Inoperative")]


def test_a_station_that_refused_a_window_is_set_operative_after_an_inner_window_held_it(
    org, stations
):
    site = SiteFactory(organization=org)
    station = online(org, "CS-1", site=site)
    outer = window(org, site=site, end=T0 + 4 * HOUR)
    stations.answers["CS-1"] = CommandOutcome.REJECTED
    apply_maintenance_windows(T0)
    assert outcome(outer, station).last_outcome == CommandOutcome.REJECTED

    # A station window inside the site window: this time the station accepts Inoperative.
    stations.answers["CS-1"] = CommandOutcome.ACCEPTED
    inner = window(org, station=station, start=T0 + HOUR, end=T0 + 2 * HOUR)
    for hours in (1, 2, 3, 4):
        apply_maintenance_windows(T0 + hours * HOUR)

    assert stations.sent == [
        ("CS-1", "Inoperative"),
        ("CS-1", "Inoperative"),
        ("CS-1", "Operative"),
    ]
    assert outcome(inner, station).state == WindowStationState.RELEASED
    assert outcome(outer, station).state == WindowStationState.RELEASED
    assert outcome(outer, station).last_outcome == CommandOutcome.ACCEPTED


def test_a_running_window_moved_later_sets_its_station_inoperative_again_at_the_new_start(
    org, stations
):
    station = online(org, "CS-1")
    win = window(org, station=station)
    apply_maintenance_windows(T0)

    win.starts_at, win.ends_at = T0 + 3 * HOUR, T0 + 5 * HOUR
    win.save()
    apply_maintenance_windows(T0 + HOUR)
    assert outcome(win, station).state == WindowStationState.RELEASED
    apply_maintenance_windows(T0 + 3 * HOUR)
    apply_maintenance_windows(T0 + 5 * HOUR)

    assert stations.sent == [
        ("CS-1", "Inoperative"),
        ("CS-1", "Operative"),
        ("CS-1", "Inoperative"),
        ("CS-1", "Operative"),
    ]
    assert outcome(win, station).state == WindowStationState.RELEASED


def test_a_window_switched_off_and_on_again_sets_its_station_inoperative_again(org, stations):
    station = online(org, "CS-1")
    win = window(org, station=station)
    apply_maintenance_windows(T0)

    MaintenanceWindow.objects.filter(pk=win.pk).update(set_inoperative=False)
    apply_maintenance_windows(T0 + HOUR / 4)
    MaintenanceWindow.objects.filter(pk=win.pk).update(set_inoperative=True)
    apply_maintenance_windows(T0 + HOUR / 2)

    assert stations.sent[-1] == ("CS-1", "Inoperative")
    assert outcome(win, station).state == WindowStationState.INOPERATIVE


def by_hand(station, payload, via=RequestedVia.USER):
    return CommandLog.objects.create(
        station=station,
        command="change_availability",
        payload=payload,
        requested_via=via,
        status=CommandStatus.ACCEPTED,
    )


def test_a_station_an_operator_had_set_inoperative_is_left_so_after_the_window(org, stations):
    station = online(org, "CS-1")
    by_hand(station, {"connectorId": 0, "type": "Inoperative"})
    win = window(org, station=station)

    apply_maintenance_windows(T0)
    apply_maintenance_windows(T0 + 2 * HOUR)

    assert stations.sent == []
    row = outcome(win, station)
    assert (row.state, row.last_outcome) == ("released", "already_inoperative")


def test_one_connector_set_inoperative_by_hand_does_not_count_for_the_station(org, stations):
    station = online(org, "CS-1")
    by_hand(station, {"connectorId": 0, "type": "Operative"})
    by_hand(station, {"connectorId": 1, "type": "Inoperative"})
    window(org, station=station)

    apply_maintenance_windows(T0)
    apply_maintenance_windows(T0 + 2 * HOUR)

    assert stations.sent == [("CS-1", "Inoperative"), ("CS-1", "Operative")]


def test_an_overlapping_window_leaves_a_station_set_inoperative_by_hand_so_too(org, stations):
    station = online(org, "CS-1")
    by_hand(station, {"connectorId": 0, "type": "Inoperative"})
    first = window(org, station=station, end=T0 + 2 * HOUR)
    second = window(org, start=T0 + HOUR, end=T0 + 4 * HOUR)

    for hours in (0, 1, 2, 3, 4):
        apply_maintenance_windows(T0 + hours * HOUR)

    assert stations.sent == []
    assert outcome(second, station).last_outcome == CommandOutcome.ALREADY_INOPERATIVE
    assert outcome(first, station).state == WindowStationState.RELEASED
