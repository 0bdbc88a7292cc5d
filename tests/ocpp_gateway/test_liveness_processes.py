"""A gateway process killed with SIGKILL: its stations show offline, the survivors' stay online."""

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from django.db import connection

from stations.choices import SecurityProfile
from stations.models import ChargingStation
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import connected_station
from tests.serverprocess import free_port, start_listening

# Short, so the test need not wait half a minute; the default (30 s) is checked in settings.
LEASE_SECONDS = "2"


def start_server(env: dict) -> tuple[subprocess.Popen, int]:
    """A production server process (cms.serve) on the shared database."""
    port = free_port()
    command = [sys.executable, "-m", "cms.serve", "--host", "127.0.0.1", "--port", str(port)]
    return start_listening(command, port, env), port


@pytest.fixture
def shared_database(transactional_db, org, tmp_path):
    """Stations in a database that server processes and this test all use: (url, read state)."""
    for identity in ("CS-KILLED", "CS-SURVIVOR"):
        ChargingStationFactory(
            organization=org, ocpp_id=identity, security_profile=SecurityProfile.NONE
        )
    if connection.vendor == "postgresql":
        url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict)

        def state(identity):
            return ChargingStation.objects.get(ocpp_id=identity).connection_state

        yield url, state
        return
    # The test database lives in this process's memory: other processes need a file.
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)

    def state(identity):
        with contextlib.closing(sqlite3.connect(path, timeout=20)) as db:
            return db.execute(
                "SELECT connection_state FROM stations_chargingstation WHERE ocpp_id = ?",
                (identity,),
            ).fetchone()[0]

    yield f"sqlite:///{path}", state


@pytest.fixture
def two_processes(shared_database):
    url, state = shared_database
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "x",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "OCPP_GATEWAY_LEASE_SECONDS": LEASE_SECONDS,
    }
    servers = [start_server(env), start_server(env)]
    yield [port for _, port in servers], [server for server, _ in servers], state
    for server, _ in servers:
        if server.poll() is None:
            server.terminate()
            server.wait(10)


async def test_the_stations_of_a_killed_process_go_offline_within_a_minute(two_processes, db_call):
    (killed_port, surviving_port), (killed, _), state = two_processes
    async with (
        connected_station(f"ws://127.0.0.1:{killed_port}", "CS-KILLED", password=None),
        connected_station(f"ws://127.0.0.1:{surviving_port}", "CS-SURVIVOR", password=None),
    ):
        assert await db_call(state, "CS-KILLED") == "online"
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        # The surviving process's lease loop reaps the dead lease; no beat runs here.
        deadline = time.monotonic() + 60
        while await db_call(state, "CS-KILLED") == "online" and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert await db_call(state, "CS-KILLED") == "offline"
        assert await db_call(state, "CS-SURVIVOR") == "online"
