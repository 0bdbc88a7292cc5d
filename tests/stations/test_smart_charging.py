"""What stations report about smart charging: the services, the station page part and the API."""

from datetime import UTC, datetime

import pytest

from organizations.choices import Role
from stations import smart_charging
from stations.models import EVChargingNeeds, ExternalChargingLimit, FirmwarePublication
from stations.smart_charging import ProfileReport
from tests.apiclients import client_as
from tests.factories import ChargingStationFactory
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SCHEDULE = {
    "id": 1,
    "chargingRateUnit": "A",
    "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 16.0},
        {"startPeriod": 3600, "limit": 8.5},
    ],
}


def profile(profile_id: int, purpose="TxDefaultProfile", stack_level=0) -> ProfileReport:
    return ProfileReport(
        profile_id=profile_id,
        purpose=purpose,
        stack_level=stack_level,
        kind="Absolute",
        profile={
            "id": profile_id,
            "stackLevel": stack_level,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [SCHEDULE],
        },
    )


def reported_everything(station):
    """One of each: a reported profile, a limit in force, EV needs and schedule, a publication."""
    smart_charging.record_reported_profiles(station, 7, 1, "CSO", [profile(11)])
    smart_charging.record_charging_limit(station, "EMS", grid_critical=True, schedules=[SCHEDULE])
    smart_charging.record_ev_charging_needs(
        station,
        1,
        energy_transfer="DC",
        needs={"requestedEnergyTransfer": "DC"},
        energy_amount=20000,
    )
    smart_charging.record_ev_charging_schedule(station, 1, SCHEDULE, T0, "Rejected")
    publication = smart_charging.record_firmware_publication(
        station, 5, "https://fw.example.com/3.0.bin", "9E107D9D372BB6826BD81D3542A419D6"
    )
    smart_charging.record_publish_firmware_status(
        station, "Published", request_id=5, locations=["http://10.0.0.2/fw.bin"]
    )
    return publication


# --- services ------------------------------------------------------------------------------------


def test_a_limit_cleared_without_an_evse_ends_every_limit_of_that_source_only(station):
    for evse in (0, 1, 2):
        smart_charging.record_charging_limit(station, "SO", evse)
    smart_charging.record_charging_limit(station, "EMS", 1)

    ended = smart_charging.clear_charging_limit(station, "SO")

    assert ended == 3
    assert list(ExternalChargingLimit.objects.active().values_list("source", "evse_number")) == [
        ("EMS", 1)
    ]


def test_a_limit_set_again_after_it_was_cleared_is_a_new_one(station):
    smart_charging.record_charging_limit(station, "EMS", 1)
    smart_charging.clear_charging_limit(station, "EMS", 1)
    smart_charging.record_charging_limit(station, "EMS", 1)

    assert ExternalChargingLimit.objects.filter(station=station).count() == 2
    assert ExternalChargingLimit.objects.active().count() == 1


def test_an_ev_schedule_without_needs_is_kept_all_the_same(station):
    smart_charging.record_ev_charging_schedule(station, 2, SCHEDULE, T0, "Accepted")

    kept = EVChargingNeeds.objects.get(station=station)
    assert (kept.evse_number, kept.energy_transfer, kept.schedule_status) == (2, "", "Accepted")


def test_the_ev_schedule_goes_with_the_latest_needs_of_its_evse(station):
    older = smart_charging.record_ev_charging_needs(station, 1, energy_transfer="DC", needs={})
    newer = smart_charging.record_ev_charging_needs(
        station, 1, energy_transfer="AC_single_phase", needs={}
    )
    other_evse = smart_charging.record_ev_charging_needs(station, 2, energy_transfer="DC", needs={})

    smart_charging.record_ev_charging_schedule(station, 1, SCHEDULE, T0, "Accepted")

    schedules = dict(EVChargingNeeds.objects.values_list("pk", "schedule_status"))
    assert schedules == {older.pk: "", newer.pk: "Accepted", other_evse.pk: ""}
    assert smart_charging.latest_ev_needs(station) == [newer, other_evse]


def test_a_publication_status_for_an_unknown_request_is_kept_as_a_publication(station):
    smart_charging.record_publish_firmware_status(station, "Downloading", request_id=42)

    kept = FirmwarePublication.objects.get(station=station)
    assert (kept.request_id, kept.status, kept.checksum) == (42, "Downloading", "")


def test_unpublishing_marks_only_the_publications_of_that_checksum(station):
    kept = smart_charging.record_firmware_publication(station, 1, "https://a/fw", "A" * 32)
    gone = smart_charging.record_firmware_publication(station, 2, "https://b/fw", "B" * 32)

    assert smart_charging.record_firmware_unpublished(station, "b" * 32) == 1

    kept.refresh_from_db()
    gone.refresh_from_db()
    assert (kept.unpublished_at, gone.unpublished_at is not None) == (None, True)


def test_schedules_read_as_one_line():
    assert smart_charging.schedule_summary([SCHEDULE]) == "16 A from 0 s, 8.5 A from 3600 s"
    assert smart_charging.schedule_summary([]) == ""


# --- the station page --------------------------------------------------------------------------


def part_url(station):
    return org_url(station.organization, f"stations/{station.pk}/parts/smart-charging/")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OWNER])
def test_the_station_page_part_shows_what_the_station_reported(org, station, role):
    publication = reported_everything(station)

    response = portal_client(org, role).get(part_url(station))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="station-reported-profiles"' in body
    assert "TxDefaultProfile" in body and "16 A from 0 s, 8.5 A from 3600 s" in body
    assert 'id="station-external-limits"' in body and "Energy management system" in body
    assert "20000 Wh" in body and "Rejected: above our limits" in body
    assert f'data-firmware-publication="{publication.pk}"' in body
    assert "http://10.0.0.2/fw.bin" in body


def test_the_part_of_a_station_that_reported_nothing_says_so(org, station):
    body = portal_client(org).get(part_url(station)).content.decode()

    assert "None reported: ask the station for them" in body
    assert "No external limit in force." in body
    assert "station-firmware-publications" not in body


def test_the_part_of_another_organizations_station_is_404(org, other_org):
    theirs = ChargingStationFactory(organization=other_org)
    reported_everything(theirs)

    url = org_url(org, f"stations/{theirs.pk}/parts/smart-charging/")
    assert portal_client(org, Role.OWNER).get(url).status_code == 404


# --- the API -----------------------------------------------------------------------------------


def api_url(station):
    return f"/api/v1/stations/{station.pk}/smart-charging/"


def test_the_api_answers_what_the_station_reported(org, station, django_assert_max_num_queries):
    reported_everything(station)

    with django_assert_max_num_queries(12):
        response = client_as(org).get(api_url(station))

    assert response.status_code == 200
    data = response.json()
    assert [
        (p["evse_number"], p["profile_id"], p["source"]) for p in data["charging_profiles"]
    ] == [(1, 11, "CSO")]
    assert data["external_limits"] == [
        {
            "evse_number": 0,
            "source": "EMS",
            "grid_critical": True,
            "schedules": [SCHEDULE],
            "reported_at": data["external_limits"][0]["reported_at"],
        }
    ]
    assert [(n["energy_amount"], n["schedule_status"]) for n in data["ev_charging_needs"]] == [
        (20000, "Rejected")
    ]
    assert [(p["checksum"], p["status"]) for p in data["firmware_publications"]] == [
        ("9e107d9d372bb6826bd81d3542a419d6", "Published")
    ]


def test_the_api_answers_404_for_another_organizations_station(org, other_org):
    theirs = ChargingStationFactory(organization=other_org)
    reported_everything(theirs)

    assert client_as(org, Role.OWNER).get(api_url(theirs)).status_code == 404
