"""Set-up traps: a site or station no card can charge at says so; a new site gets its groups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cards.choices import IdTokenStatus
from cards.selectors import site_card_reach, station_card_reach
from organizations.choices import Role
from stations.models import ChargingStation, Site
from tests.factories import (
    AccessGroupFactory,
    ChargingStationFactory,
    IdTokenFactory,
    SiteFactory,
)
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

WARNING = "No card can charge here"


def site_page(site, tab="") -> str:
    return org_url(site.organization, f"sites/{site.pk}/{tab}")


def station_page(station) -> str:
    return org_url(station.organization, f"stations/{station.pk}/")


def test_a_site_in_no_access_group_warns_with_a_link_to_its_configuration(org):
    site = SiteFactory(organization=org)

    page = portal_client(org).get(site_page(site)).content.decode()

    assert WARNING in page
    assert "this site is in no access group" in page
    assert f'href="{site_page(site, "configuration/")}"' in page


def test_every_tab_of_the_site_shows_the_warning(org):
    site = SiteFactory(organization=org)

    for tab in ("sheet/", "configuration/", "controllers/"):
        assert WARNING in portal_client(org).get(site_page(site, tab)).content.decode()


def test_a_site_whose_group_holds_an_active_card_shows_no_warning(org):
    group = AccessGroupFactory(organization=org)
    site = SiteFactory(organization=org, access_groups=[group])
    IdTokenFactory(organization=org, access_groups=[group])

    assert WARNING not in portal_client(org).get(site_page(site)).content.decode()


@pytest.mark.parametrize(
    "card",
    [
        {"status": IdTokenStatus.BLOCKED},
        {"status": IdTokenStatus.EXPIRED},
        {"expires_at": timezone.now() - timedelta(days=1)},
        None,
    ],
)
def test_a_site_whose_groups_hold_no_active_card_warns(org, card):
    group = AccessGroupFactory(organization=org)
    site = SiteFactory(organization=org, access_groups=[group])
    if card is not None:
        IdTokenFactory(organization=org, access_groups=[group], **card)

    page = portal_client(org).get(site_page(site)).content.decode()

    assert WARNING in page
    assert "hold no active card" in page


def test_a_card_in_a_group_of_one_of_the_sites_stations_reaches_the_site(org):
    group = AccessGroupFactory(organization=org)
    station = ChargingStationFactory(organization=org)
    station.access_groups.set([group])
    IdTokenFactory(organization=org, access_groups=[group])

    assert not site_card_reach(station.site).closed
    assert WARNING not in portal_client(org).get(site_page(station.site)).content.decode()


def test_the_station_page_warns_when_neither_station_nor_site_is_in_a_group(org):
    station = ChargingStationFactory(organization=org)

    page = portal_client(org).get(station_page(station)).content.decode()

    assert WARNING in page
    assert f'href="{site_page(station.site, "configuration/")}"' in page


def test_the_station_page_has_no_warning_when_its_sites_group_holds_an_active_card(org):
    group = AccessGroupFactory(organization=org)
    station = ChargingStationFactory(
        organization=org, site=SiteFactory(organization=org, access_groups=[group])
    )
    IdTokenFactory(organization=org, access_groups=[group])

    assert WARNING not in portal_client(org).get(station_page(station)).content.decode()


def test_a_card_of_another_stations_group_does_not_reach_this_station(org):
    group = AccessGroupFactory(organization=org)
    site = SiteFactory(organization=org)
    elsewhere = ChargingStationFactory(organization=org, site=site)
    elsewhere.access_groups.set([group])
    here = ChargingStationFactory(organization=org, site=site)
    IdTokenFactory(organization=org, access_groups=[group])

    assert station_card_reach(here).closed
    assert not station_card_reach(elsewhere).closed


def test_the_check_is_one_query(org, django_assert_num_queries):
    group = AccessGroupFactory(organization=org)
    station = ChargingStationFactory(organization=org)
    station.site.access_groups.set([group])
    IdTokenFactory(organization=org, access_groups=[group])

    with django_assert_num_queries(1):
        reach = site_card_reach(station.site)
    with django_assert_num_queries(1):
        station_card_reach(station)
    assert (reach.has_groups, reach.has_active_cards) == (True, True)


def test_an_outsiders_site_and_station_are_404(org, other_org):
    station = ChargingStationFactory(organization=org)
    outsider = portal_client(other_org, Role.OWNER)

    assert outsider.get(site_page(station.site)).status_code == 404
    assert outsider.get(station_page(station)).status_code == 404
    assert (
        portal_client(org, Role.OWNER)
        .get(org_url(org, f"sites/{SiteFactory(organization=other_org).pk}/"))
        .status_code
        == 404
    )


# --- Adding a station on a new site --------------------------------------------------------------


def new_station(**fields):
    return {"ocpp_id": "CS-NEW-1", "plan": "business", "security_profile": "1", **fields}


def test_a_new_site_gets_the_access_groups_ticked_when_the_station_is_added(org):
    fleet, staff, _guests = (AccessGroupFactory(organization=org) for _ in range(3))

    response = portal_client(org, Role.ADMIN).post(
        org_url(org, "stations/add/"),
        new_station(new_site_name="Depot Nord", new_site_access_groups=[fleet.pk, staff.pk]),
    )

    assert response.status_code == 302
    site = Site.objects.get(name="Depot Nord")
    assert set(site.access_groups.all()) == {fleet, staff}


def test_the_only_access_group_is_ticked_for_a_new_site(org):
    only = AccessGroupFactory(organization=org)

    form = portal_client(org, Role.ADMIN).get(org_url(org, "stations/add/")).context["form"]

    assert form["new_site_access_groups"].value() == [only.pk]


def test_several_access_groups_are_offered_but_none_ticked(org):
    AccessGroupFactory.create_batch(2, organization=org)

    form = portal_client(org, Role.ADMIN).get(org_url(org, "stations/add/")).context["form"]

    assert form["new_site_access_groups"].value() in (None, [])


def test_another_organizations_groups_are_neither_offered_nor_accepted(org, other_org):
    ours = AccessGroupFactory(organization=org, name="Ours")
    theirs = AccessGroupFactory(organization=other_org, name="Theirs")
    client = portal_client(org, Role.ADMIN)

    page = client.get(org_url(org, "stations/add/")).content.decode()
    response = client.post(
        org_url(org, "stations/add/"),
        new_station(new_site_name="Depot Nord", new_site_access_groups=[ours.pk, theirs.pk]),
    )

    assert "Ours" in page
    assert "Theirs" not in page
    assert response.status_code == 400
    assert "new_site_access_groups" in response.context["form"].errors
    assert not Site.objects.filter(name="Depot Nord").exists()
    assert not ChargingStation.objects.filter(ocpp_id="CS-NEW-1").exists()


def test_groups_ticked_for_a_new_site_leave_an_existing_site_alone(org):
    group = AccessGroupFactory(organization=org)
    site = SiteFactory(organization=org)

    response = portal_client(org, Role.ADMIN).post(
        org_url(org, "stations/add/"), new_station(site=site.pk, new_site_access_groups=[group.pk])
    )

    assert response.status_code == 302
    assert not site.access_groups.exists()


@pytest.mark.parametrize("role", ROLES)
def test_the_warning_is_shown_to_every_member(org, role):
    site = SiteFactory(organization=org)

    assert WARNING in portal_client(org, role).get(site_page(site)).content.decode()
