"""The portal's frame: login, the organization from the URL, roles, switcher, language."""

import pytest
from django.test import Client

from organizations.choices import Role
from portal.models import UserPreference
from tests.apiclients import member
from tests.factories import ChargingSessionFactory, ChargingStationFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_the_login_page(org):
    response = Client().get(org_url(org))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_login_page_logs_a_member_in_and_lands_on_their_dashboard(org):
    user = member((org, Role.VIEWER))
    user.set_password("a-long-password-2026")
    user.save()
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": "a-long-password-2026"}
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).url == org_url(org)


def test_wrong_password_shows_the_form_again_with_an_error(org):
    user = member((org, Role.VIEWER))
    response = Client().post("/accounts/login/", {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_renders_for_every_role(org, role):
    response = portal_client(org, role).get(org_url(org))
    assert response.status_code == 200
    assert response.context["organization"] == org


def test_another_organizations_dashboard_is_404(org, other_org):
    assert portal_client(org, Role.OWNER).get(org_url(other_org)).status_code == 404


def test_unknown_organization_is_404_like_another_ones(org):
    assert portal_client(org).get("/o/no-such-org/").status_code == 404


def test_dashboard_counts_only_the_organizations_own_stations_and_sessions(org, other_org):
    mine = ChargingStationFactory(organization=org, connection_state="online")
    ChargingStationFactory(organization=org)
    theirs = ChargingStationFactory(organization=other_org, connection_state="online")
    ChargingSessionFactory(station=mine, organization=org)
    ChargingSessionFactory(station=theirs, organization=other_org)
    context = portal_client(org).get(org_url(org)).context
    assert (context["stations_online"], context["stations_offline"]) == (1, 1)
    assert context["running_count"] == 1


def test_switcher_lists_every_organization_of_the_user(org, other_org):
    user = member((org, Role.VIEWER), (other_org, Role.ADMIN))
    client = Client()
    client.force_login(user)
    body = client.get(org_url(org)).content.decode()
    assert f'value="{org_url(other_org)}"' in body
    assert client.get(org_url(other_org)).status_code == 200


def test_home_sends_a_member_to_their_organization(org):
    response = portal_client(org).get("/")
    assert response.status_code == 302
    assert response["Location"] == org_url(org)


def test_home_tells_a_user_without_organization_so(db):
    client = Client()
    client.force_login(member())
    assert b"No organization yet" in client.get("/").content


def test_language_follows_the_browser_by_default(org):
    response = portal_client(org).get(org_url(org), HTTP_ACCEPT_LANGUAGE="de")
    assert response.context["LANGUAGE_CODE"] == "de"


def test_language_switch_is_saved_for_the_user_and_wins_over_the_browser(org):
    user = member((org, Role.VIEWER))
    client = Client()
    client.force_login(user)
    response = client.post("/language/", {"language": "sv", "next": org_url(org)})
    assert response.status_code == 302
    assert response["Location"] == org_url(org)
    assert UserPreference.objects.get(user=user).language == "sv"
    # A fresh login in another browser that asks for German still gets Swedish.
    other_browser = Client()
    other_browser.force_login(user)
    page = other_browser.get(org_url(org), HTTP_ACCEPT_LANGUAGE="de")
    assert page.context["LANGUAGE_CODE"] == "sv"


def test_language_switch_refuses_an_offsite_next_url(org):
    response = portal_client(org).post(
        "/language/", {"language": "fr", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_settings_page_saves_a_language_and_refuses_an_unknown_one(org):
    client = portal_client(org)
    assert client.post("/settings/", {"language": "xx"}).status_code == 400
    assert client.post("/settings/", {"language": "fr"}).status_code == 302
    assert client.get("/settings/").context["LANGUAGE_CODE"] == "fr"


def test_password_change_page_changes_the_password(org):
    user = member((org, Role.VIEWER))
    user.set_password("old-password-2026!")
    user.save()
    client = Client()
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "old-password-2026!",
            "new_password1": "new-password-2026!",
            "new_password2": "new-password-2026!",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("new-password-2026!")


def test_logout_needs_a_post_and_ends_the_session(org):
    client = portal_client(org)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get(org_url(org)).status_code == 302


def test_times_show_in_the_organizations_time_zone(org):
    from datetime import UTC, datetime

    from sessions_app.models import ChargingSession

    org.timezone = "Europe/Stockholm"
    org.save()
    station = ChargingStationFactory(organization=org)
    ChargingSessionFactory(
        station=station, organization=org, start=datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    )
    assert ChargingSession.objects.count() == 1
    body = portal_client(org).get(org_url(org)).content.decode()
    # 10:00 UTC is noon in Stockholm in summer (English format: "July 1, 2026, noon").
    assert "July 1, 2026, noon" in body
    assert "July 1, 2026, 10 a.m." not in body


def test_the_station_figures_fragment_counts_only_the_organizations_own_and_swaps_the_counts(
    org, other_org
):
    mine = ChargingStationFactory(organization=org, connection_state="online", connectors=2)
    mine.connectors.filter(connector_id=1).update(status="Faulted")
    ChargingStationFactory(organization=other_org, connection_state="online", connectors=3)
    response = portal_client(org).get(org_url(org) + "station-figures/")
    assert response.status_code == 200
    assert (response.context["stations_online"], response.context["stations_offline"]) == (1, 0)
    counts = {status: n for status, _, n in response.context["connector_statuses"] if n}
    assert counts == {"Faulted": 1, mine.connectors.exclude(connector_id=1).get().status: 1}
    body = response.content.decode()
    assert 'id="stations-online" data-testid="stations-online" hx-swap-oob="true">1<' in body


def test_another_organizations_station_figures_are_404(org, other_org):
    response = portal_client(org, Role.OWNER).get(org_url(other_org) + "station-figures/")
    assert response.status_code == 404
