"""OCPP 1.6 formats: idTagInfo, csChargingProfiles and local lists from neutral values."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cards.choices import IdTokenStatus
from ocpp_gateway import validation
from ocpp_gateway.v16.formats import (
    charging_profile,
    format_datetime,
    id_tag_info,
    local_list_changes,
    local_list_entries,
    parse_datetime,
)
from sessions_app.authorization import AuthorizationResult, offline_authorizations
from sessions_app.choices import AuthorizationStatus
from tests.factories import AccessGroupFactory, ChargingProfileFactory, IdTokenFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
LATER = datetime(2027, 1, 1, tzinfo=UTC)
EARLIER = datetime(2026, 1, 1, tzinfo=UTC)


# --- idTagInfo --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "info"),
    [
        (AuthorizationResult(AuthorizationStatus.ACCEPTED), {"status": "Accepted"}),
        (AuthorizationResult(AuthorizationStatus.BLOCKED), {"status": "Blocked"}),
        (AuthorizationResult(AuthorizationStatus.EXPIRED), {"status": "Expired"}),
        (AuthorizationResult(AuthorizationStatus.INVALID), {"status": "Invalid"}),
        (AuthorizationResult(AuthorizationStatus.CONCURRENT_TX), {"status": "ConcurrentTx"}),
        # A status read back from a stored session is a plain string.
        (AuthorizationResult("Accepted"), {"status": "Accepted"}),
        (
            AuthorizationResult(AuthorizationStatus.ACCEPTED, expires_at=LATER),
            {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00.000Z"},
        ),
        (
            AuthorizationResult(AuthorizationStatus.ACCEPTED, parent_id_tag="FLEET-42"),
            {"status": "Accepted", "parentIdTag": "FLEET-42"},
        ),
        (
            AuthorizationResult(
                AuthorizationStatus.EXPIRED, expires_at=EARLIER, parent_id_tag="FLEET-42"
            ),
            {
                "status": "Expired",
                "expiryDate": "2026-01-01T00:00:00.000Z",
                "parentIdTag": "FLEET-42",
            },
        ),
    ],
)
def test_id_tag_info_spells_the_neutral_answer_in_16_and_leaves_out_absent_keys(result, info):
    assert id_tag_info(result) == info
    validation.validate("ocpp1.6", "AuthorizeResponse", {"idTagInfo": id_tag_info(result)})


def test_every_neutral_authorization_status_has_a_16_spelling():
    assert {id_tag_info(AuthorizationResult(s))["status"] for s in AuthorizationStatus} == {
        "Accepted",
        "Blocked",
        "Expired",
        "Invalid",
        "ConcurrentTx",
    }


def test_dates_go_out_in_utc_with_milliseconds_and_come_back_the_same():
    sent = format_datetime(datetime(2026, 1, 1, 12, 0, 0, 987654, tzinfo=UTC))

    assert sent == "2026-01-01T12:00:00.987Z"
    assert parse_datetime(sent) == datetime(2026, 1, 1, 12, 0, 0, 987000, tzinfo=UTC)


# --- csChargingProfiles -----------------------------------------------------------------------


def profile(org, **fields):
    """An unsaved valid profile of `org`, with `fields` changed."""
    return ChargingProfileFactory.build(organization=org, **fields)


def test_an_absolute_profile_becomes_the_ocpp_16_cs_charging_profiles_object(org):
    night = profile(
        org,
        stack_level=2,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_to=datetime(2027, 1, 1, tzinfo=UTC),
        duration=28800,
        start_schedule=START,
        min_charging_rate=Decimal("6.0"),
        schedule_periods=[
            {"start_period": 0, "limit": 16, "number_phases": 3},
            {"start_period": 3600, "limit": 10.5},
        ],
    )

    assert charging_profile(night, 42) == {
        "chargingProfileId": 42,
        "stackLevel": 2,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "validFrom": "2026-01-01T00:00:00.000Z",
        "validTo": "2027-01-01T00:00:00.000Z",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                {"startPeriod": 3600, "limit": 10.5},
            ],
            "duration": 28800,
            "startSchedule": "2026-03-01T22:00:00.000Z",
            "minChargingRate": 6.0,
        },
    }


def test_a_minimal_profile_leaves_every_optional_key_out(org):
    assert charging_profile(profile(org), 1) == {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    }


def test_a_tx_profile_carries_the_transaction_id(org):
    boost = profile(org, purpose="TxProfile", kind="Relative")

    ocpp = charging_profile(boost, 7, transaction_id=1234)

    assert (ocpp["chargingProfileId"], ocpp["transactionId"]) == (7, 1234)
    assert ocpp["chargingProfilePurpose"] == "TxProfile"


def test_only_a_tx_profile_takes_a_transaction_id(org):
    with pytest.raises(ValueError, match="TxProfile"):
        charging_profile(profile(org, purpose="TxDefaultProfile"), 7, transaction_id=1234)


def test_a_recurring_profile_carries_its_recurrency(org):
    daily = profile(org, kind="Recurring", recurrency_kind="Daily", start_schedule=START)

    ocpp = charging_profile(daily, 3)

    assert (ocpp["chargingProfileKind"], ocpp["recurrencyKind"]) == ("Recurring", "Daily")
    assert ocpp["chargingSchedule"]["startSchedule"] == "2026-03-01T22:00:00.000Z"


def test_the_object_passes_the_ocpp_16_schema_with_watts_and_decimal_limits(org):
    peak = profile(
        org,
        purpose="ChargePointMaxProfile",
        charging_rate_unit="W",
        min_charging_rate=Decimal("1380.0"),
        schedule_periods=[
            {"start_period": 0, "limit": 22000},
            {"start_period": 60, "limit": "7.7"},
            {"start_period": 120, "limit": 0.3},
        ],
    )
    peak.full_clean()

    payload = {"connectorId": 0, "csChargingProfiles": charging_profile(peak, 9)}
    validation.validate("ocpp1.6", "SetChargingProfile", payload)


# --- local lists ------------------------------------------------------------------------------


@pytest.fixture
def station_group(org, station):
    group = AccessGroupFactory(organization=org, name="Station drivers")
    station.access_groups.add(group)
    return group


def entries(station):
    """The 1.6 local list entries the station should hold now."""
    return local_list_entries(offline_authorizations(station, NOW))


def test_an_accepted_card_carries_its_expiry_date_and_parent_id_tag(org, station, station_group):
    IdTokenFactory(
        organization=org,
        uid="04EE0001",
        access_groups=[station_group],
        expires_at=LATER,
        parent_id_tag="FLEET-7",
    )

    assert entries(station) == {
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

    assert entries(station) == {"04EE0002": {"status": "Blocked"}}


def test_a_card_past_its_expiry_date_is_listed_as_expired(org, station, station_group):
    IdTokenFactory(
        organization=org, uid="04EE0003", access_groups=[station_group], expires_at=EARLIER
    )

    assert entries(station) == {
        "04EE0003": {"status": "Expired", "expiryDate": "2026-01-01T00:00:00.000Z"}
    }


def test_a_card_marked_expired_is_listed_as_expired(org, station, station_group):
    IdTokenFactory(
        organization=org,
        uid="04EE0004",
        access_groups=[station_group],
        status=IdTokenStatus.EXPIRED,
    )

    assert entries(station) == {"04EE0004": {"status": "Expired"}}


def test_a_card_whose_uid_or_parent_does_not_fit_ocpp_16_is_left_out(org, station, station_group):
    IdTokenFactory(organization=org, uid="E" * 21, access_groups=[station_group])
    IdTokenFactory(
        organization=org, uid="04FF0001", access_groups=[station_group], parent_id_tag="P" * 21
    )
    IdTokenFactory(organization=org, uid="F" * 20, access_groups=[station_group])

    assert set(entries(station)) == {"F" * 20}


@pytest.mark.parametrize(
    ("held", "wanted", "changes"),
    [
        ({}, {}, []),
        (
            {"04000001": {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00.000Z"}},
            {"04000001": {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00.000Z"}},
            [],
        ),
        (
            {"04000001": {"status": "Accepted", "expiryDate": "2027-01-01T00:00:00.000Z"}},
            {"04000001": {"status": "Accepted", "expiryDate": "2028-01-01T00:00:00.000Z"}},
            [
                {
                    "idTag": "04000001",
                    "idTagInfo": {"status": "Accepted", "expiryDate": "2028-01-01T00:00:00.000Z"},
                }
            ],
        ),
        (
            {"04000002": {"status": "Accepted"}, "04000003": {"status": "Accepted"}},
            {"04000001": {"status": "Accepted"}, "04000002": {"status": "Blocked"}},
            [
                {"idTag": "04000001", "idTagInfo": {"status": "Accepted"}},
                {"idTag": "04000002", "idTagInfo": {"status": "Blocked"}},
                {"idTag": "04000003"},
            ],
        ),
    ],
    ids=["nothing", "unchanged", "new expiry date", "added, changed and removed"],
)
def test_local_list_changes_are_additions_changes_and_removals_by_id_tag(held, wanted, changes):
    assert local_list_changes(held, wanted) == changes
