"""API fixtures: clients per role, throwaway remote commands, and a live OCPP server."""

from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from rest_framework import serializers
from rest_framework.test import APIClient

from ocpp_gateway.commands import send_call
from ocpp_gateway.remote.registry import COMMANDS, CommandSpec
from organizations.choices import Role
from tests.apiclients import client_for as client_for_user
from tests.apiclients import member

# A test whose request reaches the command service needs django_db(transaction=True): channels'
# database_sync_to_async closes a connection it finds inside a transaction (the test's atomic
# block on PostgreSQL).

# Names no other module registers, so the tests never depend on the real command modules.
SOFT_RESET = "api_test_soft_reset"
UNLOCK = "api_test_unlock"
GUARDED = "api_test_guarded"
ADMIN_ONLY = "api_test_admin_only"
OFFLINE_OK = "api_test_offline_ok"
GUARD_REASON = "Nothing to do on this station right now."


def reset(ctx):
    return send_call(
        ctx.station,
        "Reset",
        {"type": "Soft"},
        command=SOFT_RESET,
        requested_by=ctx.user,
        via=ctx.via,
    )


def unlock(ctx):
    return send_call(
        ctx.station,
        "UnlockConnector",
        {"connectorId": ctx.params["connector_id"]},
        command=UNLOCK,
        requested_by=ctx.user,
        via=ctx.via,
    )


def offline_ok_reset(ctx):
    return send_call(
        ctx.station,
        "Reset",
        {"type": "Hard"},
        command=OFFLINE_OK,
        requested_by=ctx.user,
        via=ctx.via,
    )


class UnlockParameters(serializers.Serializer):
    """`connector_id`: a connector the station has."""

    # Not the registry's ConnectorField: its min_value validator runs on the Connector it
    # returns and fails on every valid number.
    connector_id = serializers.IntegerField(min_value=1)

    def validate_connector_id(self, number):
        station = self.context["station"]
        if not station.connectors.filter(connector_id=number).exists():
            raise serializers.ValidationError(f"Station {station} has no connector {number}.")
        return number


TEST_COMMANDS = {
    SOFT_RESET: CommandSpec(name=SOFT_RESET, label="Soft reset", run=reset),
    UNLOCK: CommandSpec(name=UNLOCK, label="Unlock", run=unlock, params=UnlockParameters),
    GUARDED: CommandSpec(
        name=GUARDED, label="Guarded", run=reset, rule=lambda ctx: GUARD_REASON, needs_online=False
    ),
    ADMIN_ONLY: CommandSpec(name=ADMIN_ONLY, label="Admin only", run=reset, min_role=Role.ADMIN),
    # Skips the registry's online check, so the command service itself meets the offline station.
    OFFLINE_OK: CommandSpec(
        name=OFFLINE_OK, label="Reset anyway", run=offline_ok_reset, needs_online=False
    ),
}


@pytest.fixture(autouse=True)
def throwaway_commands():
    """The throwaway commands above, registered for one test and removed after it."""
    # The real commands are registered when ocpp_gateway.remote is imported (above), so
    # patch.dict restores the registry with them.
    with mock.patch.dict(COMMANDS, TEST_COMMANDS):
        yield TEST_COMMANDS


@pytest.fixture
def viewer_user(org):
    return member((org, Role.VIEWER))


@pytest.fixture
def operator_user(org):
    return member((org, Role.OPERATOR))


@pytest.fixture
def api_client():
    """An API client that has not logged in."""
    return APIClient()


@pytest.fixture
def client_for():
    """An API client authenticated as the given user."""
    return client_for_user


async def in_thread(client, method, url, data=None):
    """Call the API from a worker thread, as a server would, while the test's loop serves OCPP."""

    def request():
        try:
            return getattr(client, method)(url, data, format="json")
        finally:
            # The thread's own DB connection; left open, PostgreSQL refuses to drop the test DB.
            connections.close_all()

    return await sync_to_async(request, thread_sensitive=False)()


def pytest_collection_modifyitems(items):
    """A database for each fuzzed operation; a committing one where commands are sent."""
    from tests.api.test_fuzz import TRANSACTIONAL

    for item in items:
        if item.module.__name__ != "tests.api.test_fuzz":
            continue
        committing = any(part in item.name for part in TRANSACTIONAL)
        item.add_marker(pytest.mark.django_db(transaction=committing))
