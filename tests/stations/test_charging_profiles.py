"""Charging profiles: validation, one name per organization, and the OCPP 1.6 object they become."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from ocpp_gateway import validation
from stations.models import ChargingProfile

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)


def profile(org, **fields):
    """An unsaved valid profile of `org`, with `fields` changed."""
    values = {
        "organization": org,
        "name": "Night",
        "purpose": "TxDefaultProfile",
        "kind": "Absolute",
        "charging_rate_unit": "A",
        "schedule_periods": [{"start_period": 0, "limit": 16}],
    } | fields
    return ChargingProfile(**values)


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

    assert night.as_ocpp16(42) == {
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
    assert profile(org).as_ocpp16(1) == {
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

    ocpp = boost.as_ocpp16(7, transaction_id=1234)

    assert (ocpp["chargingProfileId"], ocpp["transactionId"]) == (7, 1234)
    assert ocpp["chargingProfilePurpose"] == "TxProfile"


def test_only_a_tx_profile_takes_a_transaction_id(org):
    with pytest.raises(ValueError, match="TxProfile"):
        profile(org, purpose="TxDefaultProfile").as_ocpp16(7, transaction_id=1234)


def test_a_recurring_profile_carries_its_recurrency(org):
    daily = profile(org, kind="Recurring", recurrency_kind="Daily", start_schedule=START)

    ocpp = daily.as_ocpp16(3)

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

    validation.validate(
        "ocpp1.6", "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": peak.as_ocpp16(9)}
    )


def test_a_valid_profile_passes_full_clean(org):
    profile(org, kind="Recurring", recurrency_kind="Weekly", start_schedule=START).full_clean()


@pytest.mark.parametrize(
    "periods",
    [
        [],
        [{"start_period": 60, "limit": 16}],
        [{"start_period": 0, "limit": 16}, {"start_period": 0, "limit": 8}],
        [
            {"start_period": 0, "limit": 16},
            {"start_period": 600, "limit": 8},
            {"start_period": 300, "limit": 4},
        ],
        [{"start_period": 0, "limit": 16.25}],
        [{"start_period": 0, "limit": -1}],
        [{"start_period": 0, "limit": "lots"}],
        [{"start_period": 0, "limit": True}],
        [{"start_period": 0.5, "limit": 16}],
        [{"start_period": 0}],
        [{"start_period": 0, "limit": 16, "number_phases": 4}],
        [{"start_period": 0, "limit": 16, "number_phases": 3.0}],
        [{"start_period": 0, "limit": 16, "phases": 3}],
        {"start_period": 0, "limit": 16},
    ],
)
def test_malformed_schedule_periods_are_refused(org, periods):
    with pytest.raises(ValidationError) as error:
        profile(org, schedule_periods=periods).full_clean()
    assert "schedule_periods" in error.value.message_dict


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "Recurring", "start_schedule": START}, "recurrency_kind"),
        ({"kind": "Recurring", "recurrency_kind": "Daily"}, "start_schedule"),
        ({"kind": "Absolute", "recurrency_kind": "Daily"}, "recurrency_kind"),
        ({"kind": "Relative", "start_schedule": START}, "start_schedule"),
        ({"valid_from": START, "valid_to": START}, "valid_to"),
        ({"purpose": "Whatever"}, "purpose"),
        ({"charging_rate_unit": "kW"}, "charging_rate_unit"),
    ],
)
def test_inconsistent_profiles_are_refused_on_the_field_at_fault(org, fields, field):
    with pytest.raises(ValidationError) as error:
        profile(org, **fields).full_clean()
    assert field in error.value.message_dict


def test_a_name_is_unique_within_an_organization(org):
    profile(org).save()

    with pytest.raises(IntegrityError):
        profile(org).save()


def test_another_organization_may_use_the_same_name(org, other_org):
    profile(org).save()
    profile(other_org).save()

    assert ChargingProfile.objects.for_org(other_org).get().name == "Night"
    assert ChargingProfile.objects.for_org(org).count() == 1
