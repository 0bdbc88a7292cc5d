"""Who may charge where: authorize_id_tag and the idTagInfo it answers."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from organizations.choices import IdTokenStatus
from organizations.services import AuthorizationResult, authorize_id_tag
from sessions_app.choices import SessionState
from stations.models import ChargingStation
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
)


@pytest.fixture
def site_group(org, station):
    """An access group authorized at the station's site."""
    group = AccessGroupFactory(organization=org, name="Staff")
    station.site.access_groups.add(group)
    return group


@pytest.fixture
def card(org, site_group):
    return IdTokenFactory(organization=org, uid="04A1B2C3", access_groups=[site_group])


def test_card_in_the_site_access_group_is_accepted(station, card):
    result = authorize_id_tag(station, "04A1B2C3")

    assert result.status == "Accepted"
    assert result.id_token == card
    assert result.as_id_tag_info() == {"status": "Accepted"}


def test_id_tags_match_case_insensitively(station, card):
    assert authorize_id_tag(station, " 04a1b2c3").status == "Accepted"


def test_unknown_card_is_invalid(station, card):
    result = authorize_id_tag(station, "DEADBEEF")

    assert result.status == "Invalid"
    assert result.id_token is None


def test_empty_id_tag_is_invalid(station, card):
    assert authorize_id_tag(station, "").status == "Invalid"


def test_card_of_another_organization_is_invalid_like_an_unknown_one(station, other_org):
    outsider_group = AccessGroupFactory(organization=other_org)
    IdTokenFactory(
        organization=other_org,
        uid="0BADC0DE",
        access_groups=[outsider_group],
        parent_id_tag="OUTSIDER-PARENT",
        expires_at=datetime(2099, 1, 1, tzinfo=UTC),
    )

    result = authorize_id_tag(station, "0BADC0DE")

    assert result.as_id_tag_info() == {"status": "Invalid"}
    assert result.id_token is None


def test_outsider_card_never_authorizes_even_through_a_group_wrongly_linked_to_our_station(
    station, other_org
):
    outsider_group = AccessGroupFactory(organization=other_org)
    station.access_groups.add(outsider_group)
    station.site.access_groups.add(outsider_group)
    IdTokenFactory(organization=other_org, uid="0BADC0DE", access_groups=[outsider_group])

    assert authorize_id_tag(station, "0BADC0DE", for_start=True).status == "Invalid"


def test_tc_023_3_blocked_card_is_blocked(station, card):
    card.status = IdTokenStatus.BLOCKED
    card.save()

    assert authorize_id_tag(station, "04A1B2C3").status == "Blocked"


def test_tc_023_2_card_expired_by_status_is_expired(station, card):
    card.status = IdTokenStatus.EXPIRED
    card.save()

    assert authorize_id_tag(station, "04A1B2C3").status == "Expired"


def test_card_expired_by_date_is_expired_and_says_when(station, card):
    card.expires_at = timezone.now() - timedelta(days=1)
    card.save()

    info = authorize_id_tag(station, "04A1B2C3").as_id_tag_info()

    assert info["status"] == "Expired"
    assert info["expiryDate"].endswith("Z")


def test_card_expiring_later_is_accepted_with_its_expiry_date(station, card):
    card.expires_at = datetime(2099, 6, 30, 22, 0, tzinfo=UTC)
    card.save()

    info = authorize_id_tag(station, "04A1B2C3").as_id_tag_info()

    assert info == {"status": "Accepted", "expiryDate": "2099-06-30T22:00:00.000Z"}


def test_card_outside_the_station_and_site_access_groups_is_invalid(org, station, card):
    elsewhere = AccessGroupFactory(organization=org, name="Other depot")
    card.access_groups.set([elsewhere])

    result = authorize_id_tag(station, "04A1B2C3")

    assert result.status == "Invalid"
    assert result.id_token == card


def test_card_without_any_access_group_is_invalid(org, station):
    IdTokenFactory(organization=org, uid="AB12")

    assert authorize_id_tag(station, "AB12").status == "Invalid"


def test_card_in_the_station_extra_access_group_is_accepted(org, station):
    extra = AccessGroupFactory(organization=org, name="Fleet")
    station.access_groups.add(extra)
    IdTokenFactory(organization=org, uid="F1EE7", access_groups=[extra])

    assert authorize_id_tag(station, "F1EE7").status == "Accepted"


def test_station_extra_access_group_does_not_open_other_stations_of_the_site(org, station):
    extra = AccessGroupFactory(organization=org, name="Fleet")
    station.access_groups.add(extra)
    IdTokenFactory(organization=org, uid="F1EE7", access_groups=[extra])
    neighbour = ChargingStationFactory(organization=org, site=station.site)

    assert authorize_id_tag(neighbour, "F1EE7").status == "Invalid"


def test_tc_053_parent_id_tag_is_returned(station, card):
    card.parent_id_tag = "FLEET-42"
    card.save()

    assert authorize_id_tag(station, "04A1B2C3").as_id_tag_info() == {
        "status": "Accepted",
        "parentIdTag": "FLEET-42",
    }


def test_card_at_its_concurrent_limit_gets_concurrent_tx_for_a_start(org, station, card):
    elsewhere = ChargingStationFactory(organization=org)
    ChargingSessionFactory(station=elsewhere, id_token=card, state=SessionState.ACTIVE)

    assert authorize_id_tag(station, "04A1B2C3", for_start=True).status == "ConcurrentTx"


def test_card_below_its_concurrent_limit_is_accepted_for_a_start(org, station, card):
    card.max_concurrent_transactions = 2
    card.save()
    ChargingSessionFactory(station=station, id_token=card)

    assert authorize_id_tag(station, "04A1B2C3", for_start=True).status == "Accepted"


def test_finished_sessions_do_not_count_against_the_concurrent_limit(station, card):
    ChargingSessionFactory(station=station, id_token=card, state=SessionState.COMPLETED)

    assert authorize_id_tag(station, "04A1B2C3", for_start=True).status == "Accepted"


def test_card_without_concurrent_limit_may_start_any_number_of_sessions(org, station, card):
    card.max_concurrent_transactions = None
    card.save()
    for _ in range(3):
        ChargingSessionFactory(station=ChargingStationFactory(organization=org), id_token=card)

    assert authorize_id_tag(station, "04A1B2C3", for_start=True).status == "Accepted"


def test_concurrency_is_not_checked_when_not_starting(station, card):
    ChargingSessionFactory(station=station, id_token=card)

    assert authorize_id_tag(station, "04A1B2C3").status == "Accepted"


def test_session_left_on_the_connector_being_started_does_not_count(station, card):
    connector = station.connectors.get(connector_id=1)
    ChargingSessionFactory(station=station, connector=connector, id_token=card)

    result = authorize_id_tag(station, "04A1B2C3", for_start=True, connector=connector)

    assert result.status == "Accepted"


def test_station_in_the_unassigned_pool_authorizes_nothing(org, card):
    pool_station = ChargingStationFactory(organization=None, site=None)

    assert authorize_id_tag(pool_station, "04A1B2C3").status == "Invalid"


def test_station_assigned_while_connected_authorizes_with_its_new_site_at_once(org, station, card):
    connected = ChargingStationFactory(organization=None, site=None)
    ChargingStation.objects.filter(pk=connected.pk).update(organization=org, site=station.site)

    # `connected` is the stale instance the consumer loaded before the assignment.
    assert authorize_id_tag(connected, "04A1B2C3").status == "Accepted"


def test_authorization_with_concurrency_check_takes_one_query(
    station, card, django_assert_num_queries
):
    with django_assert_num_queries(1):
        authorize_id_tag(station, "04A1B2C3", for_start=True)


def test_id_tag_info_leaves_out_absent_optional_keys():
    assert AuthorizationResult(status="Invalid").as_id_tag_info() == {"status": "Invalid"}
