"""Charging profiles over the API: OCPP 1.6 validation, writes by admins, filters, deletion."""

import pytest
from rest_framework.test import APIClient

from ocpp_gateway.v16.formats import charging_profile
from organizations.choices import Role
from stations.models import ChargingProfile
from tests.apiclients import member

pytestmark = pytest.mark.django_db

LIST = "/api/v1/charging-profiles/"
START = "2026-03-01T22:00:00Z"


def api(user):
    """An API client signed in as `user`."""
    client = APIClient()
    client.force_authenticate(user)
    return client


def org_profiles(org):
    return f"/api/v1/organizations/{org.pk}/charging-profiles/"


def detail(profile):
    return f"{LIST}{profile.pk}/"


@pytest.fixture
def admin(org):
    return api(member((org, Role.ADMIN)))


@pytest.fixture
def night(org):
    return ChargingProfile.objects.create(
        organization=org, name="Night", schedule_periods=[{"start_period": 0, "limit": 16}]
    )


def create(admin, org, **body):
    values = {"name": "Day", "schedule_periods": [{"start_period": 0, "limit": 32}]} | body
    return admin.post(org_profiles(org), values, format="json")


def names(response):
    assert response.status_code == 200, response.data
    return [row["name"] for row in response.data["results"]]


# --- Creating ------------------------------------------------------------------------------


def test_an_admin_creates_a_profile_that_becomes_the_ocpp_object_sent_to_stations(
    admin, org, other_org
):
    response = create(
        admin,
        org,
        name="Weeknights",
        purpose="TxDefaultProfile",
        stack_level=2,
        kind="Recurring",
        recurrency_kind="Weekly",
        start_schedule=START,
        charging_rate_unit="W",
        duration=28800,
        min_charging_rate="1400.0",
        schedule_periods=[
            {"start_period": 0, "limit": 11000, "number_phases": 3},
            {"start_period": 3600, "limit": "7400.5"},
        ],
        organization=other_org.pk,
    )
    assert response.status_code == 201, response.data
    profile = ChargingProfile.objects.get(pk=response.data["id"])
    assert profile.organization == org
    assert profile.schedule_periods == [
        {"start_period": 0, "limit": 11000, "number_phases": 3},
        {"start_period": 3600, "limit": 7400.5},
    ]
    assert response.json()["schedule_periods"] == [
        {"start_period": 0, "limit": 11000.0, "number_phases": 3},
        {"start_period": 3600, "limit": 7400.5},
    ]
    sent = charging_profile(profile, profile.pk)
    assert sent["chargingProfileKind"] == "Recurring" and sent["recurrencyKind"] == "Weekly"
    assert sent["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
        {"startPeriod": 3600, "limit": 7400.5},
    ]


def test_a_minimal_profile_takes_the_model_defaults(admin, org):
    response = create(admin, org)
    assert response.status_code == 201, response.data
    data = response.data
    assert (data["purpose"], data["kind"], data["charging_rate_unit"], data["stack_level"]) == (
        "TxDefaultProfile",
        "Absolute",
        "A",
        0,
    )


def test_a_profile_name_taken_in_the_organization_is_a_field_error(admin, org, night):
    response = create(admin, org, name="Night")
    assert response.status_code == 400
    assert response.data == {
        "name": ["A charging profile with this name already exists in this organization."]
    }


def test_a_profile_name_taken_in_another_organization_is_free(admin, org, other_org):
    ChargingProfile.objects.create(organization=other_org, name="Day")
    assert create(admin, org).status_code == 201


@pytest.mark.parametrize(
    "periods",
    [
        [],
        [{"start_period": 60, "limit": 16}],
        [{"start_period": 0, "limit": 16}, {"start_period": 0, "limit": 10}],
        [{"start_period": 0, "limit": 16}, {"start_period": 600, "limit": 10},
         {"start_period": 300, "limit": 8}],
        [{"start_period": -1, "limit": 16}],
        [{"start_period": 0, "limit": 16.25}],
        [{"start_period": 0, "limit": -1}],
        [{"start_period": 0, "limit": True}],
        [{"start_period": 0}],
        [{"limit": 16}],
        [{"start_period": 0, "limit": 16, "number_phases": 4}],
        [{"start_period": 0, "limit": 16, "number_phases": 0}],
        [{"start_period": 0, "limit": 16, "phases": 3}],
        [16],
        {"start_period": 0, "limit": 16},
        None,
    ],
)  # fmt: skip
def test_a_bad_schedule_is_a_field_error(admin, org, periods):
    response = create(admin, org, schedule_periods=periods)
    assert response.status_code == 400, response.data
    assert list(response.data) == ["schedule_periods"]
    assert not ChargingProfile.objects.exists()


def test_a_limit_of_zero_pauses_charging_and_is_allowed(admin, org):
    periods = [{"start_period": 0, "limit": 16}, {"start_period": 3600, "limit": 0}]
    assert create(admin, org, schedule_periods=periods).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "Recurring", "start_schedule": START}, "recurrency_kind"),
        ({"kind": "Recurring", "recurrency_kind": "Daily"}, "start_schedule"),
        ({"kind": "Absolute", "recurrency_kind": "Daily"}, "recurrency_kind"),
        ({"kind": "Relative", "start_schedule": START}, "start_schedule"),
        (
            {"valid_from": "2026-02-01T00:00:00Z", "valid_to": "2026-01-01T00:00:00Z"},
            "valid_to",
        ),
        ({"valid_from": START, "valid_to": START}, "valid_to"),
        ({"purpose": "ChargePointMaxProfile", "kind": "Relative"}, "kind"),
        ({"purpose": "Tx"}, "purpose"),
        ({"charging_rate_unit": "kW"}, "charging_rate_unit"),
        ({"stack_level": -1}, "stack_level"),
        ({"min_charging_rate": "6.25"}, "min_charging_rate"),
        ({"duration": -60}, "duration"),
    ],
)
def test_an_inconsistent_profile_is_a_field_error(admin, org, body, field):
    response = create(admin, org, **body)
    assert response.status_code == 400, response.data
    assert list(response.data) == [field]
    assert not ChargingProfile.objects.exists()


def test_an_operator_cannot_create_a_profile(org):
    assert create(api(member((org, Role.OPERATOR))), org).status_code == 403
    assert not ChargingProfile.objects.exists()


# --- Changing and deleting -----------------------------------------------------------------


def test_an_admin_changes_a_profiles_schedule(admin, night):
    periods = [{"start_period": 0, "limit": 10}, {"start_period": 1800, "limit": 6}]
    response = admin.patch(detail(night), {"schedule_periods": periods}, format="json")
    assert response.status_code == 200, response.data
    night.refresh_from_db()
    assert night.schedule_periods == periods


def test_a_period_changed_with_patch_is_still_given_whole(admin, night):
    response = admin.patch(
        detail(night), {"schedule_periods": [{"start_period": 0}]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"schedule_periods": {"0": {"limit": ["This field is required."]}}}


def test_a_partial_change_is_checked_against_the_rest_of_the_profile(admin, night):
    # Recurring needs a recurrency and a start the profile does not have.
    response = admin.patch(detail(night), {"kind": "Recurring"}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"recurrency_kind", "start_schedule"}
    assert ChargingProfile.objects.get(pk=night.pk).kind == "Absolute"


def test_clearing_the_end_of_validity_is_allowed(admin, org):
    profile = ChargingProfile.objects.create(
        organization=org,
        name="Winter",
        valid_from="2026-01-01T00:00:00Z",
        valid_to="2026-03-01T00:00:00Z",
        schedule_periods=[{"start_period": 0, "limit": 16}],
    )
    response = admin.patch(detail(profile), {"valid_to": None}, format="json")
    assert response.status_code == 200, response.data
    assert ChargingProfile.objects.get(pk=profile.pk).valid_to is None


def test_a_profile_is_deleted(admin, night):
    assert admin.delete(detail(night)).status_code == 204
    assert not ChargingProfile.objects.exists()


def test_an_outsider_sees_changes_and_deletes_none_of_our_profiles(outsider_user, org, night):
    outsider = api(outsider_user)
    assert names(outsider.get(LIST)) == []
    assert outsider.patch(detail(night), {"stack_level": 9}, format="json").status_code == 404
    assert outsider.delete(detail(night)).status_code == 404
    assert create(outsider, org).status_code == 404
    assert list(ChargingProfile.objects.values_list("name", "stack_level")) == [("Night", 0)]


# --- Filters -------------------------------------------------------------------------------


def test_profiles_filter_by_name_purpose_and_kind(admin, org):
    periods = [{"start_period": 0, "limit": 16}]
    for name, purpose, kind in (
        ("Site cap", "ChargePointMaxProfile", "Absolute"),
        ("Boost", "TxProfile", "Relative"),
        ("Night cap", "TxDefaultProfile", "Absolute"),
    ):
        ChargingProfile.objects.create(
            organization=org, name=name, purpose=purpose, kind=kind, schedule_periods=periods
        )
    assert names(admin.get(LIST, {"name": "CAP"})) == ["Night cap", "Site cap"]
    assert names(admin.get(LIST, {"purpose": "TxProfile"})) == ["Boost"]
    assert names(admin.get(LIST, {"kind": "Absolute"})) == ["Night cap", "Site cap"]
