"""The campaigns API: roles, tenancy, field errors, actions and the stations' progress."""

import pytest

from fleet import services
from fleet.choices import CampaignState, CampaignStationState
from fleet.models import Campaign, CampaignStation
from organizations.choices import Role
from tests.apiclients import client_as
from tests.fleet.factories_campaigns import make_campaign, make_image, make_site, make_station

pytestmark = pytest.mark.django_db


@pytest.fixture
def launched(org, image):
    """A running campaign of `org` over two stations (none sent yet)."""
    make_station(org, ocpp_id="CS-A", online=False)
    make_station(org, ocpp_id="CS-B", online=False)
    campaign = make_campaign(org, image, canary_percent=50, wave_size=1)
    services.launch_campaign(campaign)
    return campaign


def body(image, **fields):
    return {"name": "Wallbox 2.0", "image": image.pk, **fields}


def test_an_admin_creates_a_draft_in_the_organization_of_the_url(org, other_org, image):
    site = make_site(org, name="Depot")
    station = make_station(org, ocpp_id="CS-1")
    client = client_as(org, Role.ADMIN)

    response = client.post(
        f"/api/v1/organizations/{org.pk}/campaigns/",
        body(
            image,
            organization=other_org.pk,
            target_sites=[site.pk],
            target_stations=[station.pk],
            window_start="01:00",
            window_end="05:00",
        ),
        format="json",
    )

    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert (campaign.organization, campaign.state) == (org, CampaignState.DRAFT)
    assert list(campaign.target_sites.all()) == [site]
    assert list(campaign.target_stations.all()) == [station]


def test_an_operator_may_not_create_a_campaign(org, image):
    response = client_as(org, Role.OPERATOR).post(
        f"/api/v1/organizations/{org.pk}/campaigns/", body(image), format="json"
    )

    assert response.status_code == 403
    assert not Campaign.objects.exists()


def test_bad_input_answers_400_with_field_errors_and_writes_nothing(org, other_org, image):
    foreign_image = make_image(other_org)
    foreign_station = make_station(other_org, ocpp_id="FOREIGN")

    response = client_as(org, Role.ADMIN).post(
        f"/api/v1/organizations/{org.pk}/campaigns/",
        {
            "name": "",
            "image": foreign_image.pk,
            "target_stations": [foreign_station.pk],
            "target_filter": "connection_state=sideways",
            "window_start": "01:00",
            "canary_percent": 0,
        },
        format="json",
    )

    assert response.status_code == 400
    assert {"name", "image", "target_stations", "target_filter", "canary_percent"} <= set(
        response.json()
    )
    assert not Campaign.objects.exists()


def test_half_a_window_is_a_field_error(org, image):
    response = client_as(org, Role.ADMIN).post(
        f"/api/v1/organizations/{org.pk}/campaigns/",
        body(image, window_start="01:00"),
        format="json",
    )

    assert response.status_code == 400
    assert "window_end" in response.json()


def test_launch_freezes_the_stations_and_answers_their_count(org, image):
    make_station(org, ocpp_id="CS-1", online=False)
    campaign = make_campaign(org, image)

    response = client_as(org, Role.ADMIN).post(f"/api/v1/campaigns/{campaign.pk}/launch/")

    assert response.status_code == 200, response.json()
    assert response.json()["targets"] == 1
    assert response.json()["campaign"]["state"] == CampaignState.RUNNING
    assert response.json()["campaign"]["progress"] == {CampaignStationState.PENDING: 1}


def test_an_operator_may_not_launch_but_may_pause_and_resume(org, image, launched):
    operator = client_as(org, Role.OPERATOR)
    draft = make_campaign(org, image, name="Draft")

    assert operator.post(f"/api/v1/campaigns/{draft.pk}/launch/").status_code == 403
    assert operator.post(f"/api/v1/campaigns/{launched.pk}/cancel/").status_code == 403
    paused = operator.post(f"/api/v1/campaigns/{launched.pk}/pause/")
    assert (paused.status_code, paused.json()["state"]) == (200, CampaignState.PAUSED)
    resumed = operator.post(f"/api/v1/campaigns/{launched.pk}/resume/")
    assert (resumed.status_code, resumed.json()["state"]) == (200, CampaignState.RUNNING)


def test_an_action_the_state_does_not_allow_is_a_conflict(org, launched):
    response = client_as(org, Role.ADMIN).post(f"/api/v1/campaigns/{launched.pk}/resume/")

    assert response.status_code == 409
    assert response.json()["detail"] == "Only a paused campaign can be resumed."


def test_a_launched_campaign_cannot_be_changed_or_deleted(org, launched):
    client = client_as(org, Role.ADMIN)

    assert (
        client.patch(f"/api/v1/campaigns/{launched.pk}/", {"name": "x"}, format="json").status_code
        == 409
    )
    assert client.delete(f"/api/v1/campaigns/{launched.pk}/").status_code == 409
    assert Campaign.objects.get(pk=launched.pk).name == "Wallbox 2.0"


def test_a_draft_can_be_changed_and_deleted(org, image):
    campaign = make_campaign(org, image)
    client = client_as(org, Role.ADMIN)

    changed = client.patch(f"/api/v1/campaigns/{campaign.pk}/", {"wave_size": 3}, format="json")
    assert (changed.status_code, changed.json()["wave_size"]) == (200, 3)
    assert client.delete(f"/api/v1/campaigns/{campaign.pk}/").status_code == 204


def test_cancel_and_retry_answer_their_counts(org, launched):
    admin = client_as(org, Role.ADMIN)
    row = CampaignStation.objects.filter(campaign=launched).first()
    CampaignStation.objects.filter(pk=row.pk).update(state=CampaignStationState.FAILED)

    retried = admin.post(f"/api/v1/campaigns/{launched.pk}/retry/")
    assert (retried.status_code, retried.json()["count"]) == (200, 1)
    cancelled = admin.post(f"/api/v1/campaigns/{launched.pk}/cancel/")
    assert (cancelled.status_code, cancelled.json()["count"]) == (200, 2)


def test_campaign_stations_are_listed_per_campaign_within_a_query_budget(
    org, image, launched, django_assert_max_num_queries
):
    elsewhere = make_station(org, ocpp_id="CS-C", online=False)
    services.launch_campaign(make_campaign(org, image, name="Other", stations=[elsewhere]))
    client = client_as(org, Role.VIEWER)

    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/campaign-stations/?campaign={launched.pk}")

    assert response.status_code == 200
    assert [row["ocpp_id"] for row in response.json()["results"]] == ["CS-A", "CS-B"]
    assert [row["wave"] for row in response.json()["results"]] == [0, 1]


def test_campaigns_are_listed_with_their_progress_within_a_query_budget(
    org, image, launched, django_assert_max_num_queries
):
    for n in range(3):
        make_campaign(org, image, name=f"Draft {n}")
    client = client_as(org, Role.VIEWER)

    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/campaigns/")

    assert response.status_code == 200
    progress = {row["name"]: row["progress"] for row in response.json()["results"]}
    assert progress["Wallbox 2.0"] == {CampaignStationState.PENDING: 2}
    assert progress["Draft 0"] == {}


def test_an_outsider_sees_and_changes_nothing(org, other_org, launched):
    outsider = client_as(other_org, Role.OWNER)
    row = CampaignStation.objects.filter(campaign=launched).first()

    assert outsider.get("/api/v1/campaigns/").json()["results"] == []
    assert outsider.get(f"/api/v1/campaigns/{launched.pk}/").status_code == 404
    assert outsider.post(f"/api/v1/campaigns/{launched.pk}/pause/").status_code == 404
    assert outsider.post(f"/api/v1/campaigns/{launched.pk}/cancel/").status_code == 404
    assert outsider.delete(f"/api/v1/campaigns/{launched.pk}/").status_code == 404
    assert outsider.get(f"/api/v1/campaign-stations/{row.pk}/").status_code == 404
    assert outsider.get("/api/v1/campaign-stations/").json()["results"] == []
    assert (
        outsider.post(
            f"/api/v1/organizations/{org.pk}/campaigns/", {"name": "x"}, format="json"
        ).status_code
        == 404
    )
    assert Campaign.objects.get(pk=launched.pk).state == CampaignState.RUNNING
