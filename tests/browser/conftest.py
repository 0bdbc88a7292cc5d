"""Browser tests: the real ASGI app on a live port, a simulated OCPP station, headless Chromium."""

import asyncio
import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
import websockets
from asgiref.sync import sync_to_async
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, ChargePointErrorCode, ResetStatus

from cards.models import IdToken
from demo.seed import DEMO_ORG_SLUG, HEADQUARTERS, STATIONS, seed_demo
from ocpp_gateway.connections import last_seen
from ocpp_gateway.dbworker import background_db, db_worker
from ocpp_gateway.messagelog import message_log
from organizations.models import Organization
from sessions_app.choices import SessionState
from stations.choices import ConnectionState, ConnectorStatus
from stations.models import ChargingStation, Connector, Site
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    OrganizationFactory,
)
from tests.ocpp_gateway.conftest import open_socket

logging.getLogger("ocpp").setLevel(logging.WARNING)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Long enough for a command's round trip through the channel layer on a loaded CI machine.
SERVER_CALL_TIMEOUT = 15.0
CHROMIUM_MISSING = (
    "Debian's chromium is not installed (no `chromium` on PATH): the browser tests cannot run. "
    "Install it with `make chromium` (as root: apt-get install chromium)."
)


class LiveServer:
    """The project's ASGI application served by uvicorn in a thread with its own event loop."""

    def __init__(self):
        from cms.asgi import application

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run_loop, name="portal-server", daemon=True)
        self.server = uvicorn.Server(
            uvicorn.Config(
                application,
                host="127.0.0.1",
                port=0,
                lifespan="off",
                log_level="warning",
                ws="websockets-sansio",
            )
        )
        self.url = ""
        self.serving = None

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
            # What the app left running (the gateway's timers) ends with its loop.
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            # Closed in its own thread: channels_redis flushes its connections on close by running
            # the loop once more, which it cannot do in the test thread (Playwright's loop runs).
            self.loop.close()

    def run(self, coroutine: Coroutine, timeout: float = SERVER_CALL_TIMEOUT):
        """Run a coroutine on the server's loop and return its result (from the test thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> None:
        """Serve on a free loopback port; returns once the socket listens."""
        self.thread.start()
        self.serving = asyncio.run_coroutine_threadsafe(self.server.serve(), self.loop)
        deadline = time.monotonic() + 10
        while not self.server.started:
            if self.serving.done():
                self.serving.result()  # raises the reason it could not start
            if time.monotonic() > deadline:
                raise RuntimeError("the live server did not start within 10 s")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def stop(self) -> None:
        """Stop serving and end every database connection, so the test database can be flushed."""
        if not self.thread.is_alive():
            return
        try:
            self.run(message_log.flush())
            self.server.should_exit = True
            if self.serving is not None:
                self.serving.result(10)
            self.run(last_seen.flush())
            # The gateway's database threads keep their connections; they start again with the
            # next server.
            db_worker.stop()
            background_db.stop()
            # The thread Django's views and Channels' database calls ran in keeps its connection.
            self.run(sync_to_async(connections.close_all)())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


@pytest.fixture
def portal_server(transactional_db, settings):
    """The live portal for one test; its threads see the test's committed rows."""
    # Django's test setup allows only "testserver"; the browser asks for 127.0.0.1:<port>.
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    # Each ASGI request runs in a thread and context of its own, where a persistent connection
    # would outlive the request unreachable (PostgreSQL then refuses to drop the test database):
    # in the live server every request closes its connection when it ends.
    database = connections.settings[DEFAULT_DB_ALIAS]
    max_age = database["CONN_MAX_AGE"]
    database["CONN_MAX_AGE"] = 0
    server = LiveServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()
        database["CONN_MAX_AGE"] = max_age


class SimulatedStation(ChargePoint):
    """The `ocpp` package's 1.6 charge point: accepts every Reset, reports on demand."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.resets: list[str] = []
        # Seconds it takes to answer a Reset (a slow station: tests/browser/test_commands.py).
        self.reset_delay = 0.0

    @on(Action.reset)
    async def on_reset(self, type, **_):
        self.resets.append(type)
        if self.reset_delay:
            await asyncio.sleep(self.reset_delay)
        return call_result.Reset(status=ResetStatus.accepted)


class StationDriver:
    """The test's handle on a simulated station that lives on the server's loop."""

    def __init__(self, server: LiveServer, identity: str, password: str):
        self.server = server
        self.identity = identity
        self.password = password
        self.charge_point: SimulatedStation | None = None
        self._socket = None
        self._runner: asyncio.Task | None = None

    def connect(self) -> "StationDriver":
        self.server.run(self._connect())
        return self

    async def _connect(self) -> None:
        self._socket = await open_socket(self.server.ws_url, self.identity, self.password)
        self.charge_point = SimulatedStation(self.identity, self._socket, response_timeout=10)
        self._runner = asyncio.create_task(self.charge_point.start())

    def boot(self, vendor: str = "ACME", model: str = "Wallbox X"):
        """Send BootNotification; the CSMS's answer."""
        boot = call.BootNotification(charge_point_vendor=vendor, charge_point_model=model)
        return self._call(boot)

    def report_status(
        self, connector_id: int, status: str, error_code=ChargePointErrorCode.no_error
    ):
        """Send StatusNotification for a connector (0: the station itself)."""
        return self._call(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=error_code,
                status=status,
                timestamp=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            )
        )

    def start_transaction(self, connector_id: int, id_tag: str, meter_start: int = 0):
        """Send StartTransaction for a card on a connector; the CSMS's answer."""
        return self._call(
            call.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=meter_start,
                timestamp=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            )
        )

    @property
    def resets(self) -> list[str]:
        return list(self.charge_point.resets)

    def _call(self, payload):
        return self.server.run(self.charge_point.call(payload))

    def disconnect(self) -> None:
        self.server.run(self._disconnect())

    async def _disconnect(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await self._runner


@pytest.fixture
def simulated_station(portal_server):
    """Connect a simulated 1.6 station (identity, password) over a real WebSocket."""
    drivers: list[StationDriver] = []

    def connect(identity: str, password: str) -> StationDriver:
        driver = StationDriver(portal_server, identity, password).connect()
        drivers.append(driver)
        return driver

    yield connect
    for driver in drivers:
        driver.disconnect()


@pytest.fixture(scope="package")
def browser():
    """Headless Debian chromium driven by Playwright; a missing chromium fails, never skips."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(CHROMIUM_MISSING, pytrace=False)
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an event loop running in the test thread, so Django takes
        # the test's own ORM calls (fixtures, flushing the database) for calls from async code.
        # Playwright's documented remedy; the app's async code is checked by the other suites.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, args=["--no-sandbox"], headless=True
            )
            yield browser
            browser.close()


@pytest.fixture
def page(browser, portal_server):
    """A fresh browser tab (own cookies) on the live portal, desktop-sized, in English."""
    context = browser.new_context(
        base_url=portal_server.url,
        viewport=DESKTOP,
        locale="en-US",
        timezone_id="Europe/Berlin",
        accept_downloads=True,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    yield page
    context.close()


def login(page, username: str, password: str) -> None:
    """Log in through the real login form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    if page.url.rstrip("/").endswith("/accounts/login"):
        raise AssertionError(f"login as {username!r} failed: still on {page.url}")


def screenshot(page, name: str, *, phone: bool = False) -> Path:
    """Keep a full-page PNG of what the page shows now as docs/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if phone:
        page.set_viewport_size(PHONE)
    try:
        page.screenshot(path=str(path), full_page=True, animations="disabled")
    finally:
        if phone:
            page.set_viewport_size(DESKTOP)
    return path


# The simulated charge point is the demo's first station, at its headquarters.
SIMULATED = STATIONS[0].ocpp_id
SIMULATED_PASSWORD = STATIONS[0].password
STRAY_CARD = "04FFFFFFFFFFFF"


@dataclass
class Demo:
    """The demo organization as the tests see it."""

    org: Organization
    headquarters: Site
    station: ChargingStation

    def url(self, path: str = "") -> str:
        return f"/o/{self.org.slug}/{path}"


@pytest.fixture
def demo(portal_server) -> Demo:
    """The demo organization (a month of sessions), a running session, a fault, an outsider."""
    seed_demo()
    org = Organization.objects.get(slug=DEMO_ORG_SLUG)
    stations = {s.ocpp_id: s for s in ChargingStation.objects.for_org(org).select_related("site")}
    cards = list(IdToken.objects.for_org(org).order_by("uid"))
    now = timezone.now()
    # A card in no access group: its session is not one of the site's on the Sessions tab.
    stray = IdTokenFactory(organization=org, uid=STRAY_CARD, label="Lost card")
    ChargingSessionFactory(
        station=stations[SIMULATED],
        id_token=stray,
        id_tag=stray.uid,
        start=now - timedelta(days=1),
        stop=now - timedelta(days=1) + timedelta(minutes=20),
        energy_wh=2_500,
        state=SessionState.COMPLETED,
    )
    # The live picture: one station charging, one idle, one offline with a fault.
    running = stations["DEMO-CS-02"]
    ChargingStation.objects.filter(pk__in=[running.pk, stations["DEMO-CS-03"].pk]).update(
        connection_state=ConnectionState.ONLINE, last_seen=now
    )
    Connector.objects.filter(station__organization=org).update(
        status=ConnectorStatus.AVAILABLE, status_at=now - timedelta(hours=1)
    )
    Connector.objects.filter(station=running, connector_id=1).update(
        status=ConnectorStatus.CHARGING
    )
    Connector.objects.filter(station=stations["DEMO-CS-04"], connector_id=2).update(
        status=ConnectorStatus.FAULTED, error_code="GroundFailure"
    )
    ChargingSessionFactory(
        station=running,
        id_token=cards[0],
        id_tag=cards[0].uid,
        start=now - timedelta(minutes=42),
        meter_start=200_000,
        energy_wh=7_300,
        last_power_w=11_000,
        state=SessionState.ACTIVE,
    )
    # An outsider with a session of its own, which no page or export of the demo may show.
    outsider = OrganizationFactory(name="Outsider GmbH", slug="outsider")
    ChargingSessionFactory(station=ChargingStationFactory(organization=outsider), energy_wh=999)
    return Demo(
        org=org,
        headquarters=Site.objects.get(organization=org, name=HEADQUARTERS),
        station=stations[SIMULATED],
    )
