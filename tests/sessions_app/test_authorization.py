"""Who may charge where: the authorization chain, its local cards, and what works offline."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from cards.choices import IdTokenStatus
from sessions_app import authorization
from sessions_app.authorization import (
    AuthorizationResult,
    authorize,
    authorized_tokens,
    offline_authorizations,
    register_authorizer,
    unregister_authorizer,
)
from sessions_app.choices import AuthorizationStatus, SessionState
from stations.models import ChargingStation
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
LATER = datetime(2027, 1, 1, tzinfo=UTC)
EARLIER = datetime(2026, 1, 1, tzinfo=UTC)


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
    result = authorize(station, "04A1B2C3")

    assert result == AuthorizationResult(status="Accepted", id_token=card)
    assert result.accepted


def test_id_tags_match_case_insensitively(station, card):
    assert authorize(station, " 04a1b2c3").status == "Accepted"


def test_unknown_card_is_invalid(station, card):
    result = authorize(station, "DEADBEEF")

    assert result.status == "Invalid"
    assert result.id_token is None


def test_empty_id_tag_is_invalid(station, card):
    assert authorize(station, "").status == "Invalid"


def test_card_of_another_organization_is_invalid_like_an_unknown_one(station, other_org):
    outsider_group = AccessGroupFactory(organization=other_org)
    IdTokenFactory(
        organization=other_org,
        uid="0BADC0DE",
        access_groups=[outsider_group],
        parent_id_tag="OUTSIDER-PARENT",
        expires_at=datetime(2099, 1, 1, tzinfo=UTC),
    )

    result = authorize(station, "0BADC0DE")

    # Nothing of the outsider's card (its expiry, its parent) comes back.
    assert result == AuthorizationResult(status="Invalid")


def test_outsider_card_never_authorizes_even_through_a_group_wrongly_linked_to_our_station(
    station, other_org
):
    outsider_group = AccessGroupFactory(organization=other_org)
    station.access_groups.add(outsider_group)
    station.site.access_groups.add(outsider_group)
    IdTokenFactory(organization=other_org, uid="0BADC0DE", access_groups=[outsider_group])

    assert authorize(station, "0BADC0DE", for_start=True).status == "Invalid"


def test_tc_023_3_blocked_card_is_blocked(station, card):
    card.status = IdTokenStatus.BLOCKED
    card.save()

    assert authorize(station, "04A1B2C3").status == "Blocked"


def test_tc_023_2_card_expired_by_status_is_expired(station, card):
    card.status = IdTokenStatus.EXPIRED
    card.save()

    assert authorize(station, "04A1B2C3").status == "Expired"


def test_card_expired_by_date_is_expired_and_says_when(station, card):
    card.expires_at = timezone.now() - timedelta(days=1)
    card.save()

    result = authorize(station, "04A1B2C3")

    assert (result.status, result.expires_at) == ("Expired", card.expires_at)


def test_card_expiring_later_is_accepted_with_its_expiry_date(station, card):
    card.expires_at = datetime(2099, 6, 30, 22, 0, tzinfo=UTC)
    card.save()

    result = authorize(station, "04A1B2C3")

    assert (result.status, result.expires_at) == ("Accepted", datetime(2099, 6, 30, 22, tzinfo=UTC))


def test_card_outside_the_station_and_site_access_groups_is_invalid(org, station, card):
    elsewhere = AccessGroupFactory(organization=org, name="Other depot")
    card.access_groups.set([elsewhere])

    result = authorize(station, "04A1B2C3")

    assert result.status == "Invalid"
    assert result.id_token == card


def test_card_without_any_access_group_is_invalid(org, station):
    IdTokenFactory(organization=org, uid="AB12")

    assert authorize(station, "AB12").status == "Invalid"


def test_card_in_the_station_extra_access_group_is_accepted(org, station):
    extra = AccessGroupFactory(organization=org, name="Fleet")
    station.access_groups.add(extra)
    IdTokenFactory(organization=org, uid="F1EE7", access_groups=[extra])

    assert authorize(station, "F1EE7").status == "Accepted"


def test_station_extra_access_group_does_not_open_other_stations_of_the_site(org, station):
    extra = AccessGroupFactory(organization=org, name="Fleet")
    station.access_groups.add(extra)
    IdTokenFactory(organization=org, uid="F1EE7", access_groups=[extra])
    neighbour = ChargingStationFactory(organization=org, site=station.site)

    assert authorize(neighbour, "F1EE7").status == "Invalid"


def test_tc_053_parent_id_tag_is_returned(station, card):
    card.parent_id_tag = "FLEET-42"
    card.save()

    result = authorize(station, "04A1B2C3")

    assert (result.status, result.parent_id_tag) == ("Accepted", "FLEET-42")


def test_card_at_its_concurrent_limit_gets_concurrent_tx_for_a_start(org, station, card):
    elsewhere = ChargingStationFactory(organization=org)
    ChargingSessionFactory(station=elsewhere, id_token=card, state=SessionState.ACTIVE)

    assert authorize(station, "04A1B2C3", for_start=True).status == "ConcurrentTx"


def test_card_below_its_concurrent_limit_is_accepted_for_a_start(org, station, card):
    card.max_concurrent_transactions = 2
    card.save()
    ChargingSessionFactory(station=station, id_token=card)

    assert authorize(station, "04A1B2C3", for_start=True).status == "Accepted"


def test_finished_sessions_do_not_count_against_the_concurrent_limit(station, card):
    ChargingSessionFactory(station=station, id_token=card, state=SessionState.COMPLETED)

    assert authorize(station, "04A1B2C3", for_start=True).status == "Accepted"


def test_card_without_concurrent_limit_may_start_any_number_of_sessions(org, station, card):
    card.max_concurrent_transactions = None
    card.save()
    for _ in range(3):
        ChargingSessionFactory(station=ChargingStationFactory(organization=org), id_token=card)

    assert authorize(station, "04A1B2C3", for_start=True).status == "Accepted"


def test_concurrency_is_not_checked_when_not_starting(station, card):
    ChargingSessionFactory(station=station, id_token=card)

    assert authorize(station, "04A1B2C3").status == "Accepted"


def test_session_left_on_the_connector_being_started_does_not_count(station, card):
    connector = station.connectors.get(connector_id=1)
    ChargingSessionFactory(station=station, connector=connector, id_token=card)

    result = authorize(station, "04A1B2C3", for_start=True, connector=connector)

    assert result.status == "Accepted"


def test_station_in_the_unassigned_pool_authorizes_nothing(org, card):
    pool_station = ChargingStationFactory(organization=None, site=None)

    assert authorize(pool_station, "04A1B2C3").status == "Invalid"


def test_station_assigned_while_connected_authorizes_with_its_new_site_at_once(org, station, card):
    connected = ChargingStationFactory(organization=None, site=None)
    ChargingStation.objects.filter(pk=connected.pk).update(organization=org, site=station.site)

    # `connected` is the stale instance the consumer loaded before the assignment.
    assert authorize(connected, "04A1B2C3").status == "Accepted"


def test_authorization_with_concurrency_check_takes_one_query(
    station, card, django_assert_num_queries
):
    with django_assert_num_queries(1):
        authorize(station, "04A1B2C3", for_start=True)


def test_a_result_without_a_card_carries_no_expiry_and_no_parent():
    result = AuthorizationResult.for_token(AuthorizationStatus.INVALID, None)

    assert (result.id_token, result.expires_at, result.parent_id_tag) == (None, None, "")
    assert not result.accepted


# --- the chain --------------------------------------------------------------------------------


class Partner:
    """An authorizer that knows one uid and notes every uid it is asked about."""

    def __init__(self, uid, status=AuthorizationStatus.ACCEPTED):
        self.uid, self.status, self.asked = uid, status, []

    def __call__(self, station, uid, *, for_start, connector):
        self.asked.append((uid, for_start))
        return AuthorizationResult(status=self.status) if uid == self.uid else None


@pytest.fixture
def partner():
    """A roaming partner's authorizer plugged in after the local cards, and out again."""
    plugged = Partner("ROAM0001")
    register_authorizer(plugged)
    yield plugged
    unregister_authorizer(plugged)


def test_a_token_no_local_card_has_is_asked_of_the_next_authorizer(station, partner):
    result = authorize(station, " roam0001", for_start=True)

    assert result == AuthorizationResult(status="Accepted")
    assert partner.asked == [("ROAM0001", True)]


def test_a_local_card_answers_for_itself_without_asking_further(station, card, partner):
    card.status = IdTokenStatus.BLOCKED
    card.save()

    assert authorize(station, "04A1B2C3").status == "Blocked"
    assert partner.asked == []


def test_a_token_nobody_knows_is_invalid(station, partner):
    assert authorize(station, "NOBODY01") == AuthorizationResult(status="Invalid")
    assert partner.asked == [("NOBODY01", False)]


def test_an_empty_id_token_is_invalid_without_asking_anyone(station, partner):
    assert authorize(station, "  ").status == "Invalid"
    assert partner.asked == []


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (AuthorizationStatus.BLOCKED, AuthorizationStatus.ACCEPTED, "Blocked"),
        (AuthorizationStatus.ACCEPTED, AuthorizationStatus.BLOCKED, "Accepted"),
    ],
)
def test_the_first_authorizer_that_knows_the_token_decides(station, first, second, expected):
    one, two = Partner("SHARED01", first), Partner("SHARED01", second)
    register_authorizer(one)
    register_authorizer(two)
    try:
        assert authorize(station, "SHARED01").status == expected
    finally:
        unregister_authorizer(one)
        unregister_authorizer(two)
    assert two.asked == []


def test_an_authorizer_is_registered_once_and_the_local_cards_stay_first():
    # The apps' own authorizers (roaming's) are registered already: this one comes after them.
    installed = list(authorization._authorizers)
    plugged = Partner("ROAM0001")
    register_authorizer(plugged)
    register_authorizer(plugged)
    unregister_authorizer(authorization.local_cards)

    assert installed[0] is authorization.local_cards
    assert authorization._authorizers == [*installed, plugged]
    unregister_authorizer(plugged)
    assert authorization._authorizers == installed


# --- offline: the cards a station may accept without asking -----------------------------------


@pytest.fixture
def station_group(org, station):
    group = AccessGroupFactory(organization=org, name="Station drivers")
    station.access_groups.add(group)
    return group


def test_offline_the_station_accepts_the_cards_of_its_groups_and_of_its_site(
    org, station, station_group, site_group
):
    IdTokenFactory(organization=org, uid="04AA0001", access_groups=[station_group])
    IdTokenFactory(organization=org, uid="04AA0002", access_groups=[site_group])
    elsewhere = AccessGroupFactory(organization=org, name="Other site")
    IdTokenFactory(organization=org, uid="04AA0003", access_groups=[elsewhere])
    IdTokenFactory(organization=org, uid="04AA0004")

    assert list(offline_authorizations(station, NOW)) == ["04AA0001", "04AA0002"]


def test_offline_a_card_of_another_organization_is_never_listed_even_in_a_group_linked_here(
    station, other_org
):
    theirs = AccessGroupFactory(organization=other_org, name="Their drivers")
    station.access_groups.add(theirs)
    IdTokenFactory(organization=other_org, uid="04BB0001", access_groups=[theirs])

    assert offline_authorizations(station, NOW) == {}


def test_offline_a_station_of_the_unassigned_pool_accepts_nothing(org):
    group = AccessGroupFactory(organization=org)
    pending = ChargingStation.objects.create(ocpp_id="NEW-1", organization=None)
    pending.access_groups.add(group)
    IdTokenFactory(organization=org, uid="04CC0001", access_groups=[group])

    assert offline_authorizations(pending, NOW) == {}


def test_a_card_in_two_authorized_groups_is_listed_once(org, station, station_group, site_group):
    IdTokenFactory(organization=org, uid="04DD0001", access_groups=[station_group, site_group])

    assert list(authorized_tokens(station).values_list("uid", flat=True)) == ["04DD0001"]


@pytest.mark.parametrize(
    ("card", "expected"),
    [
        ({}, ("Accepted", None, "")),
        ({"expires_at": LATER, "parent_id_tag": "FLEET-7"}, ("Accepted", LATER, "FLEET-7")),
        ({"status": IdTokenStatus.BLOCKED}, ("Blocked", None, "")),
        ({"status": IdTokenStatus.EXPIRED}, ("Expired", None, "")),
        ({"expires_at": EARLIER}, ("Expired", EARLIER, "")),
    ],
)
def test_offline_each_card_carries_its_own_standing(org, station, station_group, card, expected):
    token = IdTokenFactory(organization=org, uid="04EE0001", access_groups=[station_group], **card)

    result = offline_authorizations(station, NOW)["04EE0001"]

    assert (result.status, result.expires_at, result.parent_id_tag) == expected
    assert result.id_token == token


def test_offline_a_card_at_its_concurrent_limit_is_still_accepted(org, station, station_group):
    # The station cannot count sessions offline; ConcurrentTx is answered online only.
    token = IdTokenFactory(organization=org, uid="04EE0005", access_groups=[station_group])
    ChargingSessionFactory(station=station, id_token=token, state=SessionState.ACTIVE)

    assert offline_authorizations(station, NOW)["04EE0005"].status == "Accepted"
