"""Matrix rows of the fleet API: firmware campaigns, their actions and their stations."""

from firmware.models import FirmwareImage
from fleet.choices import CampaignState, CampaignStationState
from fleet.models import Campaign, CampaignStation
from organizations.choices import Role
from tests.api.matrix import Endpoint
from tests.fleet.factories_campaigns import make_campaign, make_image, make_station

IMAGE_VERSION = "2.0.0-matrix"


def image_of(world):
    """The world's campaign image (made on first use: build_world knows no firmware)."""
    found = FirmwareImage.objects.filter(organization=world.org, version=IMAGE_VERSION).first()
    return found or make_image(world.org, version=IMAGE_VERSION)


def new_campaign(world, state=CampaignState.DRAFT, name="Extra"):
    """A campaign of the world's organization in `state`, targeting one fitting station."""
    # An image of its own, so every call makes the same rows (the list budgets count them).
    image = make_image(world.org, version=f"2.{FirmwareImage.objects.count()}")
    station = make_station(world.org, site=world.site)
    campaign = make_campaign(world.org, image, stations=[station], name=name, state=state)
    if state != CampaignState.DRAFT:
        CampaignStation.objects.create(campaign=campaign, station=station, wave=0)
    return campaign


def campaign_of(world):
    """The world's draft campaign (made on first use, and again after a DELETE)."""
    found = Campaign.objects.filter(organization=world.org, name="Matrix").first()
    return found or new_campaign(world, name="Matrix")


def campaign_url(world):
    return f"/api/v1/campaigns/{campaign_of(world).pk}/"


# Each action is called on a campaign of its own in the state the action needs (the matrix
# may call it more than once); a draft for the changes that only drafts allow.
def action_url(action, state, failed=False):
    def url(world):
        campaign = new_campaign(world, state)
        if failed:
            campaign.targets.update(state=CampaignStationState.FAILED)
        return f"/api/v1/campaigns/{campaign.pk}/{action}"

    return url


# A list's URL adds a campaign (a campaign station) each time it is asked for: the same
# INSERTs every call, so the query budget compares like with like.
def campaigns_url(world):
    new_campaign(world, CampaignState.RUNNING)
    return "/api/v1/campaigns/"


def organization_campaigns_url(world):
    new_campaign(world, CampaignState.RUNNING)
    return f"/api/v1/organizations/{world.org.pk}/campaigns/"


def more_campaigns(world, n):
    for _ in range(n):
        new_campaign(world, CampaignState.RUNNING)


def campaign_stations_url(world):
    new_campaign(world, CampaignState.RUNNING)
    return "/api/v1/campaign-stations/"


def campaign_station_of(world):
    """The world's first campaign station (made on first use)."""
    found = CampaignStation.objects.filter(campaign__organization=world.org).order_by("pk").first()
    return found or new_campaign(world, CampaignState.RUNNING).targets.get()


def body(world):
    return {
        "name": "Wallbox 2.0",
        "image": image_of(world).pk,
        "target_sites": [world.site.pk],
        "canary_percent": 10,
        "wave_size": 5,
    }


ENDPOINTS = [
    Endpoint(
        "campaign-list",
        "get",
        campaigns_url,
        Role.VIEWER,
        ours=lambda w: Campaign.objects.filter(organization=w.org).earliest("pk").pk,
        more=more_campaigns,
    ),
    Endpoint(
        "organization-campaign-list",
        "get",
        organization_campaigns_url,
        Role.VIEWER,
        more=more_campaigns,
    ),
    Endpoint(
        "organization-campaign-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/campaigns/",
        Role.ADMIN,
        body=body,
        ok=(201,),
    ),
    Endpoint("campaign-detail", "get", campaign_url, Role.VIEWER),
    Endpoint("campaign-detail", "put", campaign_url, Role.ADMIN, body=body),
    Endpoint(
        "campaign-detail",
        "patch",
        campaign_url,
        Role.ADMIN,
        body=lambda w: {"name": "Wallbox 2.0 (night)"},
    ),
    Endpoint("campaign-detail", "delete", campaign_url, Role.ADMIN, ok=(204,)),
    Endpoint("campaign-launch", "post", action_url("launch/", CampaignState.DRAFT), Role.ADMIN),
    Endpoint("campaign-cancel", "post", action_url("cancel/", CampaignState.RUNNING), Role.ADMIN),
    Endpoint("campaign-pause", "post", action_url("pause/", CampaignState.RUNNING), Role.OPERATOR),
    Endpoint("campaign-resume", "post", action_url("resume/", CampaignState.PAUSED), Role.OPERATOR),
    Endpoint(
        "campaign-retry",
        "post",
        action_url("retry/", CampaignState.RUNNING, failed=True),
        Role.OPERATOR,
    ),
    Endpoint(
        "campaignstation-list",
        "get",
        campaign_stations_url,
        Role.VIEWER,
        ours=lambda w: campaign_station_of(w).pk,
        more=more_campaigns,
    ),
    Endpoint(
        "campaignstation-detail",
        "get",
        lambda w: f"/api/v1/campaign-stations/{campaign_station_of(w).pk}/",
        Role.VIEWER,
    ),
]
