"""Campaign safety: moved stations, pauses mid-tick, one update per station, stuck waves, clocks."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from fleet import services, tasks
from fleet.choices import CampaignState, CampaignStationState
from fleet.models import Campaign, CampaignStation
from ocpp_gateway.choices import CommandStatus
from stations.models import ChargingStation
from tests.factories import ChargingSessionFactory
from tests.fleet.factories_campaigns import (
    FakeRunner,
    fresh,
    make_campaign,
    make_site,
    make_station,
    rows,
    states,
)

pytestmark = pytest.mark.django_db

State = CampaignStationState
NIGHT_IN_EUROPE = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def move(station, organization):
    # As support would: the station now belongs to the other organization, without its site.
    ChargingStation.objects.filter(pk=station.pk).update(organization=organization, site=None)


# --- 1. A station moved to another organization ------------------------------------------------


def test_a_station_moved_to_another_organization_is_cancelled_and_not_sent(
    org, other_org, image, runner
):
    make_station(org, ocpp_id="A-STAYS")
    moved = make_station(org, ocpp_id="B-MOVED")
    campaign = make_campaign(org, image, canary_percent=100)
    services.launch_campaign(campaign)
    move(moved, other_org)

    services.advance_campaigns(NIGHT_IN_EUROPE)

    assert runner.sent_to == ["A-STAYS"]
    row = rows(campaign)["B-MOVED"]
    assert (row.state, row.error) == (
        State.CANCELLED,
        "The station moved to another organization.",
    )


def test_a_moved_stations_reports_no_longer_move_the_old_organizations_campaign(
    org, other_org, image, runner
):
    station = make_station(org, ocpp_id="MOVED")
    campaign = make_campaign(org, image, failure_threshold=0)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)
    move(station, other_org)

    services.record_firmware_progress(station.pk, "DownloadFailed")
    services.record_station_boots([station.pk])

    assert states(campaign) == {"MOVED": State.SENT}
    assert fresh(campaign).state == CampaignState.RUNNING


# --- 2. A pause stops a tick already sending ---------------------------------------------------


def test_a_manual_pause_during_a_tick_stops_the_rest_of_the_wave(org, image, runner, monkeypatch):
    for n in range(3):
        make_station(org, ocpp_id=f"CS-{n}")
    campaign = make_campaign(org, image, canary_percent=100)
    services.launch_campaign(campaign)

    def pausing(station, name, params=None, *, actor):
        # The operator pauses while the first station is being called.
        if not runner.calls:
            services.pause_campaign(Campaign.objects.get(pk=campaign.pk))
        return FakeRunner.__call__(runner, station, name, params, actor=actor)

    monkeypatch.setattr(services, "execute_command", pausing)
    services.advance_campaigns(NIGHT_IN_EUROPE)

    assert runner.sent_to == ["CS-0"]
    assert states(campaign) == {"CS-0": State.SENT, "CS-1": State.PENDING, "CS-2": State.PENDING}


def test_the_threshold_crossed_mid_tick_stops_the_rest_of_the_wave(org, image, runner):
    for n in range(3):
        make_station(org, ocpp_id=f"CS-{n}")
    runner.answers["CS-0"] = CommandStatus.REJECTED
    campaign = make_campaign(org, image, canary_percent=100, failure_threshold=0)
    services.launch_campaign(campaign)

    services.advance_campaigns(NIGHT_IN_EUROPE)

    assert runner.sent_to == ["CS-0"]
    assert fresh(campaign).state == CampaignState.PAUSED


# --- 3. One update at a time per station -------------------------------------------------------


def test_a_second_campaign_does_not_claim_a_station_another_update_is_on_its_way_to(
    org, image, runner
):
    station = make_station(org, ocpp_id="SHARED")
    first, second = make_campaign(org, image), make_campaign(org, image, name="Second")
    services.launch_campaign(first)
    services.launch_campaign(second)
    services.send_update(first, first.targets.select_related("station").get(), NIGHT_IN_EUROPE)

    # As a tick of the second campaign that looked before the first one's claim.
    sent = services.send_update(
        second, second.targets.select_related("station").get(), NIGHT_IN_EUROPE
    )

    assert sent == 0
    assert runner.sent_to == ["SHARED"]
    assert second.targets.get(station=station).state == State.PENDING


def test_the_database_refuses_two_updates_in_flight_to_one_station(org, image):
    make_station(org, ocpp_id="SHARED")
    first, second = make_campaign(org, image), make_campaign(org, image, name="Second")
    services.launch_campaign(first)
    services.launch_campaign(second)
    first.targets.update(state=State.SENT)

    with pytest.raises(IntegrityError), transaction.atomic():
        second.targets.update(state=State.DOWNLOADING)


def test_the_beat_tick_skips_while_another_tick_runs(org, image, runner):
    make_station(org, ocpp_id="ONLY")
    services.launch_campaign(make_campaign(org, image))
    assert cache.add(tasks.TICK_LOCK, 1, timeout=60)
    try:
        tasks.advance_campaigns()
        assert runner.calls == []
    finally:
        cache.delete(tasks.TICK_LOCK)

    tasks.advance_campaigns()

    assert runner.sent_to == ["ONLY"]
    # Released at the end: the next tick is not locked out.
    assert cache.add(tasks.TICK_LOCK, 1, timeout=60)
    cache.delete(tasks.TICK_LOCK)


# --- 4. No answer is not a failure --------------------------------------------------------------


def test_an_unanswered_update_stays_sent_with_a_note_and_progress_moves_it_on(org, image, runner):
    station = make_station(org, ocpp_id="QUIET")
    runner.answers["QUIET"] = CommandStatus.TIMEOUT
    campaign = make_campaign(org, image, failure_threshold=0)
    services.launch_campaign(campaign)

    services.advance_campaigns(NIGHT_IN_EUROPE)

    row = rows(campaign)["QUIET"]
    assert (row.state, row.error) == (State.SENT, "The station did not answer UpdateFirmware.")
    assert fresh(campaign).state == CampaignState.RUNNING
    services.record_firmware_progress(station.pk, "Downloading")
    assert states(campaign) == {"QUIET": State.DOWNLOADING}


# --- 5. A wave does not wait forever ------------------------------------------------------------


def test_an_unreachable_station_fails_when_its_wave_has_waited_too_long(
    org, image, runner, settings
):
    settings.FLEET_STATION_TIMEOUT_HOURS = 6
    make_station(org, ocpp_id="OFFLINE", online=False)
    campaign = make_campaign(org, image, failure_threshold=100)
    services.launch_campaign(campaign)
    launched = fresh(campaign).launched_at

    services.advance_campaigns(launched + timedelta(hours=5))
    assert states(campaign) == {"OFFLINE": State.PENDING}
    services.advance_campaigns(launched + timedelta(hours=6, minutes=1))

    row = rows(campaign)["OFFLINE"]
    assert (row.state, row.error) == (State.FAILED, "Not reachable for 6 hours.")
    assert fresh(campaign).state == CampaignState.COMPLETED


def test_a_station_charging_all_along_fails_when_its_wave_has_waited_too_long(
    org, image, runner, settings
):
    settings.FLEET_STATION_TIMEOUT_HOURS = 6
    station = make_station(org, ocpp_id="BUSY")
    ChargingSessionFactory(station=station)
    campaign = make_campaign(org, image, failure_threshold=100)
    services.launch_campaign(campaign)
    launched = fresh(campaign).launched_at
    services.advance_campaigns(launched + timedelta(hours=1))
    assert states(campaign) == {"BUSY": State.WAITING_BUSY}

    services.advance_campaigns(launched + timedelta(hours=7))

    row = rows(campaign)["BUSY"]
    assert (row.state, row.error) == (State.FAILED, "Still charging after 6 hours.")


def test_an_online_station_only_outside_its_window_does_not_time_out(org, image, runner, settings):
    settings.FLEET_STATION_TIMEOUT_HOURS = 6
    make_station(org, ocpp_id="PATIENT", site=make_site(org, "UTC"))
    campaign = make_campaign(org, image, window_start=time(1, 0), window_end=time(2, 0))
    services.launch_campaign(campaign)
    launched = fresh(campaign).launched_at
    # Seven hours on, a moment outside the window: the station waits for it.
    outside = launched + timedelta(hours=7)
    if time(1, 0) <= outside.time() < time(2, 0):
        outside += timedelta(hours=2)

    services.advance_campaigns(outside)

    assert states(campaign) == {"PATIENT": State.PENDING}
    assert runner.calls == []


# --- 6. The window is checked at each send -------------------------------------------------------


def test_the_window_is_checked_when_each_station_is_sent_not_when_the_tick_began(
    org, image, runner, monkeypatch
):
    site = make_site(org, "UTC", name="Depot")
    for n in range(2):
        make_station(org, ocpp_id=f"CS-{n}", site=site)
    campaign = make_campaign(
        org, image, canary_percent=100, window_start=time(22, 0), window_end=time(5, 0)
    )
    begin = datetime(2026, 3, 10, 4, 59, tzinfo=UTC)
    with time_machine.travel(begin, tick=False) as clock:
        services.launch_campaign(campaign)

        def slow(station, name, params=None, *, actor):
            # The first station takes two minutes to answer: the window has closed meanwhile.
            answer = FakeRunner.__call__(runner, station, name, params, actor=actor)
            clock.shift(timedelta(minutes=2))
            return answer

        monkeypatch.setattr(services, "execute_command", slow)
        services.advance_campaign(campaign.pk)

    assert runner.sent_to == ["CS-0"]
    assert rows(campaign)["CS-0"].sent_at == begin
    assert rows(campaign)["CS-1"].state == State.PENDING


# --- 7. Resume waives only the failures so far ---------------------------------------------------


def test_after_a_resume_new_failures_over_the_threshold_pause_again(org, image, runner):
    stations = [make_station(org, ocpp_id=f"CS-{n}") for n in range(10)]
    campaign = make_campaign(org, image, canary_percent=100, failure_threshold=20)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)
    for station in stations[:3]:
        services.record_firmware_progress(station.pk, "DownloadFailed")
    assert fresh(campaign).state == CampaignState.PAUSED

    services.resume_campaign(campaign)
    # One more of the seven left: 14 %, within the threshold.
    services.record_firmware_progress(stations[3].pk, "DownloadFailed")
    assert fresh(campaign).state == CampaignState.RUNNING
    services.record_firmware_progress(stations[4].pk, "DownloadFailed")

    campaign = fresh(campaign)
    assert campaign.state == CampaignState.PAUSED
    assert "2 of 7 stations of the canary wave failed" in campaign.pause_reason


# --- 8. The timeout sweep does not fail a station that just reported ---------------------------


def test_the_timeout_sweep_spares_a_station_that_reported_meanwhile(
    org, image, runner, settings, monkeypatch
):
    settings.FLEET_STATION_TIMEOUT_HOURS = 6
    make_station(org, ocpp_id="LATE")
    campaign = make_campaign(org, image, failure_threshold=100)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)
    later = NIGHT_IN_EUROPE + timedelta(hours=7)
    real = services._set_state

    def report_first(campaign, row, state, **values):
        # The station's report lands between the sweep's SELECT and its UPDATE.
        CampaignStation.objects.filter(pk=row.pk).update(
            state=State.DOWNLOADING, firmware_status="Downloading", firmware_status_at=later
        )
        return real(campaign, row, state, **values)

    monkeypatch.setattr(services, "_set_state", report_first)

    assert services.expire_silent_stations(later) == 0
    assert states(campaign) == {"LATE": State.DOWNLOADING}


# --- 9. The first day of an overnight window ----------------------------------------------------


def test_the_small_hours_of_the_first_day_belong_to_the_night_before(org, image):
    station = make_station(org, site=make_site(org, "UTC"))
    campaign = make_campaign(
        org,
        image,
        start_date=date(2026, 3, 11),
        window_start=time(22, 0),
        window_end=time(5, 0),
    )

    assert not services.in_window(campaign, station, datetime(2026, 3, 11, 3, 0, tzinfo=UTC))
    assert services.in_window(campaign, station, datetime(2026, 3, 11, 23, 0, tzinfo=UTC))
    assert services.in_window(campaign, station, datetime(2026, 3, 12, 3, 0, tzinfo=UTC))


# --- 11. The admin's inline -------------------------------------------------------------------


def test_the_admin_change_page_does_not_query_per_station(superuser_client, org, image, runner):
    def queries_with(count: int) -> int:
        for n in range(count):
            make_station(org, ocpp_id=f"N{count}-{n}")
        campaign = make_campaign(org, image, canary_percent=100, target_filter=f"search=N{count}-")
        services.launch_campaign(campaign)
        services.advance_campaign(campaign.pk, NIGHT_IN_EUROPE)
        assert all(row.command_log_id for row in campaign.targets.all())
        with CaptureQueriesContext(connection) as captured:
            response = superuser_client.get(f"/admin/fleet/campaign/{campaign.pk}/change/")
        assert response.status_code == 200
        return len(captured)

    # The admin's log link looks up the content type once per process: not what is counted.
    ContentType.objects.get_for_model(Campaign)
    assert queries_with(5) == queries_with(1)


def test_an_outsider_sees_no_campaign_row_of_ours(org, other_org, image, runner):
    make_station(org, ocpp_id="OURS")
    campaign = make_campaign(org, image)
    services.launch_campaign(campaign)

    assert not Campaign.objects.for_org(other_org).filter(pk=campaign.pk).exists()
    assert not CampaignStation.objects.for_org(other_org).exists()
