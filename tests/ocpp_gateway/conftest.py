"""A live server running the real ASGI application, and real OCPP 1.6 and 2.0.1 clients for it."""

import asyncio
import base64
import contextlib
import json
import logging

import pytest
import pytest_asyncio
import uvicorn
import websockets
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.v16 import ChargePoint
from ocpp.v201 import ChargePoint as ChargePoint201

from ocpp_gateway import validation
from ocpp_gateway.connections import last_seen
from ocpp_gateway.dbworker import background_db, db_worker
from ocpp_gateway.messagelog import message_log
from tests.factories import STATION_PASSWORD

logging.getLogger("ocpp").setLevel(logging.WARNING)


@contextlib.asynccontextmanager
async def served(application):
    """`application` served on a free loopback port; its ws:// base URL."""
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"ws://127.0.0.1:{port}"
    await message_log.flush()
    server.should_exit = True
    await asyncio.wait_for(task, 10)
    await last_seen.flush()
    # The gateway's database thread keeps its connection open; end it so the test database can
    # be flushed and dropped (it starts again with the next server).
    await asyncio.to_thread(db_worker.stop)
    await asyncio.to_thread(background_db.stop)
    await sync_to_async(connections.close_all)()


@pytest_asyncio.fixture
async def ocpp_server(transactional_db):
    """The project's ASGI application served on a free loopback port for one test."""
    from cms.asgi import application

    async with served(application) as base_url:
        yield base_url


def basic_auth(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def open_socket(
    base_url, identity, password=STATION_PASSWORD, subprotocols=("ocpp1.6",), path=None
):
    """A raw WebSocket to the gateway, as a station would open it."""
    headers = basic_auth(identity, password) if password is not None else None
    return await websockets.connect(
        f"{base_url}/ocpp/{path or identity}",
        subprotocols=list(subprotocols) or None,
        additional_headers=headers,
        open_timeout=5,
    )


class Station(ChargePoint):
    """The `ocpp` package's own 1.6 charge point, used as the client under test."""


class SchemaCheckedSocket:
    """A client socket that checks every frame the CSMS sends against the official schemas."""

    def __init__(self, ws, subprotocol: str):
        self.ws = ws
        self.subprotocol = subprotocol
        self.sent_actions: dict[str, str] = {}  # our call's unique id → its action
        self.received: list = []  # every frame the CSMS sent, parsed

    async def send(self, text):
        frame = json.loads(text)
        if frame[0] == 2:
            self.sent_actions[frame[1]] = frame[2]
        await self.ws.send(text)

    async def recv(self):
        text = await self.ws.recv()
        frame = json.loads(text)
        self.received.append(frame)
        if frame[0] == 2:
            validation.validate(self.subprotocol, frame[2], frame[3])
        elif frame[0] == 3:
            action = self.sent_actions.get(frame[1])
            if action is not None:
                validation.validate(self.subprotocol, action, frame[2], response=True)
        return text

    def __getattr__(self, name):
        return getattr(self.ws, name)


class Station201(ChargePoint201):
    """The `ocpp` package's own 2.0.1 charging station, used as the client under test."""


@contextlib.asynccontextmanager
async def connected_station201(
    base_url, identity, password=STATION_PASSWORD, cls=Station201, subprotocol="ocpp2.0.1"
):
    """A running OCPP 2.0.1 ChargePoint on the live server; every CSMS frame schema-checked."""
    ws = await open_socket(base_url, identity, password, subprotocols=(subprotocol,))
    assert ws.subprotocol == subprotocol
    checked = SchemaCheckedSocket(ws, subprotocol)
    cp = cls(identity, checked, response_timeout=10)
    runner = asyncio.create_task(cp.start())
    try:
        yield cp
    finally:
        runner.cancel()
        await ws.close()
        with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
            await runner


@contextlib.asynccontextmanager
async def connected_station(base_url, identity, password=STATION_PASSWORD, cls=Station):
    """A running OCPP 1.6 ChargePoint connected to the live server."""
    ws = await open_socket(base_url, identity, password)
    cp = cls(identity, ws, response_timeout=10)
    runner = asyncio.create_task(cp.start())
    try:
        yield cp
    finally:
        runner.cancel()
        await ws.close()
        with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
            await runner


async def raw_exchange(ws, frame) -> list:
    """Send one raw frame (text or a JSON-able value) and return the parsed answer."""
    await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


@pytest.fixture
async def db_call():
    """Run ORM code from an async test in the same thread the consumer's DB calls use."""

    def wrap(fn, *args, **kwargs):
        return sync_to_async(fn)(*args, **kwargs)

    yield wrap
    # That thread keeps its connection open (CONN_MAX_AGE); the test database must be droppable.
    await sync_to_async(connections.close_all)()


async def until(check, db_call, timeout: float = 20.0):
    """Wait until `check()` (ORM code, run as the gateway runs its own) answers something true."""
    # What the gateway writes after its answer (the station's next frame may come first).
    async with asyncio.timeout(timeout):
        while not (answer := await db_call(check)):
            await asyncio.sleep(0.05)
    return answer
