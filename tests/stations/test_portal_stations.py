"""Portal station pages: all stations, a station with its remote control, adding a station."""

import re

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import Client
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, ResetStatus

from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.registry import COMMANDS
from organizations.choices import Role
from stations.choices import ConnectionState, ConnectorStatus
from stations.models import ChargingStation, Connector, Site, StatusEvent
from stations.views import NEW_PASSWORD_SESSION_KEY, PANEL_COMMANDS, StationCommandView
from tests.apiclients import member
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    SiteFactory,
    UserFactory,
)
from tests.ocpp_gateway.conftest import Station, connected_station
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db


def station_url(station, tail=""):
    return org_url(station.organization, f"stations/{station.pk}/{tail}")


def command_url(station):
    return station_url(station, "commands/")


def listed_ids(response) -> list[str]:
    """The OCPP identities in the station list's table, in order."""
    return [station.ocpp_id for station in response.context["stations"]]


def go_online(station):
    ChargingStation.objects.filter(pk=station.pk).update(connection_state=ConnectionState.ONLINE)


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
    charging = ChargingStationFactory(organization=org, ocpp_id="CS-CHARGING")
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
        response = client.get(org_url(org, "stations/"), {"status": "Unknown"})
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


def test_station_page_command_log_shows_who_asked_and_the_answer(org, station):
    asker = UserFactory(username="night-shift")
    CommandLog.objects.create(
        station=station,
        command="restart_station",
        action="Reset",
        requested_by=asker,
        status=CommandStatus.REJECTED,
        response={"status": "Rejected"},
    )
    response = portal_client(org).get(station_url(station))
    row = re.search(r'<tr data-command-log="\d+">(.*?)</tr>', response.content.decode(), re.S)
    assert "night-shift" in row[1]
    assert "status: Rejected" in row[1]


def test_command_log_part_refreshes_alone(org, station):
    CommandLog.objects.create(station=station, command="clear_rfid_cache", action="ClearCache")
    response = portal_client(org).get(station_url(station, "parts/commands/"))
    assert response.status_code == 200
    assert b"Clear RFID cache" in response.content
    assert b"<html" not in response.content


def test_control_panel_lists_the_seven_commands_first_then_the_others(org, station):
    response = portal_client(org, Role.OPERATOR).get(station_url(station))
    panel = [button.spec.name for button in response.context["panel_commands"]]
    more = {button.spec.name for button in response.context["more_commands"]}
    assert panel == list(PANEL_COMMANDS)
    assert more == set(COMMANDS) - set(PANEL_COMMANDS)
    body = response.content.decode()
    assert 'id="station-actions"' in body
    assert "More commands" in body


def test_viewer_sees_every_command_disabled_with_the_role_it_needs(org, station):
    go_online(station)
    body = portal_client(org, Role.VIEWER).get(station_url(station)).content.decode()
    button = re.search(r'<button[^>]*value="restart_station"[^>]*>', body)[0]
    assert " disabled" in button
    assert re.search(r'class="reason" id="reason-restart_station">Requires role Operator', body)


def test_offline_station_greys_out_commands_that_need_the_station(org, station):
    response = portal_client(org, Role.OPERATOR).get(station_url(station))
    reasons = {button.spec.name: button.reason for button in response.context["panel_commands"]}
    assert reasons["restart_station"] == "The station is offline."


def test_online_station_enables_restart_for_an_operator(org, station):
    go_online(station)
    response = portal_client(org, Role.OPERATOR).get(station_url(station))
    reasons = {button.spec.name: button.reason for button in response.context["panel_commands"]}
    assert reasons["restart_station"] is None


def test_start_charging_offers_the_stations_connectors(org, station):
    go_online(station)
    body = portal_client(org, Role.OPERATOR).get(station_url(station)).content.decode()
    select = re.search(r'<select name="connector_id"[^>]*id="id_start_charging_connector_id">'
                       r"(.*?)</select>", body, re.S)[1]  # fmt: skip
    assert re.findall(r'value="(\d*)"', select) == ["", "1", "2"]


# --- Running a command -------------------------------------------------------------------------


def test_a_reservation_time_typed_in_the_browser_reaches_the_confirmation(org, station):
    go_online(station)
    group = AccessGroupFactory(organization=org)
    station.site.access_groups.add(group)
    IdTokenFactory(organization=org, uid="04A1B2C3D4", access_groups=[group])
    response = portal_client(org, Role.OPERATOR).post(
        command_url(station),
        {"command": "reserve", "id_tag": "04A1B2C3D4", "expiry": "2030-01-01T12:00"},
    )
    assert response.status_code == 200
    assert b"Really Reserve on CS-DEMO-1?" in response.content
    assert b'name="expiry" value="2030-01-01T12:00"' in response.content


def test_comma_separated_configuration_keys_reach_the_command_as_a_list(org, station):
    go_online(station)
    response = portal_client(org, Role.OPERATOR).post(
        command_url(station),
        {"command": "get_configuration", "keys": "HeartbeatInterval, MeterValueSampleInterval"},
    )
    assert response.status_code == 200
    assert response.context["confirm"].params() == {
        "keys": ["HeartbeatInterval", "MeterValueSampleInterval"]
    }


def test_cancel_with_htmx_brings_the_commands_back(org, station):
    response = portal_client(org, Role.OPERATOR).get(command_url(station), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'value="restart_station"' in response.content
    assert b"Really" not in response.content


def test_the_command_url_without_a_command_leads_back_to_the_station(org, station):
    response = portal_client(org, Role.OPERATOR).get(command_url(station))
    assert (response.status_code, response["Location"]) == (302, station_url(station))


def test_viewer_posting_a_command_gets_403_and_nothing_is_sent(org, station):
    go_online(station)
    response = portal_client(org, Role.VIEWER).post(
        command_url(station), {"command": "restart_station", "type": "Soft", "confirm": "yes"}
    )
    assert response.status_code == 403
    assert b"Requires role Operator" in response.content
    assert not CommandLog.objects.exists()


def test_operator_posting_an_admin_command_gets_403(org, station):
    go_online(station)
    response = portal_client(org, Role.OPERATOR).post(
        command_url(station),
        {"command": "change_configuration", "key": "HeartbeatInterval", "value": "60"},
    )
    assert response.status_code == 403
    assert b"Requires role Admin" in response.content


def test_a_command_button_leads_to_a_confirmation_that_runs_nothing(org, station):
    go_online(station)
    response = portal_client(org, Role.OPERATOR).post(
        command_url(station), {"command": "restart_station", "type": "Hard"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Really Restart station on CS-DEMO-1?" in body
    assert re.search(r'<button type="submit" name="confirm" value="yes">', body)
    assert re.search(r'<input type="hidden" name="type" value="Hard"', body)
    assert not CommandLog.objects.exists()


def test_a_get_of_the_command_url_only_asks_for_confirmation(org, station):
    go_online(station)
    response = portal_client(org, Role.OPERATOR).get(
        command_url(station), {"command": "clear_rfid_cache", "confirm": "yes"}
    )
    assert response.status_code == 200
    assert b"Really Clear RFID cache on CS-DEMO-1?" in response.content
    assert not CommandLog.objects.exists()


def test_confirmation_with_htmx_returns_the_panel_alone(org, station):
    go_online(station)
    response = portal_client(org, Role.OPERATOR).post(
        command_url(station), {"command": "clear_rfid_cache"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="station-actions"')
    assert "Really Clear RFID cache on CS-DEMO-1?" in body


def test_confirmed_command_on_an_offline_station_shows_why_and_writes_nothing(org, station):
    response = portal_client(org, Role.OPERATOR).post(
        command_url(station), {"command": "restart_station", "type": "Soft", "confirm": "yes"}
    )
    assert response.status_code == 409
    result = re.search(
        r'<div id="command-result"[^>]*>(.*?)</div>\s*</div>', response.content.decode(), re.S
    )
    assert "The station is offline." in result[1]
    assert not CommandLog.objects.exists()


def test_offline_refusal_with_htmx_is_the_panel_with_the_reason(org, station):
    response = portal_client(org, Role.OPERATOR).post(
        command_url(station),
        {"command": "clear_rfid_cache", "confirm": "yes"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert response.content.decode().lstrip().startswith('<section id="station-actions"')
    assert b"The station is offline." in response.content


def test_a_refused_command_is_refused_at_the_confirmation_already(org, station):
    response = portal_client(org, Role.OPERATOR).post(
        command_url(station), {"command": "restart_station"}
    )
    assert response.status_code == 409
    assert b"Really" not in response.content


def test_unknown_card_for_start_charging_is_a_field_error_and_writes_nothing(org, station):
    go_online(station)
    response = portal_client(org, Role.OPERATOR).post(
        command_url(station),
        {"command": "start_charging", "id_tag": "DEADBEEF", "connector_id": "1", "confirm": "yes"},
    )
    assert response.status_code == 400
    assert response.context["panel_commands"][0].form.errors["id_tag"] == [
        "No card with uid DEADBEEF in this organization."
    ]
    assert not CommandLog.objects.exists()


def test_a_connector_the_station_does_not_have_is_refused_with_400(org, station):
    go_online(station)
    response = portal_client(org, Role.OPERATOR).post(
        command_url(station), {"command": "unlock_cable", "connector_id": "9", "confirm": "yes"}
    )
    assert response.status_code == 400
    assert "connector_id" in response.context["panel_commands"][2].form.errors
    assert not CommandLog.objects.exists()


def test_an_unknown_command_is_400(org, station):
    response = portal_client(org, Role.OWNER).post(
        command_url(station), {"command": "self_destruct", "confirm": "yes"}
    )
    assert response.status_code == 400
    assert b"Unknown command." in response.content


def test_stop_billing_runs_on_an_offline_station_and_shows_accepted(org, station):
    session = ChargingSessionFactory(station=station)
    client = portal_client(org, Role.OPERATOR)
    response = client.post(
        command_url(station),
        {"command": "stop_billing", "reason": "Cable fault", "confirm": "yes"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    result = re.search(
        r'<div id="command-result"[^>]*>(.*?)</div>\s*</div>', response.content.decode(), re.S
    )
    assert "Stop billing" in result[1]
    assert "Accepted" in result[1]
    assert response["HX-Trigger"] == f'{{"command-logged": {{"station": {station.pk}}}}}'
    session.refresh_from_db()
    assert (session.billing_stopped, session.billing_stopped_reason) == (True, "Cable fault")


def test_the_command_view_stays_outside_a_request_transaction():
    # It waits for the station through the channel layer, which closes a connection held in
    # a transaction: ATOMIC_REQUESTS must never wrap it.
    assert StationCommandView.as_view()._non_atomic_requests == {"default"}


class ResettableStation(Station):
    """A 1.6 station that accepts a reset and remembers what it was asked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []

    @on(Action.reset)
    def on_reset(self, type, **_):
        self.received.append(("Reset", type))
        return call_result.Reset(status=ResetStatus.accepted)


@pytest.fixture
def operator(org):
    user = member((org, Role.OPERATOR))
    client = Client()
    client.force_login(user)
    return user, client


async def in_thread(call):
    """Make a request from a worker thread, as a server would, while the loop serves OCPP."""

    def request():
        try:
            return call()
        finally:
            # The thread's own connection; left open, PostgreSQL refuses to drop the test DB.
            connections.close_all()

    return await sync_to_async(request, thread_sensitive=False)()


async def test_a_confirmed_restart_reaches_the_station_and_shows_its_answer(
    ocpp_server, station, operator, db_call
):
    user, client = operator
    async with connected_station(ocpp_server, "CS-DEMO-1", cls=ResettableStation) as cp:
        response = await in_thread(
            lambda: client.post(
                command_url(station),
                {"command": "restart_station", "type": "Hard", "confirm": "yes"},
            )
        )
    assert response.status_code == 200
    assert cp.received == [("Reset", "Hard")]
    result = re.search(
        r'<div id="command-result"[^>]*>(.*?)</div>\s*</div>', response.content.decode(), re.S
    )
    assert "Restart station" in result[1]
    assert "Accepted" in result[1]
    log = await db_call(CommandLog.objects.get)
    assert (log.command, log.status, log.requested_by_id, log.requested_via) == (
        "restart_station",
        CommandStatus.ACCEPTED,
        user.pk,
        RequestedVia.USER,
    )


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
