"""A command the station is slow to answer: the panel says it is waiting, the answer comes later."""

import asyncio
import re
import urllib.request

import pytest
from channels.layers import get_channel_layer
from django.test import Client
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, DiagnosticsStatus, ResetStatus

from core.live import organization_group
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.models import CommandLog
from organizations.choices import Role
from stations.models import ChargingStation, DiagnosticsFile
from tests.apiclients import member
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import Station, connected_station, until
from tests.ocpp_gateway.test_remote_portal import command_url, in_thread, station_url

# Long enough for a loaded CI machine; the waits end as soon as the thing happened.
PATIENCE = 20.0


class HeldStation(Station):
    """A 1.6 station that answers a reset only once the test lets it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.release = asyncio.Event()
        self.asked = asyncio.Event()

    @on(Action.reset)
    async def on_reset(self, type, **_):
        self.asked.set()
        await self.release.wait()
        return call_result.Reset(status=ResetStatus.accepted)


def client_of(org, role=Role.OPERATOR) -> Client:
    client = Client()
    client.force_login(member((org, role)))
    return client


@pytest.fixture
def operator(org):
    return client_of(org)


@pytest.fixture
def admin(org):
    return client_of(org, Role.ADMIN)


@pytest.fixture
def outsider(other_org):
    return client_of(other_org, Role.OWNER)


async def online(station, db_call, state: str = "online"):
    """Wait until the gateway has written the station's connection down."""
    await until(
        lambda: ChargingStation.objects.filter(pk=station.pk, connection_state=state).exists(),
        db_call,
    )


def status_line(response) -> str:
    body = response.content.decode()
    return re.search(r'<div id="command-result"[^>]*>(.*?)</div>\s*</div>', body, re.S)[1]


async def test_a_slow_answer_shows_the_command_as_waiting_then_its_outcome(
    ocpp_server, org, station, db_call, operator
):
    client = operator
    async with connected_station(ocpp_server, "CS-DEMO-1", cls=HeldStation) as cp:
        await online(station, db_call)
        response = await in_thread(
            lambda: client.post(
                command_url(station),
                {"command": "restart_station", "type": "Soft", "confirm": "yes"},
                HTTP_HX_REQUEST="true",
            )
        )
        # The request came back while the station still held its answer (the test releases it
        # only below).
        assert response.status_code == 200
        line = status_line(response)
        assert "waiting for the station's answer" in line
        assert 'role="timer"' in line
        log = await db_call(CommandLog.objects.get)
        assert log.status == CommandStatus.PENDING
        assert f'hx-get="{command_url(station)}?log={log.pk}"' in line
        assert f"live-command[detail.log=={log.pk}] from:body" in line
        # The command log shows it waiting too.
        part = await in_thread(lambda: client.get(station_url(station, "parts/commands/")))
        assert 'data-command-status="pending"' in part.content.decode()

        # The page's live socket hears of the outcome.
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(organization_group(org.pk), channel)
        cp.release.set()
        outcome = await until(
            lambda: CommandLog.objects.exclude(status=CommandStatus.PENDING).first(), db_call
        )
        async with asyncio.timeout(PATIENCE):
            while True:
                message = await layer.receive(channel)
                events = [e for e in message["events"] if e.get("kind") == "command"]
                if events:
                    break
        assert events == [
            {"kind": "command", "station": station.pk, "log": log.pk, "status": "accepted"}
        ]
    assert outcome.status == CommandStatus.ACCEPTED

    # What the waiting line fetches then: the station's answer.
    answered = await in_thread(
        lambda: client.get(command_url(station), {"log": log.pk}, HTTP_HX_REQUEST="true")
    )
    assert answered.status_code == 200
    body = answered.content.decode()
    assert "Restart station" in body
    assert "Accepted" in body
    assert "status: Accepted" in body


async def test_without_javascript_the_page_shows_the_pending_command_and_a_reload_its_answer(
    ocpp_server, org, station, db_call, operator
):
    client = operator
    async with connected_station(ocpp_server, "CS-DEMO-1", cls=HeldStation) as cp:
        await online(station, db_call)
        response = await in_thread(
            lambda: client.post(
                command_url(station),
                {"command": "restart_station", "type": "Soft", "confirm": "yes"},
            )
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" in body
        log = await db_call(CommandLog.objects.get)
        row = re.search(rf'<tr data-command-log="{log.pk}">(.*?)</tr>', body, re.S)[1]
        assert "Pending" in row
        cp.release.set()
        await until(
            lambda: CommandLog.objects.filter(status=CommandStatus.ACCEPTED).exists(), db_call
        )
    # The gateway writes the disconnect down after the socket closes: read after it.
    await online(station, db_call, "offline")
    reloaded = await in_thread(lambda: client.get(station_url(station)))
    row = re.search(
        rf'<tr data-command-log="{log.pk}">(.*?)</tr>', reloaded.content.decode(), re.S
    )[1]
    assert "Accepted" in row
    assert "status: Accepted" in row


async def test_the_status_of_a_command_of_another_organization_is_404(
    ocpp_server, other_org, station, db_call, outsider
):
    log = await db_call(
        CommandLog.objects.create, station=station, command="restart_station", action="Reset"
    )
    theirs = f"/o/{other_org.slug}/stations/{station.pk}/commands/"
    response = await in_thread(
        lambda: outsider.get(theirs, {"log": log.pk}, HTTP_HX_REQUEST="true")
    )
    assert response.status_code == 404


# --- diagnostics end to end ------------------------------------------------------------------


DIAGNOSTICS = bytes(range(256)) * 64


class UploadingStation(Station):
    """A 1.6 station that uploads its diagnostics to the location GetDiagnostics names."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.uploads: list[int] = []
        # Set by the test once the portal's request has answered, so the upload follows it.
        self.go = asyncio.Event()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location, **_):
        asyncio.get_running_loop().create_task(self.upload(location))
        return call_result.GetDiagnostics(file_name="CS-DEMO-1-diag.bin")

    async def upload(self, location):
        await self.go.wait()
        await self.call(call.DiagnosticsStatusNotification(status=DiagnosticsStatus.uploading))
        request = urllib.request.Request(
            location + "CS-DEMO-1-diag.bin", data=DIAGNOSTICS, method="PUT"
        )
        answer = await asyncio.to_thread(urllib.request.urlopen, request, timeout=PATIENCE)
        self.uploads.append(answer.status)


@pytest.fixture
def reachable_server(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The station uploads to the live server by its loopback address; the test client asks
    # as "testserver".
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]

    def point_at(ws_url: str):
        settings.DIAGNOSTICS_BASE_URL = ws_url.replace("ws://", "http://", 1)

    return point_at


async def test_a_16_station_uploads_its_diagnostics_and_an_operator_downloads_them(
    ocpp_server, org, station, db_call, reachable_server, admin, operator
):
    reachable_server(ocpp_server)
    async with connected_station(ocpp_server, "CS-DEMO-1", cls=UploadingStation) as cp:
        await online(station, db_call)
        page = await in_thread(lambda: admin.get(station_url(station)))
        # The form offers the CSMS's own upload location for this station.
        location = re.search(
            r'name="location" value="([^"]+)"[^>]*id="id_get_diagnostics_location"',
            page.content.decode(),
        )[1]
        assert location.startswith(f"{ocpp_server.replace('ws://', 'http://')}/o/{org.slug}/")
        response = await in_thread(
            lambda: admin.post(
                command_url(station),
                {"command": "get_diagnostics", "location": location, "confirm": "yes"},
                HTTP_HX_REQUEST="true",
            )
        )
        assert response.status_code == 200
        assert "Accepted" in status_line(response)
        cp.go.set()
        async with asyncio.timeout(PATIENCE):
            while not cp.uploads:
                await asyncio.sleep(0.05)
    assert cp.uploads == [201]
    upload = await db_call(DiagnosticsFile.objects.get)
    station_now = await db_call(ChargingStation.objects.get, pk=station.pk)
    assert station_now.diagnostics_status == "Uploading"
    assert (upload.original_name, upload.size) == ("CS-DEMO-1-diag.bin", len(DIAGNOSTICS))
    download = await in_thread(
        lambda: operator.get(station_url(station, f"diagnostics/{upload.pk}/"))
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == DIAGNOSTICS


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.OWNER])
def test_every_member_may_follow_a_waiting_command(org, station, role):
    log = CommandLog.objects.create(station=station, command="restart_station", action="Reset")
    client = client_of(org, role)
    response = client.get(command_url(station), {"log": log.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert f'data-command-log="{log.pk}"' in body
    assert 'data-command-status="pending"' in body


@pytest.mark.django_db
def test_the_status_of_another_stations_command_is_404(org, station):
    other = ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    log = CommandLog.objects.create(station=other, command="restart_station", action="Reset")
    response = client_of(org).get(command_url(station), {"log": log.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 404


@pytest.mark.django_db
def test_without_htmx_the_status_address_leads_back_to_the_station(org, station):
    log = CommandLog.objects.create(station=station, command="restart_station", action="Reset")
    response = client_of(org).get(command_url(station), {"log": log.pk})
    assert (response.status_code, response["Location"]) == (302, station_url(station))
