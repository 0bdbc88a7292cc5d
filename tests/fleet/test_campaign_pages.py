"""The campaign pages: list, create, detail with its live progress, buttons by role."""

import pytest
from django.urls import reverse

from fleet import services
from fleet.choices import CampaignState
from fleet.models import Campaign
from organizations.choices import Role
from tests.fleet.factories_campaigns import make_campaign, make_image, make_site, make_station
from tests.portalclients import portal_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def launched(org, image):
    make_station(org, ocpp_id="CS-A", online=False)
    campaign = make_campaign(org, image)
    services.launch_campaign(campaign)
    return campaign


def url(name, organization, **kwargs):
    return reverse(f"fleet:{name}", kwargs={"org": organization.slug, **kwargs})


def test_the_list_shows_the_organizations_campaigns_within_a_query_budget(
    org, other_org, image, launched, django_assert_max_num_queries
):
    make_campaign(other_org, make_image(other_org), name="Their rollout")
    client = portal_client(org, Role.VIEWER)

    with django_assert_max_num_queries(12):
        response = client.get(url("campaign-list", org))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Wallbox 2.0" in content
    assert "Their rollout" not in content


def test_an_admin_creates_a_draft_from_the_form(org, image):
    site = make_site(org, "Europe/Stockholm", name="Depot")
    client = portal_client(org, Role.ADMIN)

    response = client.post(
        url("campaign-add", org),
        {
            "name": "Night rollout",
            "image": image.pk,
            "target_sites": [site.pk],
            "window_start": "01:00",
            "window_end": "05:00",
            "canary_percent": 10,
            "wave_size": 5,
            "failure_threshold": 20,
        },
    )

    campaign = Campaign.objects.get(name="Night rollout")
    assert response.status_code == 302
    assert response["Location"] == url("campaign-detail", org, pk=campaign.pk)
    assert (campaign.organization, campaign.state) == (org, CampaignState.DRAFT)
    assert list(campaign.target_sites.all()) == [site]


def test_the_form_shows_errors_with_400_and_saves_nothing(org, other_org, image):
    foreign_image = make_image(other_org)
    client = portal_client(org, Role.ADMIN)

    response = client.post(
        url("campaign-add", org),
        {
            "name": "Bad",
            "image": foreign_image.pk,
            "window_start": "01:00",
            "canary_percent": 10,
            "wave_size": 5,
            "failure_threshold": 20,
        },
    )

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"image", "window_end"}
    assert not Campaign.objects.exists()


def test_an_operator_may_not_open_the_create_form(org):
    assert portal_client(org, Role.OPERATOR).get(url("campaign-add", org)).status_code == 403


def test_a_draft_shows_the_stations_it_would_reach(org, image):
    make_station(org, ocpp_id="FITS")
    make_station(org, ocpp_id="OTHER-VENDOR", vendor="Otherco")
    campaign = make_campaign(org, image)

    response = portal_client(org, Role.ADMIN).get(url("campaign-detail", org, pk=campaign.pk))

    assert response.status_code == 200
    preview = response.context["preview"]
    assert [s.ocpp_id for s in preview.fitting] == ["FITS"]
    assert [s.ocpp_id for s in preview.not_fitting] == ["OTHER-VENDOR"]


def test_the_detail_page_refreshes_its_progress_on_live_campaign_events(org, launched):
    response = portal_client(org, Role.VIEWER).get(url("campaign-detail", org, pk=launched.pk))

    content = response.content.decode()
    assert f"live-campaign[detail.campaign=={launched.pk}] from:body" in content
    assert url("campaign-progress", org, pk=launched.pk) in content
    assert "CS-A" in content


def test_the_progress_fragment_lists_the_stations(org, launched):
    response = portal_client(org, Role.VIEWER).get(url("campaign-progress", org, pk=launched.pk))

    assert response.status_code == 200
    assert 'data-state="pending"' in response.content.decode()


def test_buttons_follow_the_role(org, launched):
    viewer = portal_client(org, Role.VIEWER).get(url("campaign-detail", org, pk=launched.pk))
    operator = portal_client(org, Role.OPERATOR).get(url("campaign-detail", org, pk=launched.pk))
    admin = portal_client(org, Role.ADMIN).get(url("campaign-detail", org, pk=launched.pk))

    pause = url("campaign-pause", org, pk=launched.pk)
    cancel = url("campaign-cancel", org, pk=launched.pk)
    assert pause not in viewer.content.decode()
    assert pause in operator.content.decode()
    assert cancel not in operator.content.decode()
    assert cancel in admin.content.decode()


def test_an_operator_pauses_and_resumes_but_may_not_cancel(org, launched):
    client = portal_client(org, Role.OPERATOR)

    assert client.post(url("campaign-pause", org, pk=launched.pk)).status_code == 302
    assert Campaign.objects.get(pk=launched.pk).state == CampaignState.PAUSED
    assert client.post(url("campaign-cancel", org, pk=launched.pk)).status_code == 403
    assert client.post(url("campaign-resume", org, pk=launched.pk)).status_code == 302
    assert Campaign.objects.get(pk=launched.pk).state == CampaignState.RUNNING


def test_an_admin_launches_a_draft(org, image):
    make_station(org, ocpp_id="CS-1", online=False)
    campaign = make_campaign(org, image)

    response = portal_client(org, Role.ADMIN).post(url("campaign-launch", org, pk=campaign.pk))

    assert response.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.RUNNING


def test_a_refused_action_is_said_and_changes_nothing(org, launched):
    client = portal_client(org, Role.ADMIN)

    response = client.post(url("campaign-launch", org, pk=launched.pk), follow=True)

    assert "Only a draft can be launched." in response.content.decode()
    assert Campaign.objects.get(pk=launched.pk).state == CampaignState.RUNNING


def test_an_outsider_sees_and_changes_nothing(org, other_org, launched):
    outsider = portal_client(other_org, Role.OWNER)

    assert outsider.get(url("campaign-detail", org, pk=launched.pk)).status_code == 404
    # Through their own organization's URLs, our campaign does not exist either.
    assert outsider.get(url("campaign-detail", other_org, pk=launched.pk)).status_code == 404
    assert outsider.get(url("campaign-progress", other_org, pk=launched.pk)).status_code == 404
    assert outsider.post(url("campaign-cancel", other_org, pk=launched.pk)).status_code == 404
    assert outsider.post(url("campaign-pause", org, pk=launched.pk)).status_code == 404
    assert Campaign.objects.get(pk=launched.pk).state == CampaignState.RUNNING


def test_the_form_starts_with_the_station_list_filter_it_was_linked_with(org, image):
    response = portal_client(org, Role.ADMIN).get(
        url("campaign-add", org), {"target_filter": "search=depot", "image": image.pk}
    )

    form = response.context["form"]
    assert (form.initial["target_filter"], str(form.initial["image"])) == (
        "search=depot",
        str(image.pk),
    )
