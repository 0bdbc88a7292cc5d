"""The local authorization list: which cards, with which idTagInfo, full or as changes."""

from datetime import UTC, datetime

import pytest

from organizations.choices import IdTokenStatus
from stations.local_list import authorized_tokens, build_entries, differences, plan_update
from stations.models import ChargingStation
from stations.services import record_local_list
from tests.factories import AccessGroupFactory, IdTokenFactory

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
LATER = datetime(2027, 1, 1, tzinfo=UTC)
EARLIER = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def station_group(org, station):
    group = AccessGroupFactory(organization=org, name="Station drivers")
    station.access_groups.add(group)
    return group


@pytest.fixture
def site_group(org, station):
    group = AccessGroupFactory(organization=org, name="Site drivers")
    station.site.access_groups.add(group)
    return group


def test_the_list_holds_the_cards_of_the_groups_of_the_station_and_of_its_site(
    org, station, station_group, site_group
):
    IdTokenFactory(organization=org, uid="04AA0001", access_groups=[station_group])
    IdTokenFactory(organization=org, uid="04AA0002", access_groups=[site_group])
    elsewhere = AccessGroupFactory(organization=org, name="Other site")
    IdTokenFactory(organization=org, uid="04AA0003", access_groups=[elsewhere])
    IdTokenFactory(organization=org, uid="04AA0004")

    assert set(build_entries(station, NOW)) == {"04AA0001", "04AA0002"}


def test_a_card_of_another_organization_is_never_listed_even_in_a_group_linked_here(
    station, other_org
):
    theirs = AccessGroupFactory(organization=other_org, name="Their drivers")
    station.access_groups.add(theirs)
    IdTokenFactory(organization=other_org, uid="04BB0001", access_groups=[theirs])

    assert build_entries(station, NOW) == {}


def test_a_station_of_the_unassigned_pool_has_an_empty_list(org):
    group = AccessGroupFactory(organization=org)
    pending = ChargingStation.objects.create(ocpp_id="NEW-1", organization=None)
    pending.access_groups.add(group)
    IdTokenFactory(organization=org, uid="04CC0001", access_groups=[group])

    assert build_entries(pending, NOW) == {}


def test_a_card_in_two_authorized_groups_is_listed_once(org, station, station_group, site_group):
    IdTokenFactory(organization=org, uid="04DD0001", access_groups=[station_group, site_group])

    assert list(authorized_tokens(station).values_list("uid", flat=True)) == ["04DD0001"]


def test_an_accepted_card_carries_its_expiry_date_and_parent_id_tag(org, station, station_group):
    IdTokenFactory(
        organization=org,
        uid="04EE0001",
        access_groups=[station_group],
        expires_at=LATER,
        parent_id_tag="FLEET-7",
    )

    assert build_entries(station, NOW) == {
        "04EE0001": {
            "status": "Accepted",
            "expiryDate": "2027-01-01T00:00:00.000Z",
            "parentIdTag": "FLEET-7",
        }
    }


def test_a_blocked_card_is_listed_as_blocked(org, station, station_group):
    IdTokenFactory(
        organization=org, uid="04EE0002", access_groups=[station_group], status="Blocked"
    )

    assert build_entries(station, NOW) == {"04EE0002": {"status": "Blocked"}}


def test_a_card_past_its_expiry_date_is_listed_as_expired(org, station, station_group):
    IdTokenFactory(
        organization=org, uid="04EE0003", access_groups=[station_group], expires_at=EARLIER
    )

    assert build_entries(station, NOW) == {
        "04EE0003": {"status": "Expired", "expiryDate": "2026-01-01T00:00:00.000Z"}
    }


def test_a_card_marked_expired_is_listed_as_expired(org, station, station_group):
    IdTokenFactory(
        organization=org,
        uid="04EE0004",
        access_groups=[station_group],
        status=IdTokenStatus.EXPIRED,
    )

    assert build_entries(station, NOW) == {"04EE0004": {"status": "Expired"}}


def test_a_card_whose_uid_or_parent_does_not_fit_ocpp_16_is_left_out(org, station, station_group):
    IdTokenFactory(organization=org, uid="E" * 21, access_groups=[station_group])
    IdTokenFactory(
        organization=org, uid="04FF0001", access_groups=[station_group], parent_id_tag="P" * 21
    )
    IdTokenFactory(organization=org, uid="F" * 20, access_groups=[station_group])

    assert set(build_entries(station, NOW)) == {"F" * 20}


def test_a_full_update_sends_every_entry_with_the_version_after_the_stored_one(
    org, station, station_group
):
    IdTokenFactory(organization=org, uid="04000002", access_groups=[station_group])
    IdTokenFactory(
        organization=org, uid="04000001", access_groups=[station_group], status="Blocked"
    )
    station.local_list_version = 4
    station.local_list_snapshot = {"04000001": {"status": "Blocked"}}

    update = plan_update(station, "Full", NOW)

    assert update.as_ocpp16() == {
        "listVersion": 5,
        "updateType": "Full",
        "localAuthorizationList": [
            {"idTag": "04000001", "idTagInfo": {"status": "Blocked"}},
            {"idTag": "04000002", "idTagInfo": {"status": "Accepted"}},
        ],
    }
    assert update.entries == {
        "04000001": {"status": "Blocked"},
        "04000002": {"status": "Accepted"},
    }


def test_a_full_update_of_a_station_without_cards_empties_its_list(station):
    assert plan_update(station, "Full", NOW).as_ocpp16() == {
        "listVersion": 1,
        "updateType": "Full",
        "localAuthorizationList": [],
    }


def test_a_differential_update_sends_additions_changes_and_removals_only(
    org, station, station_group
):
    IdTokenFactory(organization=org, uid="04000001", access_groups=[station_group])
    IdTokenFactory(
        organization=org, uid="04000002", access_groups=[station_group], status="Blocked"
    )
    IdTokenFactory(organization=org, uid="04000004", access_groups=[station_group])
    station.local_list_version = 2
    station.local_list_snapshot = {
        "04000001": {"status": "Accepted"},
        "04000002": {"status": "Accepted"},
        "04000003": {"status": "Accepted"},
    }

    update = plan_update(station, "Differential", NOW)

    assert update.as_ocpp16() == {
        "listVersion": 3,
        "updateType": "Differential",
        "localAuthorizationList": [
            {"idTag": "04000002", "idTagInfo": {"status": "Blocked"}},
            {"idTag": "04000003"},
            {"idTag": "04000004", "idTagInfo": {"status": "Accepted"}},
        ],
    }
    assert set(update.entries) == {"04000001", "04000002", "04000004"}


def test_differences_are_empty_when_nothing_changed():
    entries = {"04000001": {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00.000Z"}}

    assert differences(entries, dict(entries)) == []


def test_a_new_expiry_date_is_a_change():
    held = {"04000001": {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00.000Z"}}
    wanted = {"04000001": {"status": "Accepted", "expiryDate": "2028-01-01T00:00:00.000Z"}}

    assert differences(held, wanted) == [{"idTag": "04000001", "idTagInfo": wanted["04000001"]}]


def test_an_accepted_list_is_stored_with_its_version(station):
    assert record_local_list(station, 3, {"04000001": {"status": "Accepted"}})

    stored = ChargingStation.objects.get(pk=station.pk)
    assert (stored.local_list_version, stored.local_list_snapshot) == (
        3,
        {"04000001": {"status": "Accepted"}},
    )


def test_a_late_answer_to_an_older_list_does_not_overwrite_a_newer_one(station):
    record_local_list(station, 3, {"04000003": {"status": "Accepted"}})

    assert not record_local_list(
        ChargingStation.objects.get(pk=station.pk), 2, {"04000002": {"status": "Accepted"}}
    )
    stored = ChargingStation.objects.get(pk=station.pk)
    assert (stored.local_list_version, list(stored.local_list_snapshot)) == (3, ["04000003"])
