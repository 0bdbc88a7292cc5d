"""Throwaway commands for bulk command tests: they answer at once, without a socket."""

from unittest import mock

import pytest
from rest_framework import serializers

from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.registry import COMMANDS, CommandSpec
from organizations.choices import Role
from stations.choices import ConnectionState
from stations.models import ChargingStation

# A station whose identity holds this rejects the ping; one holding PICKY takes levels 1-2 only;
# SILENT never answers (a timeout); BROKEN makes the runner raise.
REJECTING = "REJ"
PICKY = "PICKY"
SILENT = "SILENT"
BROKEN = "BROKEN"


class PingParameters(serializers.Serializer):
    """A level from 1 to 5; a picky station takes up to 2."""

    level = serializers.IntegerField(min_value=1, max_value=5)

    def validate_level(self, value):
        if PICKY in self.context["station"].ocpp_id and value > 2:
            raise serializers.ValidationError("Too high for this station.")
        return value


def run_ping(ctx) -> CommandLog:
    """Answer as the station would: accepted, or rejected by a rejecting one."""
    if BROKEN in ctx.station.ocpp_id:
        raise RuntimeError("the runner broke")
    if SILENT in ctx.station.ocpp_id:
        return CommandLog.objects.create(
            station=ctx.station,
            command="test_ping",
            action="Ping",
            status=CommandStatus.TIMEOUT,
            error_description="The station did not answer in time",
        )
    rejected = REJECTING in ctx.station.ocpp_id
    return CommandLog.objects.create(
        station=ctx.station,
        command="test_ping",
        action="Ping",
        payload={"level": ctx.params["level"]},
        requested_by=ctx.person,
        api_key=ctx.api_key,
        requested_via=ctx.via,
        status=CommandStatus.REJECTED if rejected else CommandStatus.ACCEPTED,
        response={"status": "Rejected" if rejected else "Accepted"},
    )


PING = CommandSpec(name="test_ping", label="Ping", run=run_ping, params=PingParameters)
ADMIN_PING = CommandSpec(
    name="test_admin_ping",
    label="Admin ping",
    run=run_ping,
    params=PingParameters,
    min_role=Role.ADMIN,
)


@pytest.fixture
def ping_commands():
    """test_ping (operators) and test_admin_ping (admins), registered for one test."""
    with mock.patch.dict(COMMANDS, {PING.name: PING, ADMIN_PING.name: ADMIN_PING}):
        yield


def go_online(*stations) -> None:
    ChargingStation.objects.filter(pk__in=[s.pk for s in stations]).update(
        connection_state=ConnectionState.ONLINE
    )
