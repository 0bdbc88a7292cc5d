"""Remote commands and raw OCPP calls through the API, to a station on a real socket."""

import asyncio
import time

import pytest
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, AvailabilityStatus, ResetStatus

from ocpp_gateway.messagelog import message_log
from ocpp_gateway.models import CommandLog, OcppMessage
from organizations.choices import Role
from tests.api.conftest import (  # noqa: F401 - throwaway_commands is this module's fixture too
    GUARD_REASON,
    GUARDED,
    OFFLINE_OK,
    SOFT_RESET,
    UNLOCK,
    in_thread,
    throwaway_commands,
)
from tests.apiclients import client_as, client_for
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import Station, connected_station

IDENTITY = "CS-API"


class ResettableStation(Station):
    """A 1.6 station that records the calls it gets and answers with `answer`."""

    answer = "Accepted"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []

    @on(Action.reset)
    def on_reset(self, type, **_):
        self.received.append(("Reset", type))
        return call_result.Reset(status=ResetStatus(self.answer))

    @on(Action.change_availability)
    def on_change_availability(self, connector_id, type, **_):
        self.received.append(("ChangeAvailability", connector_id, type))
        return call_result.ChangeAvailability(status=AvailabilityStatus.accepted)


class RejectingStation(ResettableStation):
    answer = "Rejected"


class SilentStation(ResettableStation):
    @on(Action.reset)
    async def on_reset(self, **_):
        await asyncio.sleep(30)


@pytest.fixture
def station(org):
    return ChargingStationFactory(organization=org, ocpp_id=IDENTITY)


@pytest.fixture
def operator(org):
    return client_as(org, Role.OPERATOR)


@pytest.fixture
def admin(admin_user):
    return client_for(admin_user)


def commands_url(station):
    return f"/api/v1/stations/{station.pk}/commands/"


def ocpp_calls_url(station):
    return f"/api/v1/stations/{station.pk}/ocpp-calls/"


# Over a real socket.


async def test_a_command_the_station_accepts_answers_200_accepted(
    ocpp_server, station, operator, db_call
):
    async with connected_station(ocpp_server, IDENTITY, cls=ResettableStation) as cp:
        response = await in_thread(operator, "post", commands_url(station), {"command": SOFT_RESET})
    assert response.status_code == 200, response.data
    assert cp.received == [("Reset", "Soft")]
    log = await db_call(CommandLog.objects.get)
    assert response.data == {
        "id": log.pk,
        "command": SOFT_RESET,
        "status": "accepted",
        "response": {"status": "Accepted"},
        "error_code": "",
        "error_description": "",
    }


async def test_a_command_the_station_rejects_answers_200_rejected(ocpp_server, station, operator):
    async with connected_station(ocpp_server, IDENTITY, cls=RejectingStation) as cp:
        response = await in_thread(operator, "post", commands_url(station), {"command": SOFT_RESET})
    assert cp.received == [("Reset", "Soft")]
    assert response.status_code == 200
    assert (response.data["status"], response.data["response"]) == (
        "rejected",
        {"status": "Rejected"},
    )


async def test_a_command_the_station_does_not_implement_answers_200_error(
    ocpp_server, station, operator
):
    # The plain Station has no Reset handler: the ocpp library answers NotImplemented.
    async with connected_station(ocpp_server, IDENTITY):
        response = await in_thread(operator, "post", commands_url(station), {"command": SOFT_RESET})
    assert response.status_code == 200
    assert (response.data["status"], response.data["error_code"]) == ("error", "NotImplemented")


async def test_a_silent_station_answers_504_with_a_timeout_log(
    ocpp_server, station, operator, settings, db_call
):
    settings.OCPP_CALL_TIMEOUT = 0.3
    async with connected_station(ocpp_server, IDENTITY, cls=SilentStation):
        response = await in_thread(operator, "post", commands_url(station), {"command": SOFT_RESET})
    assert response.status_code == 504
    log = await db_call(CommandLog.objects.get)
    assert (response.data["id"], response.data["status"], log.status) == (
        log.pk,
        "timeout",
        "timeout",
    )


async def test_a_command_with_parameters_reaches_the_station_with_them(
    ocpp_server, station, operator, db_call
):
    class Unlocking(ResettableStation):
        @on(Action.unlock_connector)
        def on_unlock_connector(self, connector_id, **_):
            self.received.append(("UnlockConnector", connector_id))
            return call_result.UnlockConnector(status="Unlocked")

    async with connected_station(ocpp_server, IDENTITY, cls=Unlocking) as cp:
        response = await in_thread(
            operator, "post", commands_url(station), {"command": UNLOCK, "connector_id": 2}
        )
    assert (response.status_code, response.data["status"]) == (200, "accepted")
    assert cp.received == [("UnlockConnector", 2)]


async def test_an_ocpp_call_goes_on_the_wire_as_given_and_answers_200(
    ocpp_server, station, admin, db_call
):
    payload = {"connectorId": 1, "type": "Inoperative"}
    async with connected_station(ocpp_server, IDENTITY, cls=ResettableStation) as cp:
        response = await in_thread(
            admin,
            "post",
            ocpp_calls_url(station),
            {"action": "ChangeAvailability", "payload": payload},
        )
    assert response.status_code == 200, response.data
    assert (response.data["command"], response.data["status"]) == ("ocpp_call", "accepted")
    assert cp.received == [("ChangeAvailability", 1, "Inoperative")]
    await message_log.flush()
    sent = await db_call(
        lambda: list(
            OcppMessage.objects.filter(
                ocpp_id=IDENTITY, direction="out", message_type=2
            ).values_list("action", "payload")
        )
    )
    assert sent == [("ChangeAvailability", payload)]


async def test_an_ocpp_call_to_a_silent_station_answers_504(ocpp_server, station, admin, settings):
    settings.OCPP_CALL_TIMEOUT = 0.3
    async with connected_station(ocpp_server, IDENTITY, cls=SilentStation):
        response = await in_thread(
            admin, "post", ocpp_calls_url(station), {"action": "Reset", "payload": {"type": "Soft"}}
        )
    assert (response.status_code, response.data["status"]) == (504, "timeout")


# Refused before anything is sent: no socket needed.


@pytest.mark.django_db
def test_a_command_on_an_offline_station_is_409_at_once(operator, station):
    started = time.monotonic()
    response = operator.post(commands_url(station), {"command": SOFT_RESET}, format="json")
    assert time.monotonic() - started < 1
    assert (response.status_code, response.data) == (409, {"detail": "The station is offline."})
    assert not CommandLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_command_that_meets_the_offline_station_in_the_command_service_is_409_with_its_log(
    operator, station
):
    started = time.monotonic()
    response = operator.post(commands_url(station), {"command": OFFLINE_OK}, format="json")
    assert time.monotonic() - started < 1
    log = CommandLog.objects.get()
    assert response.status_code == 409
    assert (response.data["id"], response.data["status"], log.status) == (
        log.pk,
        "offline",
        "offline",
    )
    assert response.data["detail"] == "The station is offline"


@pytest.mark.django_db
def test_a_command_its_rule_forbids_is_409_with_the_reason(operator, station):
    response = operator.post(commands_url(station), {"command": GUARDED}, format="json")
    assert (response.status_code, response.data) == (409, {"detail": GUARD_REASON})
    assert not CommandLog.objects.exists()


@pytest.mark.django_db
def test_bad_parameters_are_a_400_naming_the_field(operator, station):
    response = operator.post(
        commands_url(station), {"command": UNLOCK, "connector_id": 9}, format="json"
    )
    assert response.status_code == 400
    assert response.data == {"connector_id": [f"Station {IDENTITY} has no connector 9."]}


@pytest.mark.django_db
def test_a_missing_parameter_is_a_400_naming_the_field(operator, station):
    response = operator.post(commands_url(station), {"command": UNLOCK}, format="json")
    assert response.status_code == 400
    assert list(response.data) == ["connector_id"]


@pytest.mark.django_db
def test_an_unknown_command_is_a_400_on_command(operator, station):
    response = operator.post(commands_url(station), {"command": "teleport"}, format="json")
    assert response.status_code == 400
    assert response.data == {"command": ["Unknown command 'teleport'."]}


@pytest.mark.django_db
def test_a_request_without_a_command_is_a_400_on_command(operator, station):
    response = operator.post(commands_url(station), {}, format="json")
    assert response.status_code == 400
    assert list(response.data) == ["command"]


@pytest.mark.django_db
def test_the_command_list_says_which_commands_may_run_and_why_not(operator, station):
    listed = {item["command"]: item for item in operator.get(commands_url(station)).data}
    assert listed[SOFT_RESET] == {
        "command": SOFT_RESET,
        "label": "Soft reset",
        "allowed": False,
        "reason": "The station is offline.",
    }
    assert listed[GUARDED]["reason"] == GUARD_REASON
    assert listed[OFFLINE_OK]["allowed"] is True


@pytest.mark.django_db
def test_a_schema_invalid_ocpp_call_is_a_400_on_payload_naming_the_ocpp_error(admin, station):
    response = admin.post(
        ocpp_calls_url(station), {"action": "Reset", "payload": {"type": "Gentle"}}, format="json"
    )
    assert response.status_code == 400
    assert list(response.data) == ["payload"]
    assert response.data["payload"][0].startswith("PropertyConstraintViolation: type:")
    assert not CommandLog.objects.exists()


@pytest.mark.django_db
def test_an_ocpp_call_missing_a_required_field_names_the_occurrence_violation(admin, station):
    response = admin.post(ocpp_calls_url(station), {"action": "Reset"}, format="json")
    assert response.status_code == 400
    assert response.data["payload"][0].startswith("OccurrenceConstraintViolation")


@pytest.mark.django_db
def test_an_action_ocpp_does_not_have_is_a_400_on_action(admin, station):
    response = admin.post(
        ocpp_calls_url(station), {"action": "Teleport", "payload": {}}, format="json"
    )
    assert response.status_code == 400
    assert response.data == {"action": ["Teleport is not an action of ocpp1.6."]}


@pytest.mark.django_db
def test_an_action_stations_send_to_the_csms_is_a_400_on_action(admin, station):
    response = admin.post(
        ocpp_calls_url(station),
        {
            "action": "BootNotification",
            "payload": {"chargePointVendor": "X", "chargePointModel": "Y"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.data) == ["action"]
    assert "sent by stations" in response.data["action"][0]


@pytest.mark.django_db
def test_an_ocpp_call_is_checked_against_the_stations_own_version(admin, org):
    station = ChargingStationFactory(organization=org, ocpp_version="ocpp2.0.1")
    # GetConfiguration exists in 1.6 only: a 2.0.1 station does not know it.
    response = admin.post(
        ocpp_calls_url(station), {"action": "GetConfiguration", "payload": {}}, format="json"
    )
    assert response.status_code == 400
    assert response.data == {"action": ["GetConfiguration is not an action of ocpp2.0.1."]}


@pytest.mark.django_db(transaction=True)
def test_an_ocpp_call_to_an_offline_station_is_409_with_its_log(admin, station):
    response = admin.post(
        ocpp_calls_url(station), {"action": "Reset", "payload": {"type": "Soft"}}, format="json"
    )
    assert (response.status_code, response.data["status"]) == (409, "offline")
    assert CommandLog.objects.get().status == "offline"
