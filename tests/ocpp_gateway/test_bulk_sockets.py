"""Bulk commands over real sockets: 1.6 and 2.0.1 stations; site diagnostics uploaded by each."""

import asyncio
import urllib.error
import urllib.request

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connections
from django.test import Client
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, ResetStatus
from ocpp.v201 import call_result as call_result201
from ocpp.v201.enums import Action as Action201

from core.live import organization_group
from ocpp_gateway.models import BulkCommand, BulkResultStatus, CommandLog
from organizations.choices import Role
from stations.choices import ConnectionState
from stations.models import ChargingStation, DiagnosticsFile, DiagnosticsRequest
from tests.apiclients import client_as, member
from tests.factories import ChargingStationFactory, SiteFactory
from tests.ocpp_gateway.conftest import (
    Station,
    Station201,
    connected_station,
    connected_station201,
    until,
)

PATIENCE = 20.0


async def in_thread(call):
    """A request from a worker thread, as a server would make it, while the loop serves OCPP."""

    def request():
        try:
            return call()
        finally:
            connections.close_all()

    # As under ASGI: the request's thread belongs to the serving loop, so the bulk command's
    # runs go to the background and the request answers at once.
    return await sync_to_async(request, thread_sensitive=False)()


async def finished(db_call) -> BulkCommand:
    """The bulk command once every station's result is in."""
    return await until(
        lambda: BulkCommand.objects.filter(finished_at__isnull=False).first(), db_call
    )


async def all_online(stations, db_call):
    ids = [station.pk for station in stations]
    await until(
        lambda: (
            ChargingStation.objects.filter(
                pk__in=ids, connection_state=ConnectionState.ONLINE
            ).count()
            == len(ids)
        ),
        db_call,
    )


# --- a restart sent to a mixed fleet ----------------------------------------------------------


class Resetting16(Station):
    """A 1.6 station that answers Reset with `answer`."""

    answer = ResetStatus.accepted

    @on(Action.reset)
    def on_reset(self, type, **_):
        return call_result.Reset(status=self.answer)


class Refusing16(Resetting16):
    answer = ResetStatus.rejected


class Resetting201(Station201):
    """A 2.0.1 station that accepts Reset."""

    @on(Action201.reset)
    def on_reset(self, **_):
        return call_result201.Reset(status="Accepted")


def make_fleet(org):
    """Two 1.6 stations, one 2.0.1 station and one that stays offline."""
    return {
        name: ChargingStationFactory(organization=org, ocpp_id=name, ocpp_version=version)
        for name, version in (
            ("CS-16-OK", "ocpp1.6"),
            ("CS-16-NO", "ocpp1.6"),
            ("CS-201", "ocpp2.0.1"),
            ("CS-OFF", "ocpp1.6"),
        )
    }


async def bulk_events(channel, count):
    """The next `count` bulk events the organization's pages hear."""
    layer, heard = get_channel_layer(), []
    async with asyncio.timeout(PATIENCE):
        while len(heard) < count:
            message = await layer.receive(channel)
            heard.extend(e for e in message["events"] if e.get("kind") == "bulk")
    return heard


async def test_a_bulk_restart_reaches_16_and_201_stations_and_records_each_answer(
    ocpp_server, org, db_call
):
    fleet = await db_call(make_fleet, org)
    client = await db_call(client_as, org, Role.OPERATOR)
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(organization_group(org.pk), channel)
    async with (
        connected_station(ocpp_server, "CS-16-OK", cls=Resetting16),
        connected_station(ocpp_server, "CS-16-NO", cls=Refusing16),
        connected_station201(ocpp_server, "CS-201", cls=Resetting201),
    ):
        await all_online([fleet["CS-16-OK"], fleet["CS-16-NO"], fleet["CS-201"]], db_call)
        response = await in_thread(
            lambda: client.post(
                "/api/v1/bulk-commands/",
                {
                    "command": "restart_station",
                    "params": {"type": "Soft"},
                    "stations": [station.pk for station in fleet.values()],
                },
                format="json",
            )
        )
        # Answered before the stations did: the results fill in, and the table hears of each.
        assert response.status_code == 201
        bulk = await finished(db_call)
    body = await in_thread(lambda: client.get(response["Location"]).json())
    outcome = {r["ocpp_id"]: (r["status"], r["reason"]) for r in body["results"]}
    assert outcome == {
        "CS-16-OK": (BulkResultStatus.ACCEPTED, ""),
        "CS-16-NO": (BulkResultStatus.REJECTED, "Rejected"),
        "CS-201": (BulkResultStatus.ACCEPTED, ""),
        "CS-OFF": (BulkResultStatus.SKIPPED, "The station is offline."),
    }
    assert body["id"] == bulk.pk
    logs = await db_call(
        lambda: dict(CommandLog.objects.values_list("station__ocpp_id", "payload"))
    )
    # Each station got the reset in its own version's words.
    assert logs == {
        "CS-16-OK": {"type": "Soft"},
        "CS-16-NO": {"type": "Soft"},
        "CS-201": {"type": "OnIdle"},
    }
    # The result page heard every result live (three sent, four final); one says it is done.
    heard = await bulk_events(channel, 7)
    final = [e for e in heard if e["status"] != BulkResultStatus.SENT]
    assert {e["station"] for e in final} == {station.pk for station in fleet.values()}
    assert sum(e["finished"] for e in final) == 1


# --- diagnostics from every station of a site ---------------------------------------------------

DIAGNOSTICS_16 = bytes(range(256)) * 16
LOG_201 = b"2026-12-07 log line\n" * 500


async def upload(location: str, name: str, body: bytes, method: str) -> int:
    """Send a file to the location as a station does; the HTTP status answered."""
    request = urllib.request.Request(location + name, data=body, method=method)
    request.add_header("Content-Type", "application/octet-stream")
    try:
        answer = await asyncio.to_thread(urllib.request.urlopen, request, timeout=PATIENCE)
    except urllib.error.HTTPError as refused:
        return refused.code
    return answer.status


class Uploading16(Station):
    """A 1.6 station that PUTs its diagnostics to the location GetDiagnostics names."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locations: list[str] = []
        self.go = asyncio.Event()
        self.uploads: list[int] = []

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location, **_):
        self.locations.append(location)
        asyncio.get_running_loop().create_task(self.send_file(location))
        return call_result.GetDiagnostics(file_name="diag16.bin")

    async def send_file(self, location):
        await self.go.wait()
        self.uploads.append(await upload(location, "diag16.bin", DIAGNOSTICS_16, "PUT"))


class Uploading201(Station201):
    """A 2.0.1 station that POSTs its log to the location GetLog names."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locations: list[str] = []
        self.go = asyncio.Event()
        self.uploads: list[int] = []

    @on(Action201.get_log)
    def on_get_log(self, log, **_):
        location = log.get("remote_location") or log["remoteLocation"]
        self.locations.append(location)
        asyncio.get_running_loop().create_task(self.send_file(location))
        return call_result201.GetLog(status="Accepted", filename="log201.txt")

    async def send_file(self, location):
        await self.go.wait()
        self.uploads.append(await upload(location, "log201.txt", LOG_201, "POST"))


def make_site(org):
    site = SiteFactory(organization=org, name="Depot")
    return site, {
        name: ChargingStationFactory(
            organization=org, site=site, ocpp_id=name, ocpp_version=version
        )
        for name, version in (("CS-D16", "ocpp1.6"), ("CS-D201", "ocpp2.0.1"))
    }


def portal(org, role):
    client = Client()
    client.force_login(member((org, role)))
    return client


async def test_site_diagnostics_give_each_station_its_own_upload_url_and_the_same_bytes_back(
    ocpp_server, org, other_org, db_call, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    settings.DIAGNOSTICS_BASE_URL = ocpp_server.replace("ws://", "http://", 1)
    site, stations = await db_call(make_site, org)
    admin, operator = (
        await db_call(portal, org, Role.ADMIN),
        await db_call(portal, org, Role.OPERATOR),
    )
    async with (
        connected_station(ocpp_server, "CS-D16", cls=Uploading16) as cp16,
        connected_station201(ocpp_server, "CS-D201", cls=Uploading201) as cs201,
    ):
        await all_online(stations.values(), db_call)
        response = await in_thread(
            lambda: admin.post(f"/o/{org.slug}/sites/{site.pk}/diagnostics/")
        )
        assert response.status_code == 302
        await finished(db_call)
        cp16.go.set()
        cs201.go.set()
        async with asyncio.timeout(PATIENCE):
            while not (cp16.uploads and cs201.uploads):
                await asyncio.sleep(0.05)
    assert (cp16.uploads, cs201.uploads) == ([201], [201])
    results = await db_call(
        lambda: dict(BulkCommand.objects.get().results.values_list("station__ocpp_id", "status"))
    )
    assert results == {"CS-D16": "accepted", "CS-D201": "accepted"}

    # Each station was sent an upload URL of its own, under its own page.
    [location16], [location201] = cp16.locations, cs201.locations
    assert location16 != location201
    assert f"/stations/{stations['CS-D16'].pk}/diagnostics/upload/" in location16
    assert f"/stations/{stations['CS-D201'].pk}/diagnostics/upload/" in location201

    # The operator downloads from each station's page the bytes it uploaded.
    for name, expected in (("CS-D16", DIAGNOSTICS_16), ("CS-D201", LOG_201)):
        upload_row = await db_call(DiagnosticsFile.objects.get, station=stations[name])
        url = f"/o/{org.slug}/stations/{stations[name].pk}/diagnostics/{upload_row.pk}/"
        download = await in_thread(lambda url=url: operator.get(url))
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == expected
        # Nobody of another organization gets it.
        outsider = await db_call(portal, other_org, Role.OWNER)
        assert (await in_thread(lambda url=url, c=outsider: c.get(url))).status_code == 404

    # A location under another station's address is refused, and an expired one too.
    token16 = location16.rstrip("/").rsplit("/", 1)[1]
    foreign = location201.rsplit("/", 2)[0] + f"/{token16}/"
    assert await upload(foreign, "x.bin", b"x", "PUT") == 404
    await db_call(
        lambda: DiagnosticsRequest.objects.filter(station=stations["CS-D16"]).update(
            expires_at="2000-01-01T00:00:00Z"
        )
    )
    assert await upload(location16, "again.bin", b"y", "PUT") == 403
    assert await db_call(DiagnosticsFile.objects.count) == 2
