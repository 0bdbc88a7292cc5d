"""The one place that says whether a command may run: check_command, then execute_command."""

import pytest

from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import (
    COMMANDS,
    Actor,
    CommandForbidden,
    CommandNotAllowed,
    InvalidCommandParameters,
    available_commands,
    check_command,
    execute_command,
)
from organizations.choices import Role
from stations.choices import ConnectionState
from stations.models import ChargingStation

pytestmark = pytest.mark.django_db

OPERATOR = Actor(role=Role.OPERATOR)
ADMIN = Actor(role=Role.ADMIN)
VIEWER = Actor(role=Role.VIEWER)
# No membership in the station's organization at all.
STRANGER = Actor()


@pytest.fixture
def online(station):
    """A station the database believes online (no socket: nothing may be sent)."""
    ChargingStation.objects.filter(pk=station.pk).update(connection_state=ConnectionState.ONLINE)
    station.refresh_from_db()
    return station


# --- execute_command ---------------------------------------------------------------------------


def test_execute_command_refuses_an_actor_below_the_commands_role_and_sends_nothing(online):
    with pytest.raises(CommandForbidden) as refused:
        execute_command(online, "change_configuration", {"key": "K", "value": "1"}, actor=OPERATOR)

    assert refused.value.reason == "Requires role Admin."
    assert not CommandLog.objects.exists()


def test_execute_command_refuses_a_viewer_even_a_command_for_operators(online):
    with pytest.raises(CommandForbidden) as refused:
        execute_command(online, "restart_station", {"type": "Soft"}, actor=VIEWER)

    assert refused.value.reason == "Requires role Operator."
    assert not CommandLog.objects.exists()


def test_execute_command_refuses_an_actor_without_a_role_in_the_organization(online):
    with pytest.raises(CommandForbidden):
        execute_command(online, "clear_rfid_cache", actor=STRANGER)

    assert not CommandLog.objects.exists()


def test_a_role_shortfall_is_refused_before_the_parameters_are_looked_at(online):
    with pytest.raises(CommandForbidden):
        execute_command(online, "change_configuration", {"key": ""}, actor=OPERATOR)


def test_a_role_shortfall_is_refused_before_the_station_being_offline(station):
    with pytest.raises(CommandForbidden):
        execute_command(station, "change_configuration", {"key": "K", "value": "1"}, actor=VIEWER)


def test_a_role_shortfall_is_a_refusal_whoever_catches_refusals(online):
    # Callers that know only CommandNotAllowed still refuse: never run, never a crash.
    with pytest.raises(CommandNotAllowed):
        execute_command(
            online, "update_firmware", {"location": "https://files/f.bin"}, actor=VIEWER
        )


def test_an_unknown_command_is_invalid_for_anyone():
    with pytest.raises(InvalidCommandParameters) as invalid:
        execute_command(None, "teleport", actor=Actor.support(None))

    assert invalid.value.errors == {"command": ["Unknown command 'teleport'."]}


def test_support_staff_in_the_admin_may_run_every_command(online):
    checks = available_commands(online, Actor.support(None))

    assert {check.spec.name for check in checks} == set(COMMANDS)
    assert not [check.spec.name for check in checks if check.forbidden]


# --- check_command -----------------------------------------------------------------------------


def test_check_command_allows_what_execute_command_would_run_and_sends_nothing(online):
    check = check_command(online, "restart_station", OPERATOR, {"type": "Hard"})

    assert (check.allowed, check.reason, check.errors, check.forbidden) == (True, None, None, False)
    assert not CommandLog.objects.exists()


def test_check_command_names_the_role_before_the_station_being_offline(station):
    check = check_command(station, "change_configuration", OPERATOR)

    assert (check.allowed, check.forbidden, check.reason) == (False, True, "Requires role Admin.")


def test_check_command_gives_the_rules_reason_to_an_actor_with_the_role(station):
    check = check_command(station, "change_configuration", ADMIN)

    assert (check.allowed, check.forbidden, check.reason) == (
        False,
        False,
        "The station is offline.",
    )


def test_check_command_with_parameters_gives_their_field_errors(online):
    check = check_command(online, "unlock_cable", OPERATOR, {"connector_id": 9})

    assert not check.allowed
    assert list(check.errors) == ["connector_id"]
    assert check.reason is None


def test_check_command_with_parameters_applies_the_rules_to_them(online):
    check = check_command(online, "stop_charging", OPERATOR, {"connector_id": 1})

    assert (check.allowed, check.reason) == (False, "No session is running on connector 1.")


def test_check_command_of_an_unknown_command_is_invalid(online):
    with pytest.raises(InvalidCommandParameters):
        check_command(online, "teleport", ADMIN)


def test_available_commands_checks_every_command_for_the_actor(online):
    checks = {check.spec.name: check for check in available_commands(online, OPERATOR)}

    assert checks["restart_station"].allowed
    assert checks["change_configuration"].reason == "Requires role Admin."
    assert all(check.forbidden for check in available_commands(online, STRANGER))
