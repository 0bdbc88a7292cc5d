"""Firmware campaigns end to end: 1.6 and 2.0.1 stations on real sockets, the tick run by hand."""

from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from fleet import services
from fleet.choices import CampaignState, CampaignStationState
from fleet.models import Campaign, CampaignStation
from stations.choices import ConnectionState, OcppVersion
from tests.factories import ChargingSessionFactory
from tests.fleet.factories_campaigns import (
    MODEL,
    NEW,
    VENDOR,
    make_campaign,
    make_image,
    make_station,
)
from tests.ocpp_gateway.conftest import (
    Station,
    Station201,
    connected_station,
    connected_station201,
    until,
)

State = CampaignStationState


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Station16(Station):
    """A 1.6 station that accepts UpdateFirmware and remembers what it was sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.updates: list[dict] = []

    async def _handle_call(self, msg):
        if msg.action == "UpdateFirmware":
            self.updates.append(msg.payload)
        return await super()._handle_call(msg)

    @on(Action16.update_firmware)
    def on_update_firmware(self, **_):
        return result16.UpdateFirmware()

    async def install(self, version: str):
        """Report the update's progress as a 1.6 station does, rebooting into `version`."""
        for status in ("Downloading", "Downloaded", "Installing"):
            await self.call(call16.FirmwareStatusNotification(status=status))
        await self.call(
            call16.BootNotification(
                charge_point_vendor=VENDOR, charge_point_model=MODEL, firmware_version=version
            )
        )
        await self.call(call16.FirmwareStatusNotification(status="Installed"))


class Station2(Station201):
    """A 2.0.1 station that accepts UpdateFirmware and remembers what it was sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.updates: list[dict] = []

    async def _handle_call(self, msg):
        if msg.action == "UpdateFirmware":
            self.updates.append(msg.payload)
        return await super()._handle_call(msg)

    @on(Action201.update_firmware)
    def on_update_firmware(self, **_):
        return result201.UpdateFirmware(status="Accepted")

    async def report(self, *statuses):
        request_id = self.updates[-1]["requestId"]
        for status in statuses:
            await self.call(
                call201.FirmwareStatusNotification(status=status, request_id=request_id)
            )

    async def install(self, version: str):
        """Report the update's progress as a 2.0.1 station does, rebooting into `version`."""
        await self.report("Downloading", "Downloaded", "SignatureVerified", "Installing")
        await self.report("InstallRebooting")
        await self.call(
            call201.BootNotification(
                charging_station={
                    "model": MODEL,
                    "vendor_name": VENDOR,
                    "firmware_version": version,
                },
                reason="FirmwareUpdate",
            )
        )
        await self.report("Installed")


async def tick():
    """The beat task's work, in a thread of its own as a Celery worker would run it."""

    def work():
        try:
            services.advance_campaigns()
        finally:
            connections.close_all()

    await sync_to_async(work, thread_sensitive=False)()


def snapshot(campaign_id):
    campaign = Campaign.objects.get(pk=campaign_id)
    rows = {
        row.station.ocpp_id: (row.state, row.version_after)
        for row in CampaignStation.objects.filter(campaign=campaign).select_related("station")
    }
    return campaign.state, rows


async def test_a_failing_canary_pauses_the_campaign_before_the_rest_is_sent(
    ocpp_server, db_call, org
):
    def build():
        image = make_image(org)
        for ocpp_id, version in (("FAIL-A", OcppVersion.V201), ("FAIL-B", OcppVersion.V16)):
            make_station(org, ocpp_id=ocpp_id, online=False, ocpp_version=version)
        campaign = make_campaign(org, image, canary_percent=50, wave_size=1, failure_threshold=0)
        services.launch_campaign(campaign)
        return campaign.pk

    campaign_id = await db_call(build)
    async with (
        connected_station201(ocpp_server, "FAIL-A", cls=Station2) as canary,
        connected_station(ocpp_server, "FAIL-B", cls=Station16) as rest,
    ):
        await until(
            lambda: (
                CampaignStation.objects.filter(
                    campaign_id=campaign_id, station__connection_state=ConnectionState.ONLINE
                ).count()
                == 2
            ),
            db_call,
        )
        await tick()
        assert len(canary.updates) == 1
        await canary.report("Downloading", "DownloadFailed")
        await until(
            lambda: Campaign.objects.filter(pk=campaign_id, state=CampaignState.PAUSED).exists(),
            db_call,
        )
        await tick()

    state, rows = await db_call(snapshot, campaign_id)
    campaign = await db_call(Campaign.objects.get, pk=campaign_id)
    assert state == CampaignState.PAUSED
    assert "1 of 1 stations of the canary wave failed" in campaign.pause_reason
    assert rows == {"FAIL-A": (State.FAILED, ""), "FAIL-B": (State.PENDING, "")}
    assert rest.updates == []


async def test_a_campaign_reaches_every_station_waits_for_the_charging_one_and_confirms_at_boot(
    ocpp_server, db_call, org
):
    def build():
        image = make_image(org, signed=True)
        make_station(org, ocpp_id="OK-A16", online=False)
        make_station(org, ocpp_id="OK-B201", online=False, ocpp_version=OcppVersion.V201)
        busy = make_station(org, ocpp_id="OK-C16", online=False)
        session = ChargingSessionFactory(station=busy)
        campaign = make_campaign(org, image, canary_percent=30, wave_size=2)
        services.launch_campaign(campaign)
        return campaign.pk, image, int(session.transaction_id)

    campaign_id, image, transaction_id = await db_call(build)
    async with (
        connected_station(ocpp_server, "OK-A16", cls=Station16) as a16,
        connected_station201(ocpp_server, "OK-B201", cls=Station2) as b201,
        connected_station(ocpp_server, "OK-C16", cls=Station16) as busy,
    ):
        await until(
            lambda: (
                CampaignStation.objects.filter(
                    campaign_id=campaign_id, station__connection_state=ConnectionState.ONLINE
                ).count()
                == 3
            ),
            db_call,
        )
        # The canary wave: one station of three.
        await tick()
        assert (len(a16.updates), len(b201.updates), len(busy.updates)) == (1, 0, 0)
        await a16.install(NEW)
        await until(
            lambda: Campaign.objects.filter(pk=campaign_id, current_wave=1).exists(), db_call
        )

        # The second wave: the charging station waits.
        await tick()
        assert (len(b201.updates), len(busy.updates)) == (1, 0)
        await b201.install(NEW)
        await tick()
        assert busy.updates == []

        # Its session ends: it is sent the update at the next tick.
        await busy.call(
            call16.StopTransaction(meter_stop=1000, timestamp=now(), transaction_id=transaction_id)
        )
        await tick()
        assert len(busy.updates) == 1
        await busy.install(NEW)
        await until(
            lambda: Campaign.objects.filter(pk=campaign_id, state=CampaignState.COMPLETED).exists(),
            db_call,
        )

    state, rows = await db_call(snapshot, campaign_id)
    assert state == CampaignState.COMPLETED
    assert rows == {
        "OK-A16": (State.CONFIRMED, NEW),
        "OK-B201": (State.CONFIRMED, NEW),
        "OK-C16": (State.CONFIRMED, NEW),
    }
    # A fresh signed URL of the platform; the signature only for the 2.0.1 station.
    assert a16.updates[0]["location"].startswith(settings.FIRMWARE_BASE_URL + "/")
    assert "signature" not in a16.updates[0]
    firmware = b201.updates[0]["firmware"]
    assert (firmware["signature"], firmware["signingCertificate"]) == (
        image.signature,
        image.signing_certificate,
    )
