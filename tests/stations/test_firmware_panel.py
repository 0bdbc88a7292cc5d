"""The station page's "Firmware & diagnostics" section, for each role and an outsider."""

import re
from datetime import UTC, datetime

import pytest

from organizations.choices import Role
from stations.models import ChargingStation, DiagnosticsFile
from stations.services import record_diagnostics_status, record_firmware_status
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)


@pytest.fixture
def reported(station):
    ChargingStation.objects.filter(pk=station.pk).update(firmware_version="4.2.1-rc7")
    record_firmware_status(station, "Installing", WHEN)
    record_diagnostics_status(station, "Uploading", WHEN)
    DiagnosticsFile.objects.create(
        station=station, file="diagnostics/x.log", original_name="station-trace.log", size=2048
    )
    return station


def part_url(station):
    return org_url(station.organization, f"stations/{station.pk}/parts/firmware/")


def section(body: str) -> str:
    return re.search(
        r'<div id="station-firmware"(.*?)</section>', body, re.S
    )[1]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_every_member_sees_the_firmware_and_the_upload_progress(org, reported, role):
    body = portal_client(org, role).get(org_url(org, f"stations/{reported.pk}/")).content.decode()
    shown = section(body)
    assert re.search(r'<h2 id="station-firmware-heading">Firmware &(amp;)? diagnostics</h2>', body)
    assert "4.2.1-rc7" in shown
    assert 'data-firmware-status="Installing"' in shown
    assert 'data-diagnostics-status="Uploading"' in shown
    assert "station-trace.log" in shown
    assert "2.0\xa0KB" in shown


@pytest.mark.parametrize(
    ("role", "linked"),
    [(Role.VIEWER, False), (Role.OPERATOR, True), (Role.ADMIN, True), (Role.OWNER, True)],
)
def test_only_operators_and_above_get_a_download_link(org, reported, role, linked):
    upload = DiagnosticsFile.objects.get()
    body = portal_client(org, role).get(part_url(reported)).content.decode()
    link = f'href="/o/{org.slug}/stations/{reported.pk}/diagnostics/{upload.pk}/"'
    assert (link in body) is linked
    assert "station-trace.log" in body


def test_the_section_refreshes_alone_on_live_firmware_events(org, reported):
    body = portal_client(org).get(org_url(org, f"stations/{reported.pk}/")).content.decode()
    assert f"live-firmware[detail.station=={reported.pk}] from:body" in body
    part = portal_client(org).get(part_url(reported))
    assert part.status_code == 200
    assert b"<html" not in part.content
    assert b"Installing" in part.content


def test_a_station_that_reported_nothing_says_so(org, station):
    body = portal_client(org).get(part_url(station)).content.decode()
    assert body.count("None reported") == 2
    assert "No files uploaded yet." in body


def test_an_outsider_gets_404_for_the_section(org, other_org, reported):
    client = portal_client(other_org, Role.OWNER)
    assert client.get(part_url(reported)).status_code == 404
    theirs = org_url(other_org, f"stations/{reported.pk}/parts/firmware/")
    assert client.get(theirs).status_code == 404


def test_the_files_of_another_station_are_not_listed(org, reported):
    from tests.factories import ChargingStationFactory

    other = ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    body = portal_client(org, Role.OWNER).get(part_url(other)).content.decode()
    assert "station-trace.log" not in body


@pytest.mark.parametrize(
    "report",
    [
        lambda station: record_firmware_status(station, "Installed"),
        lambda station: record_diagnostics_status(station, "Uploaded"),
    ],
    ids=["firmware", "diagnostics"],
)
def test_reported_progress_is_published_as_a_live_firmware_event(
    monkeypatch, django_capture_on_commit_callbacks, org, station, report
):
    sent = []
    monkeypatch.setattr("portal.events.publish_many", sent.extend)
    with django_capture_on_commit_callbacks(execute=True):
        report(station)
    assert (org.pk, {"kind": "firmware", "station": station.pk}) in sent
