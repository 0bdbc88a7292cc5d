"""The Django admin of campaigns: read-mostly pages with the stations inline."""

import pytest

from fleet import services
from fleet.choices import CampaignState
from fleet.models import Campaign
from tests.fleet.factories_campaigns import make_campaign, make_image, make_station

pytestmark = pytest.mark.django_db


@pytest.fixture
def launched(org):
    make_station(org, ocpp_id="CS-ADMIN", online=False)
    campaign = make_campaign(org, make_image(org))
    services.launch_campaign(campaign)
    return campaign


def test_the_change_page_shows_the_campaigns_stations(superuser_client, launched):
    response = superuser_client.get(f"/admin/fleet/campaign/{launched.pk}/change/")

    assert response.status_code == 200
    assert "CS-ADMIN" in response.content.decode()


def test_the_list_offers_no_add_button_but_lists_campaigns(superuser_client, launched):
    assert superuser_client.get("/admin/fleet/campaign/").status_code == 200
    assert superuser_client.get("/admin/fleet/campaign/add/").status_code == 403


def test_support_pauses_a_campaign_with_the_admin_action(superuser_client, launched):
    response = superuser_client.post(
        "/admin/fleet/campaign/",
        {"action": "pause_selected", "_selected_action": [launched.pk]},
    )

    assert response.status_code == 302
    assert Campaign.objects.get(pk=launched.pk).state == CampaignState.PAUSED


def test_campaign_stations_have_a_read_only_page(superuser_client, launched):
    row = launched.targets.get()

    listed = superuser_client.get("/admin/fleet/campaignstation/", {"q": "CS-ADMIN"})
    page = superuser_client.get(f"/admin/fleet/campaignstation/{row.pk}/change/")

    assert list(listed.context["cl"].result_list) == [row]
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
