"""OCPP 2.0.1 firmware update and publication (OCTT TC_L, CSMS under test) over a real socket."""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import (
    Actor,
    InvalidCommandParameters,
    check_command,
    execute_command,
)
from organizations.choices import Role
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession
from stations.choices import ConnectionState
from stations.models import ChargingStation, FirmwarePublication
from tests.factories import ChargingSessionFactory, ChargingStationFactory
from tests.ocpp_gateway.conftest import Station201, connected_station201

IDENTITY = "CS-FW201"
FIRMWARE_URL = "https://firmware.example.com/wallbox-3.0.0.bin"
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUX\n-----END CERTIFICATE-----\n"
SIGNATURE = "MEUCIQDx0dYZ7Wq3Jm2Yx8Lr1ZbCk4bq9vFf0M3rS1bX9y2pJgIgB8c="
CHECKSUM = "9E107D9D372BB6826BD81D3542A419D6"
OWNER = Actor(role=Role.OWNER)


def ts(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


class FirmwareStation(Station201):
    """A 2.0.1 station (or local controller) that records every CSMS call and answers as told."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []
        self.answers: dict[str, str] = {}

    async def _handle_call(self, msg):
        # The payload exactly as it came off the wire, before the library renames its keys.
        self.received.append((msg.action, msg.payload))
        return await super()._handle_call(msg)

    def status(self, action: str, default: str = "Accepted") -> str:
        return self.answers.get(action, default)

    @on(Action.update_firmware)
    def on_update_firmware(self, **_):
        return call_result.UpdateFirmware(status=self.status("UpdateFirmware"))

    @on(Action.publish_firmware)
    def on_publish_firmware(self, **_):
        return call_result.PublishFirmware(status=self.status("PublishFirmware"))

    @on(Action.unpublish_firmware)
    def on_unpublish_firmware(self, **_):
        return call_result.UnpublishFirmware(status=self.status("UnpublishFirmware", "Unpublished"))


@pytest.fixture
async def station(db_call, org):
    return await db_call(ChargingStationFactory, organization=org, ocpp_id=IDENTITY)


async def run(name: str, params: dict | None = None):
    """Run a command as a view would: a fresh station row, in a thread of its own."""

    def in_a_view():
        try:
            station = ChargingStation.objects.get(ocpp_id=IDENTITY)
            return execute_command(station, name, params, actor=OWNER)
        finally:
            connections.close_all()

    return await sync_to_async(in_a_view, thread_sensitive=False)()


async def booted(cs, reason="PowerUp"):
    await cs.call(
        call.BootNotification(
            charging_station={"model": "Wallbox 2", "vendor_name": "ACME"}, reason=reason
        )
    )
    return cs


async def report_firmware(cs, db_call, status: str, request_id: int) -> str:
    """Send a FirmwareStatusNotification and read back the status the CSMS stored."""
    await cs.call(call.FirmwareStatusNotification(status=status, request_id=request_id))
    return (await db_call(ChargingStation.objects.get, ocpp_id=IDENTITY)).firmware_status


SIGNED = {
    "location": FIRMWARE_URL,
    "signing_certificate": CERTIFICATE,
    "signature": SIGNATURE,
    "retries": 3,
    "retry_interval": 60,
}


# --- UpdateFirmware -----------------------------------------------------------------------------


async def test_tc_l_01_a_signed_firmware_update_is_installed_and_every_step_stored(
    ocpp_server, station, db_call
):
    retrieve = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        log = await run("update_firmware", SIGNED | {"retrieve_date": ts(retrieve)})
        request_id = cs.received[0][1]["requestId"]
        steps = [
            await report_firmware(cs, db_call, status, request_id)
            for status in (
                "Downloading",
                "Downloaded",
                "SignatureVerified",
                "Installing",
                "InstallRebooting",
            )
        ]
    # The station reboots into the new firmware and says so.
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs, reason="FirmwareUpdate")
        steps.append(await report_firmware(cs, db_call, "Installed", request_id))

    assert cs.received == []
    assert log.payload == {
        "requestId": request_id,
        "firmware": {
            "location": FIRMWARE_URL,
            "retrieveDateTime": "2026-03-01T08:00:00.000Z",
            "signingCertificate": CERTIFICATE,
            "signature": SIGNATURE,
        },
        "retries": 3,
        "retryInterval": 60,
    }
    assert isinstance(request_id, int) and request_id > 0
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})
    assert steps == [
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]


async def test_tc_l_02_an_installation_date_is_sent_and_the_scheduled_install_stored(
    ocpp_server, station, db_call
):
    install = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        await run("update_firmware", SIGNED | {"install_date": ts(install)})
        sent = cs.received[0][1]
        await report_firmware(cs, db_call, "Downloaded", sent["requestId"])
        stored = await report_firmware(cs, db_call, "InstallScheduled", sent["requestId"])

    assert sent["firmware"]["installDateTime"] == ts(install).replace("Z", ".000Z")
    assert stored == "InstallScheduled"


async def test_tc_l_03_a_later_download_is_scheduled_and_stored(ocpp_server, station, db_call):
    later = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        log = await run("update_firmware", SIGNED | {"retrieve_date": ts(later)})
        stored = await report_firmware(
            cs, db_call, "DownloadScheduled", cs.received[0][1]["requestId"]
        )

    assert log.payload["firmware"]["retrieveDateTime"] == ts(later).replace("Z", ".000Z")
    assert stored == "DownloadScheduled"


@pytest.mark.parametrize(
    ("case", "answer"), [("L_04", "RevokedCertificate"), ("L_05", "InvalidCertificate")]
)
async def test_tc_l_04_05_a_refused_signing_certificate_is_logged_as_rejected(
    ocpp_server, station, case, answer
):
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        cs.answers["UpdateFirmware"] = answer
        log = await run("update_firmware", SIGNED)

    assert (log.status, log.response) == ("rejected", {"status": answer})


@pytest.mark.parametrize(
    ("case", "steps"),
    [
        ("L_06", ("Downloading", "Downloaded", "InvalidSignature")),
        ("L_07", ("Downloading", "DownloadFailed")),
        ("L_08", ("Downloading", "Downloaded", "SignatureVerified", "InstallVerificationFailed")),
        ("L_09", ("Downloaded", "SignatureVerified", "Installing", "InstallationFailed")),
    ],
)
async def test_tc_l_06_to_09_a_failed_update_is_stored_as_the_station_reports_it(
    ocpp_server, station, db_call, case, steps
):
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        await run("update_firmware", SIGNED)
        request_id = cs.received[0][1]["requestId"]
        stored = [await report_firmware(cs, db_call, status, request_id) for status in steps]

    assert stored == list(steps)


async def test_tc_l_10_a_new_update_that_cancels_the_running_one_counts_as_accepted(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        await run("update_firmware", SIGNED)
        first = cs.received[0][1]["requestId"]
        await report_firmware(cs, db_call, "Downloading", first)
        cs.answers["UpdateFirmware"] = "AcceptedCanceled"
        log = await run("update_firmware", SIGNED | {"location": FIRMWARE_URL + "?v=2"})
        second = cs.received[1][1]["requestId"]
        stored = await report_firmware(cs, db_call, "Downloading", second)

    assert first != second
    assert (log.status, log.response) == ("accepted", {"status": "AcceptedCanceled"})
    assert stored == "Downloading"


async def test_tc_l_11_an_update_that_cannot_cancel_the_running_one_is_rejected(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        await run("update_firmware", SIGNED)
        stored = await report_firmware(cs, db_call, "Installing", cs.received[0][1]["requestId"])
        cs.answers["UpdateFirmware"] = "Rejected"
        log = await run("update_firmware", SIGNED)
        after = (await db_call(ChargingStation.objects.get, ocpp_id=IDENTITY)).firmware_status

    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})
    # The refused update changes nothing of the one being installed.
    assert stored == after == "Installing"


async def test_tc_l_13_an_update_waits_for_the_running_transaction_which_goes_on(
    ocpp_server, station, db_call
):
    connector = await db_call(station.connectors.get, connector_id=1)
    session = await db_call(
        ChargingSessionFactory, station=station, connector=connector, transaction_id="tx-l13"
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        log = await run("update_firmware", SIGNED)
        request_id = cs.received[0][1]["requestId"]
        # AllowNewSessionsPendingFirmwareUpdate=false: the station installs after the transaction.
        stored = [
            await report_firmware(cs, db_call, status, request_id)
            for status in ("Downloading", "Downloaded", "SignatureVerified", "InstallScheduled")
        ]

    assert log.status == "accepted"
    assert stored[-1] == "InstallScheduled"
    assert (await db_call(ChargingSession.objects.get, pk=session.pk)).state == SessionState.ACTIVE


# --- PublishFirmware / UnpublishFirmware (local controllers) --------------------------------------


async def publish_status(cs, status, request_id, location=None):
    await cs.call(
        call.PublishFirmwareStatusNotification(
            status=status, request_id=request_id, location=location
        )
    )


def publications(station):
    return list(
        FirmwarePublication.objects.filter(station=station)
        .order_by("requested_at", "id")
        .values_list("checksum", "status", "published_locations", "unpublished_at")
    )


async def test_tc_l_17_published_firmware_is_kept_with_where_it_is_served(
    ocpp_server, station, db_call
):
    served = ["http://192.168.1.10/fw.bin", "ftp://192.168.1.10/fw.bin"]
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        log = await run(
            "publish_firmware",
            {"location": FIRMWARE_URL, "checksum": CHECKSUM, "retries": 2, "retry_interval": 30},
        )
        request_id = cs.received[0][1]["requestId"]
        for status in ("Downloading", "Downloaded", "ChecksumVerified"):
            await publish_status(cs, status, request_id)
        await publish_status(cs, "Published", request_id, served)

    assert cs.received == [
        (
            "PublishFirmware",
            {
                "location": FIRMWARE_URL,
                "checksum": CHECKSUM.lower(),
                "requestId": request_id,
                "retries": 2,
                "retryInterval": 30,
            },
        )
    ]
    assert log.status == "accepted"
    assert await db_call(publications, station) == [(CHECKSUM.lower(), "Published", served, None)]


@pytest.mark.parametrize(
    ("case", "steps"),
    [
        ("L_19", ("Downloading", "Downloaded", "InvalidChecksum")),
        ("L_20", ("Downloaded", "ChecksumVerified", "PublishFailed")),
        ("L_24", ("Downloading", "DownloadFailed")),
    ],
)
async def test_tc_l_19_20_24_a_failed_publication_is_stored_as_reported(
    ocpp_server, station, db_call, case, steps
):
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        await run("publish_firmware", {"location": FIRMWARE_URL, "checksum": CHECKSUM})
        request_id = cs.received[0][1]["requestId"]
        for status in steps:
            await publish_status(cs, status, request_id)

    assert await db_call(publications, station) == [(CHECKSUM.lower(), steps[-1], [], None)]


async def test_a_refused_publication_is_not_kept(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        cs.answers["PublishFirmware"] = "Rejected"
        log = await run("publish_firmware", {"location": FIRMWARE_URL, "checksum": CHECKSUM})

    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})
    assert await db_call(publications, station) == []


async def test_a_status_without_request_id_is_the_latest_publications(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        await run("publish_firmware", {"location": FIRMWARE_URL, "checksum": CHECKSUM})
        await cs.call(call.PublishFirmwareStatusNotification(status="Downloading"))

    assert await db_call(publications, station) == [(CHECKSUM.lower(), "Downloading", [], None)]


async def test_tc_l_21_unpublished_firmware_is_marked_so(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        await run("publish_firmware", {"location": FIRMWARE_URL, "checksum": CHECKSUM})
        await publish_status(cs, "Published", cs.received[0][1]["requestId"], [FIRMWARE_URL])
        log = await run("unpublish_firmware", {"checksum": CHECKSUM})

    assert cs.received[-1] == ("UnpublishFirmware", {"checksum": CHECKSUM.lower()})
    assert (log.status, log.response) == ("accepted", {"status": "Unpublished"})
    [(_, status, _, unpublished_at)] = await db_call(publications, station)
    assert status == "Published" and unpublished_at is not None


@pytest.mark.parametrize(("case", "answer"), [("L_22", "NoFirmware"), ("L_23", "DownloadOngoing")])
async def test_tc_l_22_23_firmware_the_controller_cannot_unpublish_stays_published(
    ocpp_server, station, db_call, case, answer
):
    async with connected_station201(ocpp_server, IDENTITY, cls=FirmwareStation) as cs:
        await booted(cs)
        await run("publish_firmware", {"location": FIRMWARE_URL, "checksum": CHECKSUM})
        cs.answers["UnpublishFirmware"] = answer
        log = await run("unpublish_firmware", {"checksum": CHECKSUM})

    assert (log.status, log.response) == ("rejected", {"status": answer})
    [(_, _, _, unpublished_at)] = await db_call(publications, station)
    assert unpublished_at is None


# --- Parameters and versions (no socket) --------------------------------------------------------


@pytest.fixture
def online(db, org):
    """A 2.0.1 station the database believes online (nothing must be sent)."""
    return ChargingStationFactory(
        organization=org, connection_state=ConnectionState.ONLINE, ocpp_version="ocpp2.0.1"
    )


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        (
            "update_firmware",
            {"location": FIRMWARE_URL, "signature": SIGNATURE},
            "signing_certificate",
        ),
        (
            "update_firmware",
            {"location": FIRMWARE_URL, "signing_certificate": CERTIFICATE},
            "signature",
        ),
        (
            "update_firmware",
            {
                "location": FIRMWARE_URL,
                "retrieve_date": "2026-03-02T00:00:00Z",
                "install_date": "2026-03-01T00:00:00Z",
            },
            "install_date",
        ),
        ("update_firmware", {"location": FIRMWARE_URL, "signature": "s" * 801}, "signature"),
        ("publish_firmware", {"location": FIRMWARE_URL, "checksum": "not-md5"}, "checksum"),
        ("publish_firmware", {"location": FIRMWARE_URL, "checksum": CHECKSUM + "0"}, "checksum"),
        ("publish_firmware", {"location": "not a location", "checksum": CHECKSUM}, "location"),
        ("unpublish_firmware", {}, "checksum"),
    ],
)
def test_invalid_parameters_are_field_errors(online, name, params, field):
    with pytest.raises(InvalidCommandParameters) as invalid:
        execute_command(online, name, params, actor=OWNER)

    assert set(invalid.value.errors) == {field}
    assert not CommandLog.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["signing_certificate", "install_date"])
def test_a_16_station_has_no_signed_or_scheduled_installation(org, field):
    station = ChargingStationFactory(
        organization=org, connection_state=ConnectionState.ONLINE, ocpp_version="ocpp1.6"
    )
    value = {"signing_certificate": CERTIFICATE, "install_date": "2030-01-01T00:00:00Z"}[field]

    with pytest.raises(InvalidCommandParameters) as invalid:
        execute_command(
            station, "update_firmware", {"location": FIRMWARE_URL, field: value}, actor=OWNER
        )

    assert invalid.value.errors == {
        field: ["Signed or scheduled installation is only for OCPP 2.0.1 stations."]
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["publish_firmware", "unpublish_firmware"])
def test_a_16_station_is_told_publication_is_only_for_201(org, name):
    station = ChargingStationFactory(
        organization=org, connection_state=ConnectionState.ONLINE, ocpp_version="ocpp1.6"
    )

    assert check_command(station, name, OWNER).reason == "Only for OCPP 2.0.1 stations."
