"""Sites over the API: the list with counts and status, filters, writes by admins, deletion."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from organizations.choices import Role
from stations.models import Connector, Site
from tests.apiclients import member
from tests.factories import AccessGroupFactory, ChargingStationFactory, SiteFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/sites/"


def api(user):
    """An API client signed in as `user`."""
    client = APIClient()
    client.force_authenticate(user)
    return client


def org_sites(org):
    return f"/api/v1/organizations/{org.pk}/sites/"


def detail(site):
    return f"{LIST}{site.pk}/"


@pytest.fixture
def viewer(org):
    return api(member((org, Role.VIEWER)))


@pytest.fixture
def admin(org):
    return api(member((org, Role.ADMIN)))


def names(response):
    assert response.status_code == 200, response.data
    return [row["name"] for row in response.data["results"]]


def online_station(site, **fields):
    return ChargingStationFactory(
        organization=site.organization, site=site, connection_state="online", **fields
    )


# --- Reading -------------------------------------------------------------------------------


def test_a_site_is_shown_with_its_address_access_groups_and_station_counts(viewer, org):
    group = AccessGroupFactory(organization=org)
    site = SiteFactory(
        organization=org,
        name="Depot",
        street="Hauptstr. 1",
        postal_code="10115",
        city="Berlin",
        country="DE",
        latitude=Decimal("52.520008"),
        longitude=Decimal("13.404954"),
        provider="Stadtwerke",
        access_groups=[group],
    )
    online_station(site)
    ChargingStationFactory(organization=org, site=site)
    data = viewer.get(detail(site)).data
    assert {k: data[k] for k in data if k not in ("created", "updated")} == {
        "id": site.pk,
        "organization": org.pk,
        "name": "Depot",
        "street": "Hauptstr. 1",
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
        "latitude": "52.520008",
        "longitude": "13.404954",
        "provider": "Stadtwerke",
        "roaming_enabled": False,
        "scan2pay_enabled": False,
        "access_groups": [group.pk],
        "grid_capacity_kw": None,
        "time_zone": "",
        "station_count": 2,
        "connected_station_count": 1,
        "status": "Available",
    }


def test_a_site_without_stations_is_unknown(viewer, org):
    site = SiteFactory(organization=org)
    data = viewer.get(detail(site)).data
    assert (data["station_count"], data["status"]) == (0, "Unknown")


def test_a_site_whose_stations_are_all_disconnected_is_unknown(viewer, org):
    site = SiteFactory(organization=org)
    ChargingStationFactory(organization=org, site=site)
    assert viewer.get(detail(site)).data["status"] == "Unknown"


def test_a_site_is_under_load_when_every_connector_of_its_connected_stations_is_in_use(viewer, org):
    site = SiteFactory(organization=org)
    first, second = online_station(site), online_station(site)
    Connector.objects.filter(station=first).update(status="Charging")
    Connector.objects.filter(station=second, connector_id=1).update(status="SuspendedEV")
    Connector.objects.filter(station=second, connector_id=2).update(status="Preparing")
    assert viewer.get(detail(site)).data["status"] == "Load"


def test_one_free_connector_keeps_a_site_available(viewer, org):
    site = SiteFactory(organization=org)
    station = online_station(site)
    Connector.objects.filter(station=station, connector_id=1).update(status="Charging")
    Connector.objects.filter(station=station, connector_id=2).update(status="Available")
    assert viewer.get(detail(site)).data["status"] == "Available"


def test_the_stale_status_of_a_disconnected_station_does_not_count_for_load(viewer, org):
    site = SiteFactory(organization=org)
    busy = online_station(site)
    Connector.objects.filter(station=busy).update(status="Charging")
    # Offline: its connectors say Available, but nobody can charge there now.
    ChargingStationFactory(organization=org, site=site)
    data = viewer.get(detail(site)).data
    assert (data["status"], data["station_count"], data["connected_station_count"]) == (
        "Load",
        2,
        1,
    )


def test_station_counts_are_not_multiplied_by_connectors_or_access_groups(viewer, org):
    groups = AccessGroupFactory.create_batch(3, organization=org)
    site = SiteFactory(organization=org, access_groups=groups)
    online_station(site, connectors=4)
    response = viewer.get(LIST, {"access_group": groups[0].pk})
    [row] = response.data["results"]
    assert (row["station_count"], row["connected_station_count"]) == (1, 1)


def test_the_site_list_costs_as_many_queries_for_8_sites_as_for_2(
    viewer, org, django_assert_max_num_queries
):
    for _ in range(2):
        online_station(
            SiteFactory(organization=org, access_groups=[AccessGroupFactory(organization=org)])
        )
    with django_assert_max_num_queries(3) as for_two:
        assert len(viewer.get(LIST).data["results"]) == 2
    for _ in range(6):
        online_station(
            SiteFactory(organization=org, access_groups=[AccessGroupFactory(organization=org)])
        )
    with django_assert_max_num_queries(len(for_two.captured_queries)):
        assert len(viewer.get(LIST).data["results"]) == 8


# --- Filters and ordering ------------------------------------------------------------------


def test_sites_filter_by_name_and_city_containing_the_text(viewer, org):
    SiteFactory(organization=org, name="Depot Nord", city="Hamburg")
    SiteFactory(organization=org, name="Rathaus", city="Bad Homburg")
    assert names(viewer.get(LIST, {"name": "depot"})) == ["Depot Nord"]
    assert names(viewer.get(LIST, {"city": "HOMBURG"})) == ["Rathaus"]


def test_sites_filter_by_country_and_roaming(viewer, org):
    SiteFactory(organization=org, name="Wien", country="AT", roaming_enabled=True)
    SiteFactory(organization=org, name="Berlin", country="DE")
    assert names(viewer.get(LIST, {"country": "at"})) == ["Wien"]
    assert names(viewer.get(LIST, {"roaming_enabled": "true"})) == ["Wien"]
    assert names(viewer.get(LIST, {"roaming_enabled": "false"})) == ["Berlin"]


def test_a_roaming_filter_other_than_true_or_false_is_a_400(viewer, org):
    response = viewer.get(LIST, {"roaming_enabled": "maybe"})
    assert response.status_code == 400 and list(response.data) == ["roaming_enabled"]


def test_sites_filter_by_access_group(viewer, org):
    staff = AccessGroupFactory(organization=org)
    SiteFactory(organization=org, name="Staff only", access_groups=[staff])
    SiteFactory(organization=org, name="Public")
    assert names(viewer.get(LIST, {"access_group": staff.pk})) == ["Staff only"]


def test_filtering_by_an_outsiders_access_group_is_refused_like_an_unknown_one(viewer, other_org):
    theirs = AccessGroupFactory(organization=other_org)
    outsider = viewer.get(LIST, {"access_group": theirs.pk})
    unknown = viewer.get(LIST, {"access_group": theirs.pk + 1000})
    assert outsider.status_code == unknown.status_code == 400
    assert outsider.data == unknown.data


def test_sites_filter_by_status(viewer, org):
    SiteFactory(organization=org, name="Empty")
    online_station(SiteFactory(organization=org, name="Live"))
    assert names(viewer.get(LIST, {"status": "Available"})) == ["Live"]
    assert names(viewer.get(LIST, {"status": "Unknown"})) == ["Empty"]
    assert names(viewer.get(LIST, {"status": "Load"})) == []


def test_sites_order_by_station_count(viewer, org):
    for name, stations in (("A", 2), ("B", 0), ("C", 1)):
        site = SiteFactory(organization=org, name=name)
        ChargingStationFactory.create_batch(stations, organization=org, site=site)
    assert names(viewer.get(LIST, {"ordering": "-station_count"})) == ["A", "C", "B"]


def test_an_outsider_lists_none_of_our_sites(org, other_org, outsider_user):
    SiteFactory(organization=org, name="Ours")
    SiteFactory(organization=other_org, name="Theirs")
    assert names(api(outsider_user).get(LIST)) == ["Theirs"]


# --- Creating ------------------------------------------------------------------------------


def test_an_admin_creates_a_site_in_the_organization_of_the_url(admin, org, other_org):
    group = AccessGroupFactory(organization=org)
    response = admin.post(
        org_sites(org),
        {
            "name": "Depot",
            "city": "Köln",
            "country": "de",
            "latitude": "50.937531",
            "longitude": "6.960279",
            "access_groups": [group.pk],
            # Not a field: the organization comes from the URL.
            "organization": other_org.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    site = Site.objects.get(pk=response.data["id"])
    assert (site.organization, site.name, site.country) == (org, "Depot", "DE")
    assert list(site.access_groups.all()) == [group]
    assert (response.data["station_count"], response.data["status"]) == (0, "Unknown")


def test_a_site_name_taken_in_the_organization_is_a_field_error(admin, org):
    SiteFactory(organization=org, name="Depot")
    response = admin.post(org_sites(org), {"name": "Depot"}, format="json")
    assert response.status_code == 400
    assert response.data == {"name": ["A site with this name already exists in this organization."]}


def test_a_site_name_taken_in_another_organization_is_free(admin, org, other_org):
    SiteFactory(organization=other_org, name="Depot")
    assert admin.post(org_sites(org), {"name": "Depot"}, format="json").status_code == 201


def test_an_access_group_of_another_organization_is_a_field_error(admin, org, other_org):
    theirs = AccessGroupFactory(organization=other_org)
    response = admin.post(
        org_sites(org), {"name": "Depot", "access_groups": [theirs.pk]}, format="json"
    )
    assert response.status_code == 400
    assert response.data == {
        "access_groups": [f'No access group "{theirs.pk}" in this organization.']
    }
    assert not Site.objects.filter(name="Depot").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latitude": "90.5", "longitude": "0"}, "latitude"),
        ({"latitude": "0", "longitude": "-180.1"}, "longitude"),
        ({"latitude": "52.5"}, "longitude"),
        ({"country": "Germany"}, "country"),
        ({"country": "D1"}, "country"),
        ({"grid_capacity_kw": "-1"}, "grid_capacity_kw"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_site_is_a_field_error(admin, org, body, field):
    response = admin.post(org_sites(org), {"name": "Depot"} | body, format="json")
    assert response.status_code == 400
    assert list(response.data) == [field]
    assert not Site.objects.exists()


def test_coordinates_with_more_decimals_than_stored_are_rounded(admin, org):
    response = admin.post(
        org_sites(org),
        {"name": "Depot", "latitude": 52.52000849, "longitude": 13.4049541},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert (response.data["latitude"], response.data["longitude"]) == ("52.520008", "13.404954")


def test_an_operator_cannot_create_a_site(org):
    operator = api(member((org, Role.OPERATOR)))
    assert operator.post(org_sites(org), {"name": "Depot"}, format="json").status_code == 403
    assert not Site.objects.exists()


# --- Changing and deleting -----------------------------------------------------------------


def test_an_admin_changes_a_site_and_its_access_groups(admin, org):
    old, new = AccessGroupFactory.create_batch(2, organization=org)
    site = SiteFactory(organization=org, name="Depot", access_groups=[old])
    response = admin.patch(
        detail(site), {"roaming_enabled": True, "access_groups": [new.pk]}, format="json"
    )
    assert response.status_code == 200, response.data
    site.refresh_from_db()
    assert site.roaming_enabled and list(site.access_groups.all()) == [new]
    assert response.data["status"] == "Unknown"


def test_renaming_a_site_to_its_own_name_is_no_conflict(admin, org):
    site = SiteFactory(organization=org, name="Depot")
    response = admin.put(detail(site), {"name": "Depot", "city": "Bonn"}, format="json")
    assert response.status_code == 200, response.data
    assert Site.objects.get(pk=site.pk).city == "Bonn"


def test_renaming_a_site_to_another_sites_name_is_a_field_error(admin, org):
    SiteFactory(organization=org, name="Depot")
    site = SiteFactory(organization=org, name="Yard")
    response = admin.patch(detail(site), {"name": "Depot"}, format="json")
    assert response.status_code == 400 and list(response.data) == ["name"]


def test_an_empty_site_is_deleted(admin, org):
    site = SiteFactory(organization=org)
    assert admin.delete(detail(site)).status_code == 204
    assert not Site.objects.filter(pk=site.pk).exists()


def test_a_site_that_still_has_stations_is_a_conflict(admin, org):
    site = SiteFactory(organization=org)
    ChargingStationFactory(organization=org, site=site)
    response = admin.delete(detail(site))
    assert response.status_code == 409
    assert "still has stations" in response.data["detail"]
    assert Site.objects.filter(pk=site.pk).exists()


def test_an_outsider_changes_and_deletes_none_of_our_sites(org, outsider_user):
    site = SiteFactory(organization=org, name="Depot")
    outsider = api(outsider_user)
    assert outsider.patch(detail(site), {"name": "Mine"}, format="json").status_code == 404
    assert outsider.delete(detail(site)).status_code == 404
    assert outsider.post(org_sites(org), {"name": "Mine"}, format="json").status_code == 404
    assert list(Site.objects.values_list("name", flat=True)) == ["Depot"]
