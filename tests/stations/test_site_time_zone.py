"""A site's own time zone (blank: its organization's), set in the portal, the API and validated."""

import pytest

from organizations.choices import Role
from stations.models import Site
from tests.apiclients import client_as
from tests.factories import SiteFactory
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db


def test_the_site_configuration_form_sets_the_time_zone(org):
    site = SiteFactory(organization=org)

    response = portal_client(org, Role.ADMIN).post(
        org_url(org, f"sites/{site.pk}/configuration/"),
        {"grid_capacity_kw": "", "time_zone": "Europe/Stockholm"},
    )

    assert response.status_code == 302
    assert Site.objects.get(pk=site.pk).time_zone == "Europe/Stockholm"


def test_the_api_refuses_an_unknown_time_zone(org):
    site = SiteFactory(organization=org)

    response = client_as(org, Role.ADMIN).patch(
        f"/api/v1/sites/{site.pk}/", {"time_zone": "Mars/Olympus_Mons"}, format="json"
    )

    assert response.status_code == 400
    assert "time_zone" in response.json()
    assert Site.objects.get(pk=site.pk).time_zone == ""


def test_an_outsider_cannot_change_a_sites_time_zone(org, other_org):
    site = SiteFactory(organization=org)

    response = client_as(other_org, Role.OWNER).patch(
        f"/api/v1/sites/{site.pk}/", {"time_zone": "Asia/Tokyo"}, format="json"
    )

    assert response.status_code == 404
    assert Site.objects.get(pk=site.pk).time_zone == ""
