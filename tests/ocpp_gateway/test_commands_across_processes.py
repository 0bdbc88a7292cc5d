"""With Redis, a command sent by one process reaches a station connected to another process."""

import asyncio
import json
import os
import sys
import urllib.request

import pytest
from django.db import connection
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, ResetStatus
from rest_framework.authtoken.models import Token

from ocpp_gateway.models import CommandLog
from organizations.choices import Role
from stations.models import ChargingStation
from tests.factories import ChargingStationFactory, MembershipFactory, UserFactory
from tests.ocpp_gateway.conftest import Station, connected_station
from tests.serverprocess import free_port, start_listening

pytestmark = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
    reason="needs Redis and PostgreSQL: runs in the PostgreSQL + Redis pass",
)


class Resettable(Station):
    resets: list

    @on(Action.reset)
    def on_reset(self, type, **_):
        self.resets = [*getattr(self, "resets", []), type]
        return call_result.Reset(status=ResetStatus.accepted)


def start_server(port_env):
    """A server process on the same database and Redis, serving the ASGI application."""
    port = free_port()
    server = start_listening(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "cms.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
        ],
        port,
        port_env,
    )
    return server, port


@pytest.fixture
def two_processes(transactional_db):
    """Two server processes (ports) sharing the test database and Redis."""
    url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "x",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    servers = [start_server(env), start_server(env)]
    yield [port for _, port in servers]
    for server, _ in servers:
        server.terminate()
        server.wait(10)


async def test_a_command_posted_to_one_process_reaches_a_station_held_by_another(
    two_processes, db_call, org
):
    holder, api = two_processes
    # Profile 0: the other processes hash passwords with production settings, the test does not.
    station = await db_call(
        ChargingStationFactory, organization=org, ocpp_id="CS-FAR", security_profile=0
    )
    operator = await db_call(UserFactory, username="far-operator")
    await db_call(MembershipFactory, user=operator, organization=org, role=Role.OPERATOR)
    token = await db_call(Token.objects.create, user=operator)

    def post_command():
        request = urllib.request.Request(
            f"http://127.0.0.1:{api}/api/v1/stations/{station.pk}/commands/",
            data=json.dumps({"command": "restart_station", "type": "Soft"}).encode(),
            headers={"Authorization": f"Token {token.key}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())

    async with connected_station(
        f"ws://127.0.0.1:{holder}", "CS-FAR", password=None, cls=Resettable
    ) as cp:
        for _ in range(100):
            if (await db_call(ChargingStation.objects.get, pk=station.pk)).is_online:
                break
            await asyncio.sleep(0.05)
        status, body = await asyncio.to_thread(post_command)
    assert cp.resets == ["Soft"]
    assert status == 200
    assert (body["command"], body["status"], body["response"]) == (
        "restart_station",
        "accepted",
        {"status": "Accepted"},
    )
    log = await db_call(CommandLog.objects.get, pk=body["id"])
    assert (log.requested_via, log.requested_by_id) == ("api_token", operator.pk)
