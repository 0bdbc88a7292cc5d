"""Station writes over the API: create under the organization, change, delete; new filters."""

import pytest
from rest_framework.test import APIClient

from organizations.choices import Role
from sessions_app.choices import SessionState
from stations.models import ChargingStation, Connector, Evse
from tests.apiclients import member
from tests.factories import (
    STATION_PASSWORD,
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    SiteFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/stations/"
PASSWORD = "a-long-station-key-1"


def api(user):
    """An API client signed in as `user`."""
    client = APIClient()
    client.force_authenticate(user)
    return client


def org_stations(org):
    return f"/api/v1/organizations/{org.pk}/stations/"


def detail(station):
    return f"{LIST}{station.pk}/"


@pytest.fixture
def admin(org):
    return api(member((org, Role.ADMIN)))


@pytest.fixture
def site(org):
    return SiteFactory(organization=org, name="Depot")


def create(admin, org, **body):
    return admin.post(org_stations(org), {"password": PASSWORD} | body, format="json")


def ocpp_ids(response):
    assert response.status_code == 200, response.data
    return [row["ocpp_id"] for row in response.data["results"]]


# --- Creating ------------------------------------------------------------------------------


def test_an_admin_creates_a_station_in_the_organization_of_the_url(admin, org, other_org, site):
    group = AccessGroupFactory(organization=org)
    response = create(
        admin,
        org,
        ocpp_id="CS-NEW-1",
        site=site.pk,
        serial_number="SN-1",
        plan="public",
        security_profile=2,
        access_groups=[group.pk],
        heartbeat_interval=120,
        message_log_enabled=False,
        organization=other_org.pk,
    )
    assert response.status_code == 201, response.data
    station = ChargingStation.objects.get(ocpp_id="CS-NEW-1")
    assert (station.organization, station.site, station.plan, station.security_profile) == (
        org,
        site,
        "public",
        2,
    )
    assert (station.heartbeat_interval, station.message_log_enabled) == (120, False)
    assert list(station.access_groups.all()) == [group]
    assert response.data["registration_status"] == "Accepted"
    assert (response.data["site_name"], response.data["connectors"]) == ("Depot", [])


def test_the_password_is_stored_hashed_and_never_shown(admin, org):
    response = create(admin, org, ocpp_id="CS-NEW-1")
    station = ChargingStation.objects.get(ocpp_id="CS-NEW-1")
    assert PASSWORD not in station.password_hash and station.check_password(PASSWORD)
    assert "password" not in response.data and response.data["password_set"] is True
    assert PASSWORD not in admin.get(detail(station)).content.decode()


def test_the_gateways_fields_are_read_only(admin, org):
    response = create(
        admin,
        org,
        ocpp_id="CS-NEW-1",
        connection_state="online",
        registration_status="Rejected",
        firmware_version="6.6.6",
        status="Faulted",
    )
    assert response.status_code == 201, response.data
    station = ChargingStation.objects.get(ocpp_id="CS-NEW-1")
    assert (station.connection_state, station.registration_status) == ("offline", "Accepted")
    assert (station.firmware_version, station.status) == ("", "Unknown")


def test_an_ocpp_identity_taken_in_another_organization_is_a_field_error_that_names_nobody(
    admin, org, other_org
):
    ChargingStationFactory(organization=other_org, ocpp_id="CS-TAKEN")
    response = create(admin, org, ocpp_id="CS-TAKEN")
    assert response.status_code == 400
    assert response.data == {"ocpp_id": ["A station with this OCPP identity already exists."]}
    assert other_org.name not in response.content.decode()


@pytest.mark.parametrize(
    "ocpp_id", ["CS/1", "CS 1", "CS:1", "CS?1", "CS%2F1", "", "C" * 49, "Ladesäule"]
)
def test_an_ocpp_identity_that_cannot_be_the_end_of_a_url_is_a_field_error(admin, org, ocpp_id):
    response = create(admin, org, ocpp_id=ocpp_id)
    assert response.status_code == 400
    assert list(response.data) == ["ocpp_id"]
    assert not ChargingStation.objects.exists()


def test_an_ocpp_identity_may_use_the_ocpp_identifier_characters(admin, org):
    response = create(admin, org, ocpp_id="DE*ABC_1-2=3+4|5@6.7")
    assert response.status_code == 201, response.data


def test_a_site_of_another_organization_is_a_field_error(admin, org, other_org):
    theirs = SiteFactory(organization=other_org)
    response = create(admin, org, ocpp_id="CS-NEW-1", site=theirs.pk)
    assert response.status_code == 400
    assert response.data == {"site": [f'No site "{theirs.pk}" in this organization.']}
    assert not ChargingStation.objects.exists()


def test_an_access_group_of_another_organization_is_a_field_error(admin, org, other_org):
    theirs = AccessGroupFactory(organization=other_org)
    response = create(admin, org, ocpp_id="CS-NEW-1", access_groups=[theirs.pk])
    assert response.status_code == 400 and list(response.data) == ["access_groups"]


@pytest.mark.parametrize("password", ["p" * 15, "p" * 41])
def test_a_password_outside_16_to_40_characters_is_a_field_error(admin, org, password):
    response = create(admin, org, ocpp_id="CS-NEW-1", password=password)
    assert response.status_code == 400 and list(response.data) == ["password"]


@pytest.mark.parametrize("profile", [1, 2])
def test_a_basic_auth_profile_without_a_password_is_a_field_error(admin, org, profile):
    response = admin.post(
        org_stations(org), {"ocpp_id": "CS-NEW-1", "security_profile": profile}, format="json"
    )
    assert response.status_code == 400
    assert list(response.data) == ["password"]


@pytest.mark.parametrize("profile", [0, 3])
def test_a_profile_without_basic_auth_needs_no_password(admin, org, profile):
    response = admin.post(
        org_stations(org), {"ocpp_id": "CS-NEW-1", "security_profile": profile}, format="json"
    )
    assert response.status_code == 201, response.data
    assert response.data["password_set"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"heartbeat_interval": 5}, "heartbeat_interval"),
        ({"plan": "gold"}, "plan"),
        ({"security_profile": 4}, "security_profile"),
    ],
)
def test_a_bad_station_field_is_a_field_error(admin, org, body, field):
    response = create(admin, org, ocpp_id="CS-NEW-1", **body)
    assert response.status_code == 400 and list(response.data) == [field]


def test_an_operator_cannot_create_a_station(org):
    operator = api(member((org, Role.OPERATOR)))
    assert create(operator, org, ocpp_id="CS-NEW-1").status_code == 403
    assert not ChargingStation.objects.exists()


# --- Changing ------------------------------------------------------------------------------


def test_an_admin_moves_a_station_to_another_site(admin, org, station):
    other = SiteFactory(organization=org, name="Yard")
    response = admin.patch(detail(station), {"site": other.pk}, format="json")
    assert response.status_code == 200, response.data
    assert ChargingStation.objects.get(pk=station.pk).site == other
    assert response.data["site_name"] == "Yard"


def test_a_station_taken_off_its_site_answers_with_no_site_name(admin, station):
    response = admin.patch(detail(station), {"site": None}, format="json")
    assert response.status_code == 200, response.data
    assert (response.data["site"], response.data["site_name"]) == (None, None)
    assert ChargingStation.objects.get(pk=station.pk).site is None


def test_a_new_password_replaces_the_old_one(admin, station):
    response = admin.patch(detail(station), {"password": PASSWORD}, format="json")
    assert response.status_code == 200, response.data
    station.refresh_from_db()
    assert station.check_password(PASSWORD) and not station.check_password(STATION_PASSWORD)


def test_a_change_without_a_password_keeps_the_old_one(admin, station):
    assert admin.patch(detail(station), {"plan": "basic"}, format="json").status_code == 200
    station.refresh_from_db()
    assert station.check_password(STATION_PASSWORD)


def test_a_station_registered_with_an_identity_we_would_refuse_keeps_it(admin, org):
    legacy = ChargingStationFactory(organization=org, ocpp_id="old station 1")
    body = {"ocpp_id": "old station 1", "plan": "basic"}
    response = admin.put(detail(legacy), body, format="json")
    assert response.status_code == 200, response.data


def test_renaming_a_station_to_an_identity_in_use_is_a_field_error(admin, org, station):
    other = ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    response = admin.patch(detail(other), {"ocpp_id": station.ocpp_id}, format="json")
    assert response.status_code == 400 and list(response.data) == ["ocpp_id"]


def test_switching_to_basic_auth_without_any_password_is_a_field_error(admin, org):
    station = ChargingStationFactory(organization=org, security_profile=0)
    ChargingStation.objects.filter(pk=station.pk).update(password_hash="")
    response = admin.patch(detail(station), {"security_profile": 1}, format="json")
    assert response.status_code == 400 and list(response.data) == ["password"]


def test_an_operator_cannot_change_a_station(org, station):
    operator = api(member((org, Role.OPERATOR)))
    assert operator.patch(detail(station), {"plan": "basic"}, format="json").status_code == 403
    assert ChargingStation.objects.get(pk=station.pk).plan == "business"


# --- Deleting ------------------------------------------------------------------------------


def test_a_station_never_charged_at_is_deleted_with_its_connectors_and_evses(admin, station):
    assert admin.delete(detail(station)).status_code == 204
    assert not ChargingStation.objects.filter(pk=station.pk).exists()
    assert not Connector.objects.exists() and not Evse.objects.exists()


def test_a_station_with_sessions_is_a_conflict(admin, station):
    ChargingSessionFactory(station=station, state=SessionState.COMPLETED)
    response = admin.delete(detail(station))
    assert response.status_code == 409
    assert "charging sessions" in response.data["detail"]
    assert ChargingStation.objects.filter(pk=station.pk).exists()


def test_a_connected_station_is_a_conflict(admin, station):
    ChargingStation.objects.filter(pk=station.pk).update(connection_state="online")
    response = admin.delete(detail(station))
    assert response.status_code == 409 and "connected" in response.data["detail"]
    assert ChargingStation.objects.filter(pk=station.pk).exists()


def test_an_outsider_changes_and_deletes_none_of_our_stations(org, outsider_user, station):
    outsider = api(outsider_user)
    assert outsider.patch(detail(station), {"plan": "basic"}, format="json").status_code == 404
    assert outsider.delete(detail(station)).status_code == 404
    assert create(outsider, org, ocpp_id="CS-MINE").status_code == 404
    assert list(ChargingStation.objects.values_list("ocpp_id", "plan")) == [
        ("CS-DEMO-1", "business")
    ]


# --- New filters ---------------------------------------------------------------------------


def test_stations_are_searched_by_ocpp_identity_or_serial_number(admin, org):
    ChargingStationFactory(organization=org, ocpp_id="CS-BERLIN-1", serial_number="X1")
    ChargingStationFactory(organization=org, ocpp_id="CS-KOELN-1", serial_number="BER-9")
    ChargingStationFactory(organization=org, ocpp_id="CS-BONN-1", serial_number="X2")
    assert ocpp_ids(admin.get(LIST, {"search": "ber"})) == ["CS-BERLIN-1", "CS-KOELN-1"]


def test_stations_filter_by_plan(admin, org):
    ChargingStationFactory(organization=org, ocpp_id="CS-PUBLIC", plan="public")
    ChargingStationFactory(organization=org, ocpp_id="CS-BUSINESS", plan="business")
    assert ocpp_ids(admin.get(LIST, {"plan": "public"})) == ["CS-PUBLIC"]


def test_the_organization_list_shows_only_that_organizations_stations(org, other_org):
    ChargingStationFactory(organization=org, ocpp_id="CS-OURS")
    ChargingStationFactory(organization=other_org, ocpp_id="CS-THEIRS")
    both = api(member((org, Role.VIEWER), (other_org, Role.VIEWER)))
    assert ocpp_ids(both.get(org_stations(org))) == ["CS-OURS"]
    assert ocpp_ids(both.get(LIST)) == ["CS-OURS", "CS-THEIRS"]
