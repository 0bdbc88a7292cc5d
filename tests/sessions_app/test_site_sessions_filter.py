"""A site's Sessions tab: its station filter offers the site's own stations only."""

import pytest

from organizations.choices import Role
from tests.factories import ChargingStationFactory, SiteFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(org, other_org):
    here, there = SiteFactory(organization=org), SiteFactory(organization=org)
    return {
        "site": here,
        "own": ChargingStationFactory(organization=org, site=here, ocpp_id="CS-HERE"),
        "other_site": ChargingStationFactory(organization=org, site=there, ocpp_id="CS-THERE"),
        "outsider": ChargingStationFactory(organization=other_org, ocpp_id="CS-OUTSIDER"),
    }


def tab(org, site) -> str:
    return org_url(org, f"sites/{site.pk}/sessions/")


def station_choices(response) -> set[int]:
    field = response.context["filterset"].form.fields["station"]
    return {station.pk for station in field.queryset}


@pytest.mark.parametrize("role", ROLES)
def test_the_station_filter_offers_only_the_sites_own_stations(org, sites, role):
    response = portal_client(org, role).get(tab(org, sites["site"]))
    assert response.status_code == 200
    assert station_choices(response) == {sites["own"].pk}
    html = response.content.decode()
    assert "CS-HERE" in html
    assert "CS-THERE" not in html and "CS-OUTSIDER" not in html


def test_a_station_of_another_site_in_the_query_is_refused(org, sites):
    viewer = portal_client(org, Role.VIEWER)
    response = viewer.get(tab(org, sites["site"]), {"station": sites["other_site"].pk})
    assert response.status_code == 400


def test_the_sessions_list_still_offers_every_station_of_the_organization(org, sites):
    response = portal_client(org, Role.VIEWER).get(org_url(org, "sessions/"))
    assert station_choices(response) == {sites["own"].pk, sites["other_site"].pk}


def test_an_outsider_gets_404_for_the_tab(org, other_org, sites):
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.get(tab(org, sites["site"])).status_code == 404
