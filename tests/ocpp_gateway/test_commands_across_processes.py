"""With Redis, a command sent by one process reaches a station connected to another process."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, ResetStatus

from ocpp_gateway.commands import asend_call
from stations.models import ChargingStation
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import Station, connected_station

BASE_DIR = Path(__file__).resolve().parents[2]

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


@pytest.fixture
def other_process(transactional_db):
    """A second server process on the same database and Redis, serving the ASGI application."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings_dict = connection.settings_dict
    url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**settings_dict)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x", "DEBUG": "false"}
    server = subprocess.Popen(
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
        cwd=BASE_DIR,
        env=env,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert server.poll() is None, server.stderr.read().decode()
            time.sleep(0.1)
    yield f"ws://127.0.0.1:{port}"
    server.terminate()
    server.wait(10)


async def test_a_command_from_this_process_reaches_a_station_held_by_another(
    other_process, db_call, org
):
    # Profile 0: the other process hashes passwords with production settings, the test does not.
    station = await db_call(
        ChargingStationFactory, organization=org, ocpp_id="CS-FAR", security_profile=0
    )
    async with connected_station(other_process, "CS-FAR", password=None, cls=Resettable) as cp:
        for _ in range(100):
            if (await db_call(ChargingStation.objects.get, pk=station.pk)).is_online:
                break
            await asyncio.sleep(0.05)
        log = await asend_call(station, "Reset", {"type": "Soft"}, command="restart_station")
    assert cp.resets == ["Soft"]
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})
