"""Charging profiles: validation and one name per organization."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from stations.models import ChargingProfile
from tests.factories import ChargingProfileFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)


def profile(org, **fields):
    """An unsaved valid profile of `org`, with `fields` changed."""
    return ChargingProfileFactory.build(organization=org, **fields)


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
