"""Live updates: a member's open page hears its organization's stations, and nobody else's."""

import asyncio
import json
from datetime import UTC, datetime

import pytest
import websockets
from django.conf import settings as django_settings
from django.test import Client
from ocpp.v16 import call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from organizations.choices import Role
from stations.models import Connector
from tests.apiclients import member
from tests.factories import ChargingStationFactory, IdTokenFactory
from tests.ocpp_gateway.conftest import connected_station

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def loopback_host(settings):
    # The socket's Origin must name an allowed host, as a browser's would.
    settings.ALLOWED_HOSTS = ["127.0.0.1"]


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


async def open_page_socket(base_url, slug, cookie=None, origin=None):
    """The WebSocket a portal page opens, with the browser's session cookie and origin."""
    port = base_url.rsplit(":", 1)[1]
    headers = {"Cookie": f"{django_settings.SESSION_COOKIE_NAME}={cookie}"} if cookie else {}
    return await websockets.connect(
        f"{base_url}/ws/portal/{slug}/",
        additional_headers=headers,
        origin=origin or f"http://127.0.0.1:{port}",
        open_timeout=5,
    )


async def next_events(ws, kind: str) -> list[dict]:
    """The events of the next message that carries one of `kind`."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        events = [e for e in message["events"] if e["kind"] == kind]
        if events:
            return events


def status(connector: int, state: ChargePointStatus):
    return call.StatusNotification(
        connector_id=connector,
        error_code=ChargePointErrorCode.no_error,
        status=state,
        timestamp=datetime.now(UTC).isoformat(),
    )


@pytest.fixture
def member_cookie(db_call, org):
    async def make(role=Role.VIEWER):
        user = await db_call(member, (org, role))
        return await db_call(session_cookie, user)

    return make


async def test_a_status_notification_reaches_an_open_page_of_the_organization(
    ocpp_server, db_call, org, member_cookie
):
    await db_call(ChargingStationFactory, organization=org, ocpp_id="LIVE-1")
    page = await open_page_socket(ocpp_server, org.slug, await member_cookie())
    async with connected_station(ocpp_server, "LIVE-1") as cp:
        await cp.call(status(1, ChargePointStatus.charging))
        events = await next_events(page, "status")
    connector = await db_call(Connector.objects.get, station__ocpp_id="LIVE-1", connector_id=1)
    assert events == [
        {"kind": "status", "station": connector.station_id, "connector": connector.pk,
         "status": "Charging"}
    ]  # fmt: skip
    await page.close()


async def test_a_page_hears_its_station_connect_and_a_session_start(
    ocpp_server, db_call, org, member_cookie
):
    station = await db_call(ChargingStationFactory, organization=org, ocpp_id="LIVE-2")
    await db_call(IdTokenFactory, organization=org, uid="04LIVE01")
    page = await open_page_socket(ocpp_server, org.slug, await member_cookie())
    async with connected_station(ocpp_server, "LIVE-2") as cp:
        online = await next_events(page, "connection")
        await cp.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="04LIVE01",
                meter_start=0,
                timestamp=datetime.now(UTC).isoformat(),
            )
        )
        started = await next_events(page, "session")
    assert online == [{"kind": "connection", "station": station.pk, "state": "online"}]
    assert started[0]["station"] == station.pk
    offline = await next_events(page, "connection")
    assert offline == [{"kind": "connection", "station": station.pk, "state": "offline"}]
    await page.close()


async def test_another_organizations_station_is_never_heard(
    ocpp_server, db_call, org, other_org, member_cookie
):
    await db_call(ChargingStationFactory, organization=other_org, ocpp_id="THEIRS-1")
    await db_call(ChargingStationFactory, organization=org, ocpp_id="MINE-1")
    page = await open_page_socket(ocpp_server, org.slug, await member_cookie())
    async with connected_station(ocpp_server, "THEIRS-1") as theirs:
        await theirs.call(status(1, ChargePointStatus.faulted))
    async with connected_station(ocpp_server, "MINE-1") as mine:
        await mine.call(status(1, ChargePointStatus.available))
        events = await next_events(page, "status")
    # The outsider's Faulted came first; the first status heard is our own Available.
    assert [e["status"] for e in events] == ["Available"]
    await page.close()


async def test_an_outsider_cannot_open_the_organizations_live_socket(
    ocpp_server, db_call, org, other_org
):
    outsider = await db_call(member, (other_org, Role.OWNER))
    cookie = await db_call(session_cookie, outsider)
    with pytest.raises(websockets.InvalidStatus) as refused:
        await open_page_socket(ocpp_server, org.slug, cookie)
    assert refused.value.response.status_code == 403


async def test_an_anonymous_page_cannot_open_the_live_socket(ocpp_server, org):
    with pytest.raises(websockets.InvalidStatus) as refused:
        await open_page_socket(ocpp_server, org.slug)
    assert refused.value.response.status_code == 403


async def test_a_foreign_origin_cannot_open_the_live_socket(ocpp_server, org, member_cookie):
    cookie = await member_cookie()
    with pytest.raises(websockets.InvalidStatus) as refused:
        await open_page_socket(ocpp_server, org.slug, cookie, origin="https://evil.example")
    assert refused.value.response.status_code == 403
