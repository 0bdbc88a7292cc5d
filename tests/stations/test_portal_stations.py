"""Portal station pages: all stations, a station, adding a station.

The station page's command log and remote control: tests/ocpp_gateway/test_remote_portal.py.
"""

import re

import pytest

from ocpp_gateway.models import CommandLog
from organizations.choices import Role
from stations.choices import ConnectorStatus
from stations.models import ChargingStation, Connector, Site, StatusEvent
from stations.views import NEW_PASSWORD_SESSION_KEY
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    SiteFactory,
)
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db


def station_url(station, tail=""):
    return org_url(station.organization, f"stations/{station.pk}/{tail}")


def listed_ids(response) -> list[str]:
    """The OCPP identities in the station list's table, in order."""
    return [station.ocpp_id for station in response.context["stations"]]


# --- All stations ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_station_list_renders_for_every_role(org, station, role):
    response = portal_client(org, role).get(org_url(org, "stations/"))
    assert response.status_code == 200
    assert listed_ids(response) == ["CS-DEMO-1"]
    assert response.context["section"] == "stations"


def test_station_list_of_another_organization_is_404(org, other_org):
    assert portal_client(org, Role.OWNER).get(org_url(other_org, "stations/")).status_code == 404


def test_outsider_sees_none_of_the_organizations_stations(org, other_org, station):
    ChargingStationFactory(organization=other_org, ocpp_id="CS-THEIRS")
    response = portal_client(other_org, Role.OWNER).get(org_url(other_org, "stations/"))
    assert listed_ids(response) == ["CS-THEIRS"]
    assert b"CS-DEMO-1" not in response.content


def test_station_list_marks_connection_and_connector_badges_for_live_updates(org, station):
    body = portal_client(org).get(org_url(org, "stations/")).content.decode()
    assert f'data-live-station="{station.pk}"' in body
    for connector in station.connectors.all():
        assert f'data-live-connector="{connector.pk}"' in body


def test_station_list_offers_add_station_to_admins_only(org):
    add = org_url(org, "stations/add/").encode()
    assert add not in portal_client(org, Role.OPERATOR).get(org_url(org, "stations/")).content
    assert add in portal_client(org, Role.ADMIN).get(org_url(org, "stations/")).content


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("demo-1", ["CS-DEMO-1"]),
        ("SN-777", ["CS-SERIAL"]),
        ("harbour", ["CS-SITE"]),
        ("abb terra", ["CS-VENDOR"]),
    ],
)
def test_station_search_matches_identity_serial_site_and_vendor_model(org, station, query, found):
    ChargingStationFactory(organization=org, ocpp_id="CS-SERIAL", serial_number="SN-777")
    harbour = SiteFactory(organization=org, name="Harbour car park")
    ChargingStationFactory(organization=org, ocpp_id="CS-SITE", site=harbour)
    ChargingStationFactory(organization=org, ocpp_id="CS-VENDOR", vendor="ABB", model="Terra AC")
    response = portal_client(org).get(org_url(org, "stations/"), {"search": query})
    assert listed_ids(response) == found


def test_station_list_filters_by_site(org, station):
    other_site = SiteFactory(organization=org)
    ChargingStationFactory(organization=org, ocpp_id="CS-ELSEWHERE", site=other_site)
    response = portal_client(org).get(org_url(org, "stations/"), {"site": other_site.pk})
    assert listed_ids(response) == ["CS-ELSEWHERE"]


def test_station_list_filters_by_connection_state(org, station):
    ChargingStationFactory(organization=org, ocpp_id="CS-ONLINE", connection_state="online")
    response = portal_client(org).get(org_url(org, "stations/"), {"connection_state": "online"})
    assert listed_ids(response) == ["CS-ONLINE"]


def test_station_list_filters_by_connector_status(org, station):
    # Online: an offline station's connectors show (and filter) as not available.
    charging = ChargingStationFactory(
        organization=org, ocpp_id="CS-CHARGING", connection_state="online"
    )
    Connector.objects.filter(station=charging, connector_id=2).update(
        status=ConnectorStatus.CHARGING
    )
    response = portal_client(org).get(org_url(org, "stations/"), {"status": "Charging"})
    assert listed_ids(response) == ["CS-CHARGING"]


def test_station_list_site_filter_offers_only_the_organizations_sites(org, other_org, station):
    theirs = SiteFactory(organization=other_org)
    response = portal_client(org).get(org_url(org, "stations/"), {"site": theirs.pk})
    assert "site" in response.context["filterset"].errors
    choices = response.context["filterset"].form.fields["site"].queryset
    assert list(choices) == [station.site]


def test_station_list_shows_fifty_stations_a_page(org):
    site = SiteFactory(organization=org)
    for number in range(51):
        ChargingStationFactory(
            organization=org, site=site, ocpp_id=f"CS-{number:03d}", connectors=0
        )
    client = portal_client(org)
    first = client.get(org_url(org, "stations/"))
    second = client.get(org_url(org, "stations/"), {"page": 2})
    assert (len(listed_ids(first)), listed_ids(second)) == (50, ["CS-050"])


def test_station_list_queries_do_not_grow_with_the_stations(org, django_assert_max_num_queries):
    for _ in range(12):
        ChargingStationFactory(organization=org)
    client = portal_client(org)
    # Session, user, membership, the switcher's memberships, count, stations, their
    # connectors, the site filter's choices.
    with django_assert_max_num_queries(8):
        # Offline stations: their connectors show as not available.
        response = client.get(org_url(org, "stations/"), {"status": "Unavailable"})
    assert len(listed_ids(response)) == 12


# --- A station ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_station_page_renders_for_every_role(org, station, role):
    response = portal_client(org, role).get(station_url(station))
    assert response.status_code == 200
    assert response.context["station"] == station


@pytest.mark.parametrize(
    ("method", "tail"),
    [
        ("get", ""),
        ("post", "commands/"),
        ("get", "commands/?command=restart_station"),
        ("get", "connect/"),
        ("get", "parts/commands/"),
    ],
)
def test_another_organizations_station_is_404(org, other_org, method, tail):
    theirs = ChargingStationFactory(organization=other_org)
    client = portal_client(org, Role.OWNER)
    url = org_url(org, f"stations/{theirs.pk}/{tail}")
    response = getattr(client, method)(url, {"command": "restart_station", "confirm": "yes"})
    assert response.status_code == 404
    assert not CommandLog.objects.exists()


def test_station_page_shows_connectors_with_live_status_hooks(org, station):
    body = portal_client(org).get(station_url(station)).content.decode()
    assert f'data-live-station="{station.pk}"' in body
    assert f'data-live-station-status="{station.pk}"' in body
    for connector in station.connectors.all():
        assert f'data-live-connector="{connector.pk}"' in body
    assert f"DE*ABC*E{station.pk}*2" in body


def test_station_page_lists_recent_sessions_linking_to_their_page(org, station):
    session = ChargingSessionFactory(station=station)
    body = portal_client(org).get(station_url(station)).content.decode()
    assert f'href="{org_url(org, f"sessions/{session.pk}/")}"' in body


def test_station_page_lists_recent_status_events(org, station):
    StatusEvent.objects.create(
        station=station,
        connector_number=1,
        status="Faulted",
        error_code="GroundFailure",
        timestamp="2026-03-01T08:00:00Z",
    )
    body = portal_client(org).get(station_url(station)).content.decode()
    assert "GroundFailure" in body


# --- Adding a station --------------------------------------------------------------------------


def add_url(org):
    return org_url(org, "stations/add/")


def new_station(**fields):
    return {"ocpp_id": "CS-NEW-1", "plan": "business", "security_profile": "1", **fields}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
def test_add_station_page_renders_for_admins(org, role):
    assert portal_client(org, role).get(add_url(org)).status_code == 200


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_add_station_is_403_below_admin_and_writes_nothing(org, station, role):
    response = portal_client(org, role).post(add_url(org), new_station(site=station.site_id))
    assert response.status_code == 403
    assert not ChargingStation.objects.filter(ocpp_id="CS-NEW-1").exists()


def test_add_station_on_an_existing_site(org, station):
    response = portal_client(org, Role.ADMIN).post(add_url(org), new_station(site=station.site_id))
    added = ChargingStation.objects.get(ocpp_id="CS-NEW-1")
    assert response.status_code == 302
    assert response["Location"] == station_url(added, "connect/")
    assert (added.organization, added.site) == (org, station.site)


def test_add_station_with_a_new_site_creates_the_site_in_the_organization(org):
    response = portal_client(org, Role.ADMIN).post(
        add_url(org),
        new_station(new_site_name="Depot Nord", new_site_city="Kiel", new_site_country="de"),
    )
    assert response.status_code == 302
    site = Site.objects.get(name="Depot Nord")
    assert (site.organization, site.city, site.country) == (org, "Kiel", "DE")
    assert ChargingStation.objects.get(ocpp_id="CS-NEW-1").site == site


def test_add_station_shows_the_generated_password_once(org, station):
    client = portal_client(org, Role.ADMIN)
    response = client.post(add_url(org), new_station(site=station.site_id), follow=True)
    password = re.search(r'<code class="secret"[^>]*>([^<]+)</code>', response.content.decode())[1]
    added = ChargingStation.objects.get(ocpp_id="CS-NEW-1")
    assert added.check_password(password)
    assert password not in added.password_hash
    assert NEW_PASSWORD_SESSION_KEY not in client.session
    again = client.get(station_url(added, "connect/"))
    assert password.encode() not in again.content
    assert b'class="secret"' not in again.content


def test_connection_instructions_give_url_subprotocols_and_username(org, station):
    client = portal_client(org, Role.ADMIN)
    response = client.post(add_url(org), new_station(site=station.site_id), follow=True)
    body = response.content.decode()
    assert "ws://testserver/ocpp/CS-NEW-1" in body
    assert "<code>ocpp1.6</code>" in body
    assert "<code>ocpp2.0.1</code>" in body
    assert "<dt>Username</dt><dd><code>CS-NEW-1</code></dd>" in body


def test_add_station_refuses_an_identity_taken_in_another_organization(org, other_org):
    ChargingStationFactory(organization=other_org, ocpp_id="CS-NEW-1")
    response = portal_client(org, Role.ADMIN).post(
        add_url(org), new_station(new_site_name="Depot Nord")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["ocpp_id"] == [
        "A station with this OCPP identity already exists."
    ]
    assert not Site.objects.filter(name="Depot Nord").exists()


def test_a_new_site_is_not_kept_when_the_station_cannot_be_saved(org, other_org, monkeypatch):
    from stations.forms import NewStationForm

    # Another request takes the identity between the form's check and the save.
    ChargingStationFactory(organization=other_org, ocpp_id="CS-NEW-1")
    monkeypatch.setattr(NewStationForm, "clean_ocpp_id", lambda form: form.cleaned_data["ocpp_id"])
    monkeypatch.setattr(NewStationForm, "validate_unique", lambda form: None)
    response = portal_client(org, Role.ADMIN).post(
        add_url(org), new_station(new_site_name="Depot Nord")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["ocpp_id"]
    assert not Site.objects.filter(name="Depot Nord").exists()


def test_add_station_needs_a_site_or_a_new_sites_name(org):
    response = portal_client(org, Role.ADMIN).post(add_url(org), new_station())
    assert response.status_code == 400
    assert "new_site_name" in response.context["form"].errors
    assert not ChargingStation.objects.exists()


def test_add_station_refuses_another_organizations_site(org, other_org):
    theirs = SiteFactory(organization=other_org)
    response = portal_client(org, Role.ADMIN).post(add_url(org), new_station(site=theirs.pk))
    assert response.status_code == 400
    assert "site" in response.context["form"].errors
    assert not ChargingStation.objects.exists()


def test_add_station_refuses_an_identity_with_characters_a_url_cannot_carry(org, station):
    response = portal_client(org, Role.ADMIN).post(
        add_url(org), new_station(ocpp_id="CS 1/2", site=station.site_id)
    )
    assert response.status_code == 400
    assert "ocpp_id" in response.context["form"].errors
