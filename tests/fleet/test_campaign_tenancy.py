"""Campaigns and their stations belong to one organization: neither sees the other's."""

import pytest
from django.contrib.auth.models import AnonymousUser

from fleet.models import Campaign, CampaignStation
from organizations.choices import Role
from tests.apiclients import member
from tests.fleet.factories_campaigns import make_campaign, make_image, make_station

pytestmark = pytest.mark.django_db


def campaign_of(organization) -> Campaign:
    return make_campaign(organization, make_image(organization))


def campaign_station_of(organization) -> CampaignStation:
    return CampaignStation.objects.create(
        campaign=campaign_of(organization), station=make_station(organization), wave=0
    )


@pytest.mark.parametrize("build", [campaign_of, campaign_station_of])
def test_each_organization_sees_only_its_own_rows(build, org, other_org):
    ours, theirs = build(org), build(other_org)
    model = type(ours)
    viewer = member((org, Role.VIEWER))

    assert list(model.objects.for_org(org)) == [ours]
    assert list(model.objects.for_org(other_org)) == [theirs]
    assert list(model.objects.visible_to(viewer)) == [ours]
    assert not model.objects.visible_to(AnonymousUser()).exists()
