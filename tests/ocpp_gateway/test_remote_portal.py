"""The station page's remote control: its command log, its panel, and running a command."""

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
from ocpp_gateway.remote.views import PANEL_COMMANDS, StationCommandView
from organizations.choices import Role
from stations.choices import ConnectionState
from stations.models import ChargingStation
from tests.apiclients import member
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    IdTokenFactory,
    UserFactory,
)
from tests.ocpp_gateway.conftest import Station, connected_station
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db


def station_url(station, tail=""):
    return org_url(station.organization, f"stations/{station.pk}/{tail}")


def command_url(station):
    return station_url(station, "commands/")


def go_online(station):
    ChargingStation.objects.filter(pk=station.pk).update(connection_state=ConnectionState.ONLINE)


# --- The command log ---------------------------------------------------------------------------


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


# --- The panel -----------------------------------------------------------------------------------


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
    assert re.search(r'<button type="submit" name="confirm" value="yes"[^>]*>', body)
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
