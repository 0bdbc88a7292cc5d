"""Access groups over the API: fields, writes by admins, cards by operators, filters."""

import pytest

from cards.models import AccessGroup, IdToken
from organizations.choices import Role
from tests.apiclients import client_for, member
from tests.factories import (
    AccessGroupFactory,
    ChargingStationFactory,
    IdTokenFactory,
    SiteFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/access-groups/"


def nested(org):
    return f"/api/v1/organizations/{org.pk}/access-groups/"


@pytest.fixture
def admin(org):
    return client_for(member((org, Role.ADMIN)))


@pytest.fixture
def operator(org):
    return client_for(member((org, Role.OPERATOR)))


@pytest.fixture
def viewer(org):
    return client_for(member((org, Role.VIEWER)))


@pytest.fixture
def group(org):
    return AccessGroupFactory(organization=org, name="Staff", description="Employees")


def names(response):
    assert response.status_code == 200, response.data
    return [row["name"] for row in response.data["results"]]


def members_of(group):
    return sorted(group.id_tokens.values_list("uid", flat=True))


def test_a_group_is_shown_with_its_cards_sites_and_stations(viewer, org, group):
    site = SiteFactory(organization=org, name="Depot", access_groups=[group])
    station = ChargingStationFactory(organization=org, site=site, ocpp_id="CS-GATE")
    station.access_groups.add(group)
    card = IdTokenFactory(organization=org, uid="04AA01", label="Erika", access_groups=[group])
    IdTokenFactory(organization=org, uid="04AA02", label="", access_groups=[group])
    IdTokenFactory(organization=org, uid="04ZZ99")  # in no group

    data = viewer.get(f"{LIST}{group.pk}/").data

    assert {key: data[key] for key in ("id", "organization", "name", "description")} == {
        "id": group.pk,
        "organization": org.pk,
        "name": "Staff",
        "description": "Employees",
    }
    assert data["cards"] == [
        {"id": card.pk, "uid": "04AA01", "label": "Erika"},
        {"id": card.pk + 1, "uid": "04AA02", "label": ""},
    ]
    assert data["card_count"] == 2
    assert (data["sites"], data["site_details"]) == ([site.pk], [{"id": site.pk, "name": "Depot"}])
    assert (data["stations"], data["station_details"]) == (
        [station.pk],
        [{"id": station.pk, "ocpp_id": "CS-GATE"}],
    )


def test_the_flat_list_shows_the_groups_of_every_organization_of_the_user(org, other_org, group):
    AccessGroupFactory(organization=other_org, name="Fleet")
    AccessGroupFactory(organization=AccessGroupFactory().organization, name="Strangers")
    both = client_for(member((org, Role.VIEWER), (other_org, Role.VIEWER)))
    assert names(both.get(LIST)) == ["Fleet", "Staff"]


def test_the_nested_list_shows_the_groups_of_that_organization_only(org, other_org, group):
    AccessGroupFactory(organization=other_org, name="Fleet")
    both = client_for(member((org, Role.VIEWER), (other_org, Role.VIEWER)))
    assert names(both.get(nested(org))) == ["Staff"]


def test_an_admin_creates_a_group_in_the_organization_of_the_url(admin, org):
    site = SiteFactory(organization=org)
    station = ChargingStationFactory(organization=org, site=site)
    response = admin.post(
        nested(org),
        {"name": "Night", "description": "Shift", "sites": [site.pk], "stations": [station.pk]},
        format="json",
    )
    assert response.status_code == 201, response.data
    created = AccessGroup.objects.get(pk=response.data["id"])
    assert (created.organization, created.name, created.description) == (org, "Night", "Shift")
    assert list(created.sites.all()) == [site]
    assert list(created.stations.all()) == [station]
    assert response.data["card_count"] == 0


def test_a_group_name_already_used_in_the_organization_is_a_field_error(admin, org, group):
    response = admin.post(nested(org), {"name": "Staff"}, format="json")
    assert response.status_code == 400
    assert response.data == {
        "name": ["An access group with this name already exists in this organization."]
    }
    assert AccessGroup.objects.for_org(org).count() == 1


def test_a_name_used_by_another_organization_is_free(admin, org, other_org):
    AccessGroupFactory(organization=other_org, name="Staff")
    assert admin.post(nested(org), {"name": "Staff"}, format="json").status_code == 201


def test_renaming_a_group_to_another_groups_name_is_a_field_error(admin, org, group):
    other = AccessGroupFactory(organization=org, name="Guests")
    response = admin.patch(f"{LIST}{other.pk}/", {"name": "Staff"}, format="json")
    assert response.status_code == 400
    assert "name" in response.data
    other.refresh_from_db()
    assert other.name == "Guests"


def test_a_put_that_keeps_the_groups_own_name_is_accepted(admin, group):
    response = admin.put(
        f"{LIST}{group.pk}/", {"name": "Staff", "description": "All staff"}, format="json"
    )
    assert response.status_code == 200, response.data
    group.refresh_from_db()
    assert group.description == "All staff"


def test_a_group_name_with_a_semicolon_is_refused_as_the_csv_separates_groups_by_it(admin, org):
    response = admin.post(nested(org), {"name": "Staff; guests"}, format="json")
    assert response.status_code == 400
    assert "name" in response.data


def test_a_site_of_another_organization_is_a_field_error(admin, org, other_org):
    theirs = SiteFactory(organization=other_org)
    response = admin.post(nested(org), {"name": "Night", "sites": [theirs.pk]}, format="json")
    assert response.status_code == 400
    assert response.data == {"sites": [f'No site "{theirs.pk}" in this organization.']}
    assert not AccessGroup.objects.filter(name="Night").exists()


def test_a_station_of_another_organization_is_a_field_error(admin, org, other_org, group):
    theirs = ChargingStationFactory(organization=other_org)
    response = admin.patch(f"{LIST}{group.pk}/", {"stations": [theirs.pk]}, format="json")
    assert response.status_code == 400
    assert list(response.data) == ["stations"]
    assert not group.stations.exists()


def test_patching_sites_and_stations_replaces_them(admin, org, group):
    old_site = SiteFactory(organization=org, access_groups=[group])
    new_site = SiteFactory(organization=org)
    station = ChargingStationFactory(organization=org, site=new_site)
    response = admin.patch(
        f"{LIST}{group.pk}/", {"sites": [new_site.pk], "stations": [station.pk]}, format="json"
    )
    assert response.status_code == 200, response.data
    assert list(group.sites.all()) == [new_site]
    assert list(group.stations.all()) == [station]
    assert old_site.access_groups.count() == 0
    assert response.data["sites"] == [new_site.pk]


def test_deleting_a_group_keeps_its_cards(admin, org, group):
    card = IdTokenFactory(organization=org, access_groups=[group])
    assert admin.delete(f"{LIST}{group.pk}/").status_code == 204
    assert not AccessGroup.objects.filter(pk=group.pk).exists()
    assert IdToken.objects.filter(pk=card.pk).exists()


def test_an_operator_cannot_rename_a_group(operator, group):
    response = operator.patch(f"{LIST}{group.pk}/", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    group.refresh_from_db()
    assert group.name == "Staff"


def test_an_operator_adds_cards_to_a_group_by_uid_in_any_case(operator, org, group):
    IdTokenFactory(organization=org, uid="04AA01")
    IdTokenFactory(organization=org, uid="04AA02")
    IdTokenFactory(organization=org, uid="04AA03")
    response = operator.post(
        f"{LIST}{group.pk}/add-cards/", {"uids": ["04aa01", " 04AA02 "]}, format="json"
    )
    assert response.status_code == 200, response.data
    assert members_of(group) == ["04AA01", "04AA02"]
    assert [card["uid"] for card in response.data["cards"]] == ["04AA01", "04AA02"]
    assert response.data["card_count"] == 2


def test_adding_a_card_already_in_the_group_keeps_it_once(operator, org, group):
    IdTokenFactory(organization=org, uid="04AA01", access_groups=[group])
    response = operator.post(
        f"{LIST}{group.pk}/add-cards/", {"uids": ["04AA01", "04aa01"]}, format="json"
    )
    assert response.status_code == 200, response.data
    assert members_of(group) == ["04AA01"]


def test_unknown_uids_are_a_400_naming_them_and_no_card_is_added(operator, org, group):
    IdTokenFactory(organization=org, uid="04AA01")
    response = operator.post(
        f"{LIST}{group.pk}/add-cards/", {"uids": ["04AA01", "nope", "04FF"]}, format="json"
    )
    assert response.status_code == 400
    assert response.data["unknown_uids"] == ["NOPE", "04FF"]
    assert "NOPE, 04FF" in response.data["uids"][0]
    assert members_of(group) == []


def test_a_card_of_another_organization_is_unknown_to_the_group(operator, other_org, group):
    IdTokenFactory(organization=other_org, uid="04BB01")
    response = operator.post(f"{LIST}{group.pk}/add-cards/", {"uids": ["04BB01"]}, format="json")
    assert response.status_code == 400
    assert response.data["unknown_uids"] == ["04BB01"]
    assert members_of(group) == []


def test_adding_no_uids_is_a_field_error(operator, group):
    response = operator.post(f"{LIST}{group.pk}/add-cards/", {"uids": []}, format="json")
    assert response.status_code == 400
    assert "uids" in response.data


def test_remove_cards_takes_them_out_and_ignores_cards_not_in_the_group(operator, org, group):
    IdTokenFactory(organization=org, uid="04AA01", access_groups=[group])
    IdTokenFactory(organization=org, uid="04AA02", access_groups=[group])
    IdTokenFactory(organization=org, uid="04AA03")
    response = operator.post(
        f"{LIST}{group.pk}/remove-cards/", {"uids": ["04AA01", "04AA03"]}, format="json"
    )
    assert response.status_code == 200, response.data
    assert members_of(group) == ["04AA02"]
    assert IdToken.objects.filter(uid="04AA01").exists(), "the card itself stays"


def test_removing_an_unknown_uid_removes_nothing(operator, org, group):
    IdTokenFactory(organization=org, uid="04AA01", access_groups=[group])
    response = operator.post(
        f"{LIST}{group.pk}/remove-cards/", {"uids": ["04AA01", "04XX"]}, format="json"
    )
    assert response.status_code == 400
    assert members_of(group) == ["04AA01"]


def test_an_outsider_cannot_add_cards_to_our_group(outsider_user, other_org, group):
    IdTokenFactory(organization=other_org, uid="04BB01")
    outsider = client_for(outsider_user)
    response = outsider.post(f"{LIST}{group.pk}/add-cards/", {"uids": ["04BB01"]}, format="json")
    assert response.status_code == 404
    assert members_of(group) == []


def test_groups_filter_by_name_containing(viewer, org, group):
    AccessGroupFactory(organization=org, name="Guests")
    assert names(viewer.get(LIST, {"name": "sta"})) == ["Staff"]


def test_groups_filter_by_a_site_they_open(viewer, org, group):
    site = SiteFactory(organization=org, access_groups=[group])
    AccessGroupFactory(organization=org, name="Guests")
    assert names(viewer.get(LIST, {"site": site.pk})) == ["Staff"]


def test_groups_filter_by_a_station_they_open(viewer, org, group):
    station = ChargingStationFactory(organization=org)
    station.access_groups.add(group)
    AccessGroupFactory(organization=org, name="Guests")
    assert names(viewer.get(LIST, {"station": station.pk})) == ["Staff"]


def test_filtering_by_a_site_of_another_organization_is_refused(viewer, other_org):
    theirs = SiteFactory(organization=other_org)
    response = viewer.get(LIST, {"site": theirs.pk})
    assert response.status_code == 400
    assert "site" in response.data


def test_groups_order_by_name_descending(viewer, org, group):
    AccessGroupFactory(organization=org, name="Guests")
    assert names(viewer.get(LIST, {"ordering": "-name"})) == ["Staff", "Guests"]


def test_sites_given_as_an_object_instead_of_a_list_are_refused(admin, org, group):
    site = SiteFactory(organization=org, access_groups=[group])
    response = admin.patch(f"{LIST}{group.pk}/", {"sites": {}, "stations": {}}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"sites", "stations"}
    assert list(group.sites.all()) == [site]
