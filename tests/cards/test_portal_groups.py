"""Portal pages of access groups: list, add, edit, card assignment, delete."""

import pytest

from cards.api.serializers import AccessGroupSerializer
from cards.models import AccessGroup
from organizations.choices import Role
from tests.factories import AccessGroupFactory, ChargingStationFactory, IdTokenFactory, SiteFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

# As the API's access group endpoints: admins shape groups, operators move cards in and out.
BELOW_ADMIN = [Role.VIEWER, Role.OPERATOR]
ADMINS = [Role.ADMIN, Role.OWNER]
CARD_MOVERS = [Role.OPERATOR, Role.ADMIN, Role.OWNER]
BELOW_OPERATOR = [Role.VIEWER]


@pytest.fixture
def group(org):
    return AccessGroupFactory(organization=org, name="Staff", description="Our employees")


@pytest.fixture
def foreign_group(other_org):
    return AccessGroupFactory(organization=other_org, name="Outsiders")


@pytest.fixture
def admin(org):
    return portal_client(org, Role.ADMIN)


def group_data(**changes):
    """A valid group form, as an admin sends it."""
    data = {"name": "Fleet", "description": "", "add_uids": ""}
    data.update(changes)
    return data


def cards_data(add="", remove=""):
    """The group page's card form."""
    return {"add_uids": add, "remove_uids": remove}


def cards_url(org, group):
    return org_url(org, f"groups/{group.pk}/cards/")


def uids_of(group):
    return sorted(group.id_tokens.values_list("uid", flat=True))


# --- The list --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_group_list_renders_for_every_role(org, group, role):
    response = portal_client(org, role).get(org_url(org, "groups/"))
    assert response.status_code == 200
    assert list(response.context["groups"]) == [group]
    assert response.context["section"] == "groups"


def test_group_list_of_another_organization_is_404(org, other_org):
    assert portal_client(org, Role.OWNER).get(org_url(other_org, "groups/")).status_code == 404


def test_outsider_sees_none_of_the_organizations_groups(org, other_org, group, foreign_group):
    response = portal_client(other_org, Role.OWNER).get(org_url(other_org, "groups/"))
    assert list(response.context["groups"]) == [foreign_group]
    assert "Staff" not in response.content.decode()


def test_group_list_shows_card_count_and_where_the_group_opens(org, group):
    IdTokenFactory(organization=org, access_groups=[group])
    IdTokenFactory(organization=org, access_groups=[group])
    SiteFactory(organization=org, name="Depot Nord", access_groups=[group])
    station = ChargingStationFactory(organization=org, ocpp_id="CS-GATE")
    station.access_groups.add(group)
    response = portal_client(org).get(org_url(org, "groups/"))
    body = response.content.decode()
    assert response.context["groups"][0].card_count == 2
    assert "Depot Nord" in body
    assert "CS-GATE" in body


def test_group_list_filters_by_name(org, group):
    AccessGroupFactory(organization=org, name="Visitors")
    response = portal_client(org).get(org_url(org, "groups/"), {"name": "visit"})
    assert [g.name for g in response.context["groups"]] == ["Visitors"]


def test_group_list_refuses_another_organizations_site_as_filter(org, other_org, group):
    foreign_site = SiteFactory(organization=other_org)
    response = portal_client(org).get(org_url(org, "groups/"), {"site": foreign_site.pk})
    assert response.context["filter"].errors
    assert list(response.context["groups"]) == []


def test_group_list_query_count_does_not_grow_with_groups(org, django_assert_max_num_queries):
    sites = [SiteFactory(organization=org) for _ in range(3)]
    stations = [ChargingStationFactory(organization=org) for _ in range(3)]
    for _ in range(20):
        group = AccessGroupFactory(organization=org)
        group.sites.set(sites)
        group.stations.set(stations)
        IdTokenFactory(organization=org, access_groups=[group])
    client = portal_client(org, Role.ADMIN)
    # Session, user, membership (twice), count, groups, their sites and stations, and the
    # site and station choices of the filter.
    with django_assert_max_num_queries(12):
        response = client.get(org_url(org, "groups/"))
    assert len(response.context["groups"]) == 20


@pytest.mark.parametrize("role", ADMINS)
def test_group_list_offers_admins_add_and_edit(org, group, role):
    body = portal_client(org, role).get(org_url(org, "groups/")).content.decode()
    assert org_url(org, "groups/add/") in body
    assert "Edit<span" in body


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_group_list_hides_write_buttons_below_admin(org, group, role):
    body = portal_client(org, role).get(org_url(org, "groups/")).content.decode()
    assert org_url(org, "groups/add/") not in body
    assert "Edit<span" not in body


# --- Add -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ADMINS)
def test_group_add_page_renders_for_admins(org, role):
    assert portal_client(org, role).get(org_url(org, "groups/add/")).status_code == 200


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_adding_a_group_is_403_below_admin(org, role):
    client = portal_client(org, role)
    assert client.get(org_url(org, "groups/add/")).status_code == 403
    assert client.post(org_url(org, "groups/add/"), group_data()).status_code == 403
    assert not AccessGroup.objects.exists()


def test_admin_adds_a_group_with_its_cards_and_sites(org, admin):
    IdTokenFactory(organization=org, uid="04AA01")
    IdTokenFactory(organization=org, uid="04AA02")
    site = SiteFactory(organization=org)
    response = admin.post(
        org_url(org, "groups/add/"),
        group_data(add_uids="04aa01\n04AA02", sites=[site.pk]),
    )
    group = AccessGroup.objects.get()
    assert response.status_code == 302
    assert response["Location"] == org_url(org, f"groups/{group.pk}/")
    assert group.organization == org
    assert uids_of(group) == ["04AA01", "04AA02"]
    assert list(group.sites.all()) == [site]


def test_adding_a_group_with_a_taken_name_is_refused(org, group, admin):
    response = admin.post(org_url(org, "groups/add/"), group_data(name="Staff"))
    assert response.status_code == 400
    assert "already exists" in str(response.context["form"].errors["name"])
    assert AccessGroup.objects.count() == 1


def test_a_name_another_organization_has_is_free_here(org, foreign_group, admin):
    response = admin.post(org_url(org, "groups/add/"), group_data(name="Outsiders"))
    assert response.status_code == 302


def test_a_group_name_with_the_csv_separator_is_refused(org, admin):
    response = admin.post(org_url(org, "groups/add/"), group_data(name="A;B"))
    assert response.status_code == 400
    assert not AccessGroup.objects.exists()


def test_adding_a_group_with_an_unknown_card_writes_nothing(org, admin):
    IdTokenFactory(organization=org, uid="04AA01")
    response = admin.post(org_url(org, "groups/add/"), group_data(add_uids="04AA01 04BEEF"))
    assert response.status_code == 400
    assert "04BEEF" in str(response.context["form"].errors["add_uids"])
    assert not AccessGroup.objects.exists()


def test_a_card_deleted_while_saving_the_group_writes_nothing(org, admin, monkeypatch):
    IdTokenFactory(organization=org, uid="04AA01")
    # The form's check passes, as when the card is deleted between the check and the write.
    monkeypatch.setattr("cards.forms.card_ids_of", lambda org_id, uids: [])
    response = admin.post(org_url(org, "groups/add/"), group_data(add_uids="04AA01 04BEEF"))
    assert response.status_code == 400
    assert "04BEEF" in str(response.context["form"].errors["add_uids"])
    assert not AccessGroup.objects.exists()


def test_a_twin_group_saved_meanwhile_is_a_form_error_not_a_crash(org, group, admin, monkeypatch):
    monkeypatch.setattr(AccessGroupSerializer, "validate_name", lambda self, name: name)
    response = admin.post(org_url(org, "groups/add/"), group_data(name="Staff"))
    assert response.status_code == 400
    assert "already exists" in str(response.context["form"].errors["name"])
    assert AccessGroup.objects.count() == 1


def test_another_organizations_card_is_unknown_to_a_group(org, other_org, admin):
    IdTokenFactory(organization=other_org, uid="04FF01")
    response = admin.post(org_url(org, "groups/add/"), group_data(add_uids="04FF01"))
    assert response.status_code == 400
    assert not AccessGroup.objects.exists()


def test_a_group_cannot_open_another_organizations_site(org, other_org, admin):
    foreign_site = SiteFactory(organization=other_org)
    response = admin.post(org_url(org, "groups/add/"), group_data(sites=[foreign_site.pk]))
    assert response.status_code == 400
    assert "sites" in response.context["form"].errors
    assert not AccessGroup.objects.exists()


def test_group_form_offers_only_the_organizations_sites_and_stations(org, other_org, admin):
    site = SiteFactory(organization=org)
    station = ChargingStationFactory(organization=org, site=site)
    SiteFactory(organization=other_org)
    ChargingStationFactory(organization=other_org)
    form = admin.get(org_url(org, "groups/add/")).context["form"]
    assert list(form.fields["sites"].queryset) == [site]
    assert list(form.fields["stations"].queryset) == [station]


def test_outsider_cannot_add_a_group_to_the_organization(org, other_org):
    client = portal_client(other_org, Role.OWNER)
    assert client.post(org_url(org, "groups/add/"), group_data()).status_code == 404
    assert not AccessGroup.objects.exists()


# --- Edit and assign cards -------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_group_page_renders_for_every_role(org, group, role):
    IdTokenFactory(organization=org, uid="04AA01", access_groups=[group])
    response = portal_client(org, role).get(org_url(org, f"groups/{group.pk}/"))
    assert response.status_code == 200
    assert [card.uid for card in response.context["cards"]] == ["04AA01"]


@pytest.mark.parametrize("role", BELOW_OPERATOR)
def test_group_page_shows_no_form_below_operator(org, group, role):
    body = portal_client(org, role).get(org_url(org, f"groups/{group.pk}/")).content.decode()
    assert 'name="add_uids"' not in body
    assert 'name="name"' not in body
    assert "Our employees" in body


def test_group_page_offers_an_operator_the_card_form_but_not_the_group_form(org, group):
    client = portal_client(org, Role.OPERATOR)
    body = client.get(org_url(org, f"groups/{group.pk}/")).content.decode()
    assert f'action="{cards_url(org, group)}"' in body
    assert 'name="remove_uids"' in body
    assert 'name="name"' not in body
    assert org_url(org, f"groups/{group.pk}/delete/") not in body


@pytest.mark.parametrize("role", ADMINS)
def test_group_page_offers_admins_the_group_form_and_the_card_form(org, group, role):
    body = portal_client(org, role).get(org_url(org, f"groups/{group.pk}/")).content.decode()
    assert 'name="name"' in body
    assert f'action="{cards_url(org, group)}"' in body


def test_another_organizations_group_page_is_404(org, foreign_group):
    client = portal_client(org, Role.OWNER)
    assert client.get(org_url(org, f"groups/{foreign_group.pk}/")).status_code == 404


def test_editing_another_organizations_group_is_404_and_changes_nothing(org, foreign_group, admin):
    response = admin.post(org_url(org, f"groups/{foreign_group.pk}/"), group_data(name="Mine"))
    assert response.status_code == 404
    foreign_group.refresh_from_db()
    assert foreign_group.name == "Outsiders"


def test_admin_renames_a_group(org, group, admin):
    response = admin.post(org_url(org, f"groups/{group.pk}/"), group_data(name="Employees"))
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.name == "Employees"


def test_a_group_keeps_its_own_name_free(org, group, admin):
    response = admin.post(org_url(org, f"groups/{group.pk}/"), group_data(name="Staff"))
    assert response.status_code == 302


def test_the_group_form_of_an_existing_group_changes_no_cards(org, group, admin):
    # Cards go through the card form, whose role (operator) is not the group form's.
    IdTokenFactory(organization=org, uid="04AA01")
    admin.post(org_url(org, f"groups/{group.pk}/"), group_data(name="Staff", add_uids="04AA01"))
    assert uids_of(group) == []


def test_admin_sets_where_a_group_may_charge(org, group, admin):
    site = SiteFactory(organization=org, access_groups=[group])
    station = ChargingStationFactory(organization=org)
    form = admin.get(org_url(org, f"groups/{group.pk}/")).context["form"]
    assert form.initial["sites"] == [site.pk]
    admin.post(org_url(org, f"groups/{group.pk}/"), group_data(name="Staff", stations=[station.pk]))
    assert (list(group.sites.all()), list(group.stations.all())) == ([], [station])


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_editing_a_group_is_403_below_admin(org, group, role):
    site = SiteFactory(organization=org)
    response = portal_client(org, role).post(
        org_url(org, f"groups/{group.pk}/"), group_data(name="Changed", sites=[site.pk])
    )
    assert response.status_code == 403
    group.refresh_from_db()
    assert (group.name, list(group.sites.all())) == ("Staff", [])


# --- Cards of a group ------------------------------------------------------------------------


@pytest.mark.parametrize("role", CARD_MOVERS)
def test_operators_and_up_add_and_remove_cards_by_uid(org, group, role):
    IdTokenFactory(organization=org, uid="04AA01", access_groups=[group])
    IdTokenFactory(organization=org, uid="04AA02", access_groups=[group])
    IdTokenFactory(organization=org, uid="04AA03")
    response = portal_client(org, role).post(
        cards_url(org, group), cards_data(add="04aa03", remove="04AA01, 04AA02")
    )
    assert response.status_code == 302
    assert response["Location"] == org_url(org, f"groups/{group.pk}/")
    assert uids_of(group) == ["04AA03"]


def test_changing_a_groups_cards_leaves_its_name_and_places_alone(org, group):
    site = SiteFactory(organization=org, access_groups=[group])
    IdTokenFactory(organization=org, uid="04AA01")
    data = {**cards_data(add="04AA01"), "name": "Changed", "sites": []}
    portal_client(org, Role.OPERATOR).post(cards_url(org, group), data)
    group.refresh_from_db()
    assert (group.name, list(group.sites.all()), uids_of(group)) == ("Staff", [site], ["04AA01"])


@pytest.mark.parametrize("role", BELOW_OPERATOR)
def test_changing_a_groups_cards_is_403_below_operator(org, group, role):
    IdTokenFactory(organization=org, uid="04AA01")
    response = portal_client(org, role).post(cards_url(org, group), cards_data(add="04AA01"))
    assert response.status_code == 403
    assert uids_of(group) == []


def test_the_card_form_by_get_is_405(org, group, admin):
    assert admin.get(cards_url(org, group)).status_code == 405


def test_adding_a_card_already_in_the_group_keeps_it_once(org, group, admin):
    IdTokenFactory(organization=org, uid="04AA01", access_groups=[group])
    admin.post(cards_url(org, group), cards_data(add="04AA01"))
    assert uids_of(group) == ["04AA01"]


def test_an_unknown_card_to_remove_changes_no_card(org, group, admin):
    IdTokenFactory(organization=org, uid="04AA01", access_groups=[group])
    IdTokenFactory(organization=org, uid="04AA02")
    response = admin.post(cards_url(org, group), cards_data(add="04AA02", remove="04AA01 04BEEF"))
    assert response.status_code == 400
    assert "04BEEF" in str(response.context["cards_form"].errors["remove_uids"])
    assert uids_of(group) == ["04AA01"]


def test_a_card_deleted_while_changing_the_group_changes_no_card(org, group, admin, monkeypatch):
    IdTokenFactory(organization=org, uid="04AA02")
    # The form's check passes, as when the card is deleted between the check and the write.
    monkeypatch.setattr("cards.forms.card_ids_of", lambda org_id, uids: [])
    response = admin.post(cards_url(org, group), cards_data(add="04AA02", remove="04BEEF"))
    assert response.status_code == 400
    assert "04BEEF" in str(response.context["cards_form"].errors["remove_uids"])
    assert uids_of(group) == []


def test_a_refused_card_change_shows_the_admin_the_group_form_as_stored(org, group, admin):
    response = admin.post(cards_url(org, group), cards_data(add="04BEEF"))
    assert response.status_code == 400
    assert response.context["form"]["name"].value() == "Staff"


def test_an_empty_card_form_is_refused(org, group, admin):
    response = admin.post(cards_url(org, group), cards_data())
    assert response.status_code == 400
    assert response.context["cards_form"].non_field_errors()


def test_adding_and_removing_the_same_card_is_refused(org, group, admin):
    IdTokenFactory(organization=org, uid="04AA01")
    response = admin.post(cards_url(org, group), cards_data(add="04AA01", remove="04aa01"))
    assert response.status_code == 400
    assert uids_of(group) == []


def test_a_uid_longer_than_stations_send_is_refused(org, group, admin):
    response = admin.post(cards_url(org, group), cards_data(add="X" * 37))
    assert response.status_code == 400
    assert "add_uids" in response.context["cards_form"].errors


def test_changing_the_cards_of_another_organizations_group_is_404(org, foreign_group):
    IdTokenFactory(organization=org, uid="04AA01")
    client = portal_client(org, Role.OWNER)
    response = client.post(cards_url(org, foreign_group), cards_data(add="04AA01"))
    assert response.status_code == 404
    assert uids_of(foreign_group) == []


def test_outsider_cannot_put_cards_into_the_organizations_group(org, other_org, group):
    IdTokenFactory(organization=other_org, uid="04FF01")
    client = portal_client(other_org, Role.OWNER)
    assert client.post(cards_url(other_org, group), cards_data(add="04FF01")).status_code == 404
    assert client.post(cards_url(org, group), cards_data(add="04FF01")).status_code == 404
    assert uids_of(group) == []


# --- Delete ----------------------------------------------------------------------------------


def test_admin_deletes_a_group_after_confirming_and_its_cards_stay(org, group, admin):
    card = IdTokenFactory(organization=org, access_groups=[group])
    url = org_url(org, f"groups/{group.pk}/delete/")
    assert admin.get(url).status_code == 200
    assert admin.post(url).status_code == 302
    assert not AccessGroup.objects.exists()
    card.refresh_from_db()
    assert list(card.access_groups.all()) == []


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_deleting_a_group_is_403_below_admin(org, group, role):
    response = portal_client(org, role).post(org_url(org, f"groups/{group.pk}/delete/"))
    assert response.status_code == 403
    assert AccessGroup.objects.filter(pk=group.pk).exists()


def test_deleting_another_organizations_group_is_404(org, foreign_group, admin):
    assert admin.post(org_url(org, f"groups/{foreign_group.pk}/delete/")).status_code == 404
    assert AccessGroup.objects.filter(pk=foreign_group.pk).exists()
