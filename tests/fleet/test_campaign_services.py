"""Firmware campaigns: targeting, windows, waves, the threshold, hand controls and progress."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from fleet import services
from fleet.choices import CampaignState, CampaignStationState
from ocpp_gateway.choices import CommandStatus
from sessions_app.choices import SessionState
from stations.choices import OcppVersion
from stations.services import record_boot, record_firmware_status
from tests.factories import ChargingSessionFactory
from tests.fleet.factories_campaigns import (
    NEW,
    fresh,
    make_campaign,
    make_image,
    make_site,
    make_station,
    rows,
    states,
)

State = CampaignStationState
# 02:00 UTC: 03:00 in Stockholm, 21:00 the evening before in New York.
NIGHT_IN_EUROPE = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def report(station, *statuses):
    """The station's FirmwareStatusNotifications, as the gateway records them."""
    for status in statuses:
        services.record_firmware_progress(station.pk, status)


def boot(station, version):
    record_boot(station, firmware_version=version)
    services.record_station_boots([station.pk])


# --- Targeting ---------------------------------------------------------------------------------


def test_launch_never_includes_another_organizations_station(org, other_org, image, runner):
    ours = make_station(org, ocpp_id="OURS")
    theirs = make_station(other_org, ocpp_id="THEIRS")
    campaign = make_campaign(org, image)
    # Even written into the criteria behind the services' back, the outsider stays out.
    campaign.target_stations.add(ours, theirs)

    services.launch_campaign(campaign)

    assert list(rows(campaign)) == ["OURS"]


def test_create_campaign_drops_sites_and_stations_of_another_organization(org, other_org, image):
    foreign_site = make_site(other_org, name="Foreign")
    foreign_station = make_station(other_org, ocpp_id="FOREIGN")

    campaign = make_campaign(org, image, sites=[foreign_site], stations=[foreign_station])

    assert list(campaign.target_sites.all()) == []
    assert list(campaign.target_stations.all()) == []


def test_targets_meet_every_criterion_given(org, image, runner):
    north, south = make_site(org, name="North"), make_site(org, name="South")
    make_station(org, ocpp_id="N-OLD", site=north)
    make_station(org, ocpp_id="N-OTHER-VERSION", site=north, firmware_version="0.9.0")
    make_station(org, ocpp_id="S-OLD", site=south)
    campaign = make_campaign(org, image, sites=[north], target_version="1.0.0")

    services.launch_campaign(campaign)

    assert list(rows(campaign)) == ["N-OLD"]


def test_a_station_list_filter_selects_targets(org, image, runner):
    make_station(org, ocpp_id="DEPOT-1")
    make_station(org, ocpp_id="DEPOT-2")
    make_station(org, ocpp_id="STREET-1")
    campaign = make_campaign(org, image, target_filter="search=depot")

    services.launch_campaign(campaign)

    assert sorted(rows(campaign)) == ["DEPOT-1", "DEPOT-2"]


def test_an_invalid_station_list_filter_is_reported(org):
    assert services.filter_errors(org, "connection_state=sideways")


def test_stations_the_image_is_not_for_are_left_out_and_counted(org, image, runner):
    make_station(org, ocpp_id="ACME")
    make_station(org, ocpp_id="OTHER-VENDOR", vendor="Otherco")

    result = services.launch_campaign(make_campaign(org, image))

    assert (result.targets, result.not_fitting) == (1, 1)


def test_a_station_already_on_the_version_is_confirmed_at_launch(org, image, runner):
    make_station(org, ocpp_id="CS-UP-TO-DATE", firmware_version=NEW)
    make_station(org, ocpp_id="CS-OUTDATED")
    campaign = make_campaign(org, image, canary_percent=100)

    services.launch_campaign(campaign)
    services.advance_campaign(campaign.pk, NIGHT_IN_EUROPE)

    assert states(campaign) == {"CS-UP-TO-DATE": State.CONFIRMED, "CS-OUTDATED": State.SENT}
    assert runner.sent_to == ["CS-OUTDATED"]


def test_launch_without_any_matching_station_is_refused_and_stays_a_draft(org, image):
    campaign = make_campaign(org, image)

    with pytest.raises(services.CampaignRefused):
        services.launch_campaign(campaign)

    assert fresh(campaign).state == CampaignState.DRAFT


# --- Waves -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "canary", "size", "expected"),
    [
        (1, 10, 5, [0]),
        (5, 10, 2, [0, 1, 1, 2, 2]),
        (10, 20, 4, [0, 0, 1, 1, 1, 1, 2, 2]),
        (3, 100, 1, [0, 0, 0]),
    ],
)
def test_waves_start_with_a_canary_of_at_least_one_station(count, canary, size, expected):
    assert services.plan_waves(count, canary, size)[: len(expected)] == expected
    assert len(services.plan_waves(count, canary, size)) == count


def test_only_the_canary_wave_is_sent_until_it_is_confirmed(org, image, runner):
    for n in range(5):
        make_station(org, ocpp_id=f"CS-{n}", site=make_site(org, name=f"Site {n}"))
    campaign = make_campaign(org, image, canary_percent=20, wave_size=2)
    services.launch_campaign(campaign)

    services.advance_campaigns(NIGHT_IN_EUROPE)
    assert runner.sent_to == ["CS-0"]

    canary = rows(campaign)["CS-0"].station
    report(canary, "Downloading", "Downloaded", "Installing", "Installed")
    boot(canary, NEW)
    services.advance_campaigns(NIGHT_IN_EUROPE)

    assert runner.sent_to == ["CS-0", "CS-1", "CS-2"]
    assert fresh(campaign).current_wave == 1


def test_a_campaign_completes_when_every_station_is_confirmed(org, image, runner):
    station = make_station(org, ocpp_id="ONLY")
    campaign = make_campaign(org, image)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)

    report(station, "Downloading", "Downloaded", "Installing", "Installed")
    boot(station, NEW)

    campaign = fresh(campaign)
    assert campaign.state == CampaignState.COMPLETED
    assert rows(campaign)["ONLY"].version_after == NEW


# --- The failure threshold, resume, cancel, retry -----------------------------------------------


def test_a_failing_canary_pauses_the_campaign_with_the_reason(org, image, runner):
    canary = make_station(org, ocpp_id="A-CANARY")
    make_station(org, ocpp_id="B-REST")
    campaign = make_campaign(org, image, canary_percent=50, wave_size=1, failure_threshold=0)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)

    report(canary, "Downloading", "DownloadFailed")
    services.advance_campaigns(NIGHT_IN_EUROPE)

    campaign = fresh(campaign)
    assert campaign.state == CampaignState.PAUSED
    assert "1 of 1 stations of the canary wave failed" in campaign.pause_reason
    assert rows(campaign)["A-CANARY"].error == "The station reported DownloadFailed."
    assert runner.sent_to == ["A-CANARY"]


def test_failures_within_the_threshold_do_not_pause(org, image, runner):
    stations = [make_station(org, ocpp_id=f"CS-{n}") for n in range(4)]
    campaign = make_campaign(org, image, canary_percent=100, failure_threshold=25)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)

    report(stations[0], "InstallationFailed")

    assert fresh(campaign).state == CampaignState.RUNNING


def test_resume_accepts_the_waves_failures_and_goes_on(org, image, runner):
    canary = make_station(org, ocpp_id="A-CANARY")
    make_station(org, ocpp_id="B-REST")
    campaign = make_campaign(org, image, canary_percent=50, wave_size=1, failure_threshold=0)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)
    report(canary, "InvalidSignature")
    assert fresh(campaign).state == CampaignState.PAUSED

    services.resume_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)

    campaign = fresh(campaign)
    assert (campaign.state, campaign.current_wave, campaign.pause_reason) == (
        CampaignState.RUNNING,
        1,
        "",
    )
    assert runner.sent_to == ["A-CANARY", "B-REST"]


def test_a_paused_campaign_sends_nothing(org, image, runner):
    make_station(org, ocpp_id="ONLY")
    campaign = make_campaign(org, image)
    services.launch_campaign(campaign)

    services.pause_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)

    assert runner.calls == []
    assert fresh(campaign).pause_reason == "Paused."


def test_cancel_cancels_waiting_stations_and_follows_the_ones_sent(org, image, runner):
    sent = make_station(org, ocpp_id="A-SENT")
    make_station(org, ocpp_id="B-WAITING")
    campaign = make_campaign(org, image, canary_percent=50, wave_size=1)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)

    assert services.cancel_campaign(campaign) == 1
    report(sent, "Downloading")

    assert states(campaign) == {"A-SENT": State.DOWNLOADING, "B-WAITING": State.CANCELLED}
    assert fresh(campaign).state == CampaignState.CANCELLED


def test_retry_sends_a_failed_station_again_and_reopens_a_completed_campaign(org, image, runner):
    station = make_station(org, ocpp_id="ONLY")
    campaign = make_campaign(org, image, failure_threshold=100)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)
    report(station, "DownloadFailed")
    assert fresh(campaign).state == CampaignState.COMPLETED

    assert services.retry_failed(campaign) == 1
    services.advance_campaigns(NIGHT_IN_EUROPE)

    row = rows(campaign)["ONLY"]
    assert (row.state, row.attempts, row.error) == (State.SENT, 2, "")
    assert fresh(campaign).state == CampaignState.RUNNING


def test_retry_without_failed_stations_is_refused(org, image, runner):
    make_station(org, ocpp_id="ONLY")
    campaign = make_campaign(org, image)
    services.launch_campaign(campaign)

    with pytest.raises(services.CampaignRefused):
        services.retry_failed(campaign)


def test_a_rejected_update_counts_as_a_failure(org, image, runner):
    make_station(org, ocpp_id="GRUMPY")
    runner.answers["GRUMPY"] = CommandStatus.REJECTED
    campaign = make_campaign(org, image, failure_threshold=0)
    services.launch_campaign(campaign)

    services.advance_campaigns(NIGHT_IN_EUROPE)

    row = rows(campaign)["GRUMPY"]
    assert (row.state, row.error) == (State.FAILED, "The station rejected the update (Rejected).")
    assert row.command_log.status == CommandStatus.REJECTED
    assert fresh(campaign).state == CampaignState.PAUSED


def test_a_station_gone_offline_before_the_call_waits_for_the_next_tick(org, image, runner):
    make_station(org, ocpp_id="FLAKY")
    runner.answers["FLAKY"] = CommandStatus.OFFLINE
    campaign = make_campaign(org, image)
    services.launch_campaign(campaign)

    services.advance_campaigns(NIGHT_IN_EUROPE)

    row = rows(campaign)["FLAKY"]
    assert (row.state, row.attempts) == (State.PENDING, 0)


def test_an_offline_station_is_not_sent_the_update(org, image, runner):
    make_station(org, ocpp_id="ASLEEP", online=False)
    campaign = make_campaign(org, image)
    services.launch_campaign(campaign)

    services.advance_campaigns(NIGHT_IN_EUROPE)

    assert runner.calls == []


# --- Windows in each site's time zone ---------------------------------------------------------


def test_the_window_is_applied_in_each_sites_time_zone(org, image, runner):
    make_station(org, ocpp_id="STOCKHOLM", site=make_site(org, "Europe/Stockholm", name="Sthlm"))
    make_station(org, ocpp_id="NEW-YORK", site=make_site(org, "America/New_York", name="NYC"))
    campaign = make_campaign(
        org, image, canary_percent=100, window_start=time(1, 0), window_end=time(5, 0)
    )
    services.launch_campaign(campaign)

    services.advance_campaigns(NIGHT_IN_EUROPE)
    assert runner.sent_to == ["STOCKHOLM"]

    # 07:00 UTC is 02:00 in New York (EST) and 08:00 in Stockholm.
    services.advance_campaigns(datetime(2026, 3, 10, 7, 0, tzinfo=UTC))
    assert runner.sent_to == ["STOCKHOLM", "NEW-YORK"]


def test_a_site_without_a_time_zone_uses_the_organizations(org, image):
    org.timezone = "Asia/Tokyo"
    org.save()
    station = make_station(org, site=make_site(org, ""))
    campaign = make_campaign(org, image, window_start=time(9, 0), window_end=time(10, 0))

    # 00:30 UTC is 09:30 in Tokyo.
    assert services.in_window(campaign, station, datetime(2026, 3, 10, 0, 30, tzinfo=UTC))
    assert not services.in_window(campaign, station, datetime(2026, 3, 10, 9, 30, tzinfo=UTC))


def test_an_overnight_window_spans_midnight(org, image):
    station = make_station(org, site=make_site(org, "UTC"))
    campaign = make_campaign(org, image, window_start=time(22, 0), window_end=time(4, 0))

    assert services.in_window(campaign, station, datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
    assert services.in_window(campaign, station, datetime(2026, 3, 11, 3, 59, tzinfo=UTC))
    assert not services.in_window(campaign, station, datetime(2026, 3, 11, 4, 0, tzinfo=UTC))
    assert not services.in_window(campaign, station, datetime(2026, 3, 10, 12, 0, tzinfo=UTC))


def test_nothing_is_sent_before_the_first_day_at_the_site(org, image):
    station = make_station(org, site=make_site(org, "Pacific/Auckland"))
    campaign = make_campaign(org, image, start_date=date(2026, 3, 11))

    # 12:00 UTC on the 10th is already the 11th in Auckland, not yet at UTC.
    assert services.in_window(campaign, station, datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    assert not services.in_window(campaign, station, datetime(2026, 3, 10, 10, 0, tzinfo=UTC))


# --- Running sessions -------------------------------------------------------------------------


def test_a_charging_station_waits_until_its_session_ends(org, image, runner):
    station = make_station(org, ocpp_id="BUSY")
    session = ChargingSessionFactory(station=station)
    campaign = make_campaign(org, image)
    services.launch_campaign(campaign)

    services.advance_campaigns(NIGHT_IN_EUROPE)
    assert (runner.calls, states(campaign)) == ([], {"BUSY": State.WAITING_BUSY})

    session.state = SessionState.COMPLETED
    session.save()
    services.advance_campaigns(NIGHT_IN_EUROPE)

    assert runner.sent_to == ["BUSY"]


def test_force_sends_to_a_charging_station(org, image, runner):
    station = make_station(org, ocpp_id="BUSY")
    ChargingSessionFactory(station=station)
    campaign = make_campaign(org, image, force=True)
    services.launch_campaign(campaign)

    services.advance_campaigns(NIGHT_IN_EUROPE)

    assert runner.sent_to == ["BUSY"]


# --- What is sent -----------------------------------------------------------------------------


def test_a_201_station_gets_the_signature_and_a_16_station_does_not(org, runner):
    image = make_image(org, signed=True)
    make_station(org, ocpp_id="A-16")
    make_station(org, ocpp_id="B-201", ocpp_version=OcppVersion.V201)
    campaign = make_campaign(org, image, canary_percent=100)
    services.launch_campaign(campaign)

    services.advance_campaigns(NIGHT_IN_EUROPE)

    params = {ocpp_id: params for ocpp_id, _name, params in runner.calls}
    assert set(params["A-16"]) == {"location"}
    assert params["B-201"]["signature"] == image.signature
    assert params["B-201"]["signing_certificate"] == image.signing_certificate
    assert params["A-16"]["location"].startswith("http")


# --- Progress ---------------------------------------------------------------------------------


def test_a_boot_with_another_version_fails_the_station(org, image, runner):
    station = make_station(org, ocpp_id="STUBBORN")
    campaign = make_campaign(org, image, failure_threshold=100)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)
    report(station, "Downloading", "Downloaded", "Installing", "Installed")

    boot(station, "1.0.0")

    row = rows(campaign)["STUBBORN"]
    assert (row.state, row.version_after, row.error) == (
        State.FAILED,
        "1.0.0",
        "Booted with version 1.0.0.",
    )


def test_a_silent_station_fails_after_the_timeout(org, image, runner, settings):
    settings.FLEET_STATION_TIMEOUT_HOURS = 6
    make_station(org, ocpp_id="SILENT")
    campaign = make_campaign(org, image, failure_threshold=100)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)

    services.advance_campaigns(NIGHT_IN_EUROPE + timedelta(hours=5))
    assert states(campaign) == {"SILENT": State.SENT}
    services.advance_campaigns(NIGHT_IN_EUROPE + timedelta(hours=7))

    row = rows(campaign)["SILENT"]
    assert (row.state, row.error) == (State.FAILED, "No progress reported for 6 hours.")
    assert fresh(campaign).state == CampaignState.COMPLETED


def test_firmware_status_events_reach_the_campaign(
    org, image, runner, django_capture_on_commit_callbacks
):
    station = make_station(org, ocpp_id="REPORTER")
    campaign = make_campaign(org, image)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)

    with django_capture_on_commit_callbacks(execute=True):
        record_firmware_status(station, "Downloading")

    row = rows(campaign)["REPORTER"]
    assert (row.state, row.firmware_status) == (State.DOWNLOADING, "Downloading")


def test_boot_events_confirm_the_version(org, image, runner, django_capture_on_commit_callbacks):
    station = make_station(org, ocpp_id="BOOTER")
    campaign = make_campaign(org, image)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)
    report(station, "Installed")

    with django_capture_on_commit_callbacks(execute=True):
        record_boot(station, firmware_version=NEW)

    assert states(campaign) == {"BOOTER": State.CONFIRMED}
    assert fresh(campaign).state == CampaignState.COMPLETED


def test_another_organizations_station_reports_touch_nothing_of_ours(org, other_org, image, runner):
    make_station(org, ocpp_id="OURS")
    outsider = make_station(other_org, ocpp_id="THEIRS")
    campaign = make_campaign(org, image)
    services.launch_campaign(campaign)
    services.advance_campaigns(NIGHT_IN_EUROPE)

    report(outsider, "DownloadFailed")
    boot(outsider, "9.9.9")

    assert states(campaign) == {"OURS": State.SENT}
