"""The `make run` path: a fresh database, migrate, seed, daphne, and a demo station boots."""

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import websockets
from ocpp.v16 import call
from ocpp.v16.enums import RegistrationStatus

from tests.ocpp_gateway.conftest import Station, basic_auth
from tests.serverprocess import free_port, start_listening

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def served_demo(tmp_path_factory):
    """Migrate and seed a throwaway SQLite database, then serve it with daphne."""
    tmp_path = tmp_path_factory.mktemp("served-demo")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "REDIS_URL": "",
        "DEBUG": "true",
        "SECRET_KEY": "",
    }
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=BASE_DIR)
    seeded = subprocess.run(
        [*manage, "seed_demo", "--json"], env=env, check=True, cwd=BASE_DIR, capture_output=True
    )
    port = free_port()
    daphne = start_listening(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "cms.asgi:application",
        ],
        port,
        env,
        stdout=subprocess.DEVNULL,
    )
    yield port, json.loads(seeded.stdout)
    daphne.terminate()
    daphne.wait(10)


def test_daphne_serves_the_admin_and_a_demo_station_boots_over_ocpp(served_demo):
    port, demo = served_demo
    station = demo["stations"][0]

    async def boot():
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ocpp/{station['ocpp_id']}",
            subprotocols=["ocpp1.6"],
            additional_headers=basic_auth(station["ocpp_id"], station["password"]),
        ) as ws:
            cp = Station(station["ocpp_id"], ws)
            runner = asyncio.create_task(cp.start())
            result = await cp.call(
                call.BootNotification(charge_point_vendor="ACME", charge_point_model="X")
            )
            runner.cancel()
            return result

    assert asyncio.run(boot()).status == RegistrationStatus.accepted
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/") as response:
        assert response.status == 200


def test_daphne_serves_the_admin_stylesheet_without_collectstatic(served_demo):
    import urllib.request

    port, _ = served_demo
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/admin/css/base.css") as response:
        assert response.status == 200
        assert b"body" in response.read()


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    """`python -m cms.serve` (uvicorn with the production options), short header timeout."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('serve') / 'unused.sqlite3'}",
        "REDIS_URL": "",
        "DEBUG": "false",
        "SECRET_KEY": "x",
        "ALLOWED_HOSTS": "127.0.0.1",
        "HTTP_HEADER_TIMEOUT": "1",
    }
    port = free_port()
    server = start_listening(
        [sys.executable, "-m", "cms.serve", "--host", "127.0.0.1", "--port", str(port)],
        port,
        env,
        stdout=subprocess.DEVNULL,
    )
    yield port
    server.terminate()
    server.wait(10)


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection (within 30 s) without answering."""
    sock.settimeout(30)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_the_server_closes_a_connection_that_sends_nothing(production_server):
    with socket.create_connection(("127.0.0.1", production_server)) as sock:
        assert closed_by_server(sock)


def test_the_server_closes_a_connection_whose_headers_never_end(production_server):
    with socket.create_connection(("127.0.0.1", production_server)) as sock:
        sock.sendall(b"GET /ocpp/CS-SLOW HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
        assert closed_by_server(sock)


def test_the_server_refuses_request_headers_past_the_limit(production_server):
    with socket.create_connection(("127.0.0.1", production_server)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sock.sendall(b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(70)))
        sock.settimeout(30)
        assert sock.recv(1024).startswith(b"HTTP/1.1 400")


def test_a_request_whose_headers_arrive_in_time_is_answered(production_server):
    with socket.create_connection(("127.0.0.1", production_server)) as sock:
        sock.sendall(b"GET /no-such-page/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(30)
        assert sock.recv(1024).startswith(b"HTTP/1.1 404")
