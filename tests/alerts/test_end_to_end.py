"""A real station over a real OCPP socket faults and recovers: the alert opens, is heard live
by an open portal page, shows in the API, and resolves with how long it lasted."""

import asyncio
import json
from datetime import UTC, datetime

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from alerts.services import install_default_rules
from organizations.choices import Role
from stations.models import Connector
from tests.apiclients import client_as, member
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import connected_station, connected_station201

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def loopback_host(settings):
    # The page socket's Origin must name an allowed host, as a browser's would; the API
    # client's requests name the test client's own host.
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


async def open_page(base_url, slug, cookie):
    """The WebSocket an open portal page holds, with the member's session cookie."""
    port = base_url.rsplit(":", 1)[1]
    return await websockets.connect(
        f"{base_url}/ws/portal/{slug}/",
        additional_headers={"Cookie": f"{django_settings.SESSION_COOKIE_NAME}={cookie}"},
        origin=f"http://127.0.0.1:{port}",
        open_timeout=5,
    )


async def next_alert_message(page, state: str) -> dict:
    """The next "alerts" event the page hears with this state (status events pass by)."""
    heard = []
    while True:
        try:
            message = json.loads(await asyncio.wait_for(page.recv(), 15))
        except TimeoutError:
            # What the page did hear, so a rare failure under load says what went missing.
            raise AssertionError(f"no {state!r} alert within 15 s; heard {heard}") from None
        for event in message["events"]:
            heard.append(event)
            if event["kind"] == "alerts" and event["state"] == state:
                return event


async def api_get(client, url, params=None):
    """A GET from a worker thread, as a server makes it, while the loop serves OCPP."""

    def request():
        try:
            return client.get(url, params)
        finally:
            connections.close_all()

    response = await sync_to_async(request, thread_sensitive=False)()
    assert response.status_code == 200, response.content[:500]
    return response.json()


@pytest.fixture
def world(db_call, org):
    """The organization with its default rules, a 1.6 and a 2.0.1 station, a member's page."""

    def build():
        install_default_rules([org.pk])
        ChargingStationFactory(organization=org, ocpp_id="CS-E2E-16")
        ChargingStationFactory(organization=org, ocpp_id="CS-E2E-201")
        user = member((org, Role.VIEWER))
        return session_cookie(user), client_as(org, Role.VIEWER)

    return db_call(build)


class Ocpp16:
    """A 1.6 station's status reports."""

    identity = "CS-E2E-16"
    connect = staticmethod(connected_station)

    @staticmethod
    def faulted():
        return call16.StatusNotification(
            connector_id=1,
            error_code="GroundFailure",
            status="Faulted",
            timestamp=now(),
            vendor_error_code="RCD-30mA",
        )

    @staticmethod
    def available():
        return call16.StatusNotification(
            connector_id=1, error_code="NoError", status="Available", timestamp=now()
        )


class Ocpp201:
    """A 2.0.1 station's status reports (no error code in 2.0.1's StatusNotification)."""

    identity = "CS-E2E-201"
    connect = staticmethod(connected_station201)

    @staticmethod
    def faulted():
        return call201.StatusNotification(
            timestamp=now(), connector_status="Faulted", evse_id=1, connector_id=1
        )

    @staticmethod
    def available():
        return call201.StatusNotification(
            timestamp=now(), connector_status="Available", evse_id=1, connector_id=1
        )


@pytest.mark.parametrize("version", [Ocpp16, Ocpp201], ids=["ocpp1.6", "ocpp2.0.1"])
async def test_a_fault_opens_an_alert_heard_live_that_resolves_when_the_station_recovers(
    ocpp_server, db_call, eager_celery, org, world, version
):
    cookie, api = await world
    connector = await db_call(
        Connector.objects.get, station__ocpp_id=version.identity, connector_id=1
    )
    page = await open_page(ocpp_server, org.slug, cookie)
    async with version.connect(ocpp_server, version.identity) as station:
        await station.call(version.faulted())
        opened = await next_alert_message(page, "open")

        alerts = (await api_get(api, "/api/v1/alerts/", {"state": "live"}))["results"]
        assert len(alerts) == 1, alerts
        alert = alerts[0]
        assert (alert["kind"], alert["severity"], alert["state"]) == (
            "connector_faulted",
            "high",
            "open",
        )
        assert (alert["ocpp_id"], alert["connector"], alert["connector_number"]) == (
            version.identity,
            connector.pk,
            1,
        )
        assert alert["resolved_at"] is None
        assert opened["alert"] == alert["id"], (opened, alerts)
        assert (opened["open"], opened["faults"], opened["station"]) == (
            1,
            1,
            connector.station_id,
        )

        await station.call(version.available())
        resolved = await next_alert_message(page, "resolved")

    assert resolved["alert"] == alert["id"]
    assert (resolved["open"], resolved["faults"]) == (0, 0)
    detail = await api_get(api, f"/api/v1/alerts/{alert['id']}/")
    assert detail["state"] == "resolved"
    assert detail["resolved_at"] is not None
    assert detail["resolved_by"] is None
    assert detail["duration_seconds"] is not None and detail["duration_seconds"] >= 0
    assert [step["action"] for step in detail["history"]] == ["opened", "resolved"]
    assert (await api_get(api, "/api/v1/alerts/", {"state": "live"}))["count"] == 0
    await page.close()
