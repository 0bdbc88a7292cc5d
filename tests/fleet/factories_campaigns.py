"""Firmware images, stations and campaigns for the fleet tests."""

from django.core.files.uploadedfile import SimpleUploadedFile

from firmware.services import create_image
from fleet import services
from fleet.models import Campaign, CampaignStation
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.models import CommandLog
from stations.choices import ConnectionState, OcppVersion
from tests.factories import ChargingStationFactory, SiteFactory
from tests.firmware.factories_catalogue import signing_pair

PAYLOAD = b"\x7fELF wallbox firmware " + bytes(range(256)) * 4
VENDOR, MODEL, OLD, NEW = "ACME", "Wallbox X", "1.0.0", "2.0.0"


def make_image(organization, *, signed=False, **fields):
    """A stored image of `organization` for ACME Wallbox X, version 2.0.0 unless told."""
    fields = {"vendor": VENDOR, "model": MODEL, "version": NEW, **fields}
    if signed:
        fields["signature"], fields["signing_certificate"] = signing_pair(PAYLOAD)
    upload = SimpleUploadedFile("wallbox.bin", PAYLOAD, content_type="application/octet-stream")
    return create_image(organization=organization, file=upload, **fields)


def make_station(organization, *, online=True, site=None, **fields):
    """An ACME Wallbox X on 1.0.0 of `organization`, online unless told."""
    values = {
        "vendor": VENDOR,
        "model": MODEL,
        "firmware_version": OLD,
        "ocpp_version": OcppVersion.V16,
        "connection_state": ConnectionState.ONLINE if online else ConnectionState.OFFLINE,
        **fields,
    }
    if site is not None:
        values["site"] = site
    return ChargingStationFactory(organization=organization, connectors=1, **values)


def make_site(organization, time_zone="", **fields):
    return SiteFactory(organization=organization, time_zone=time_zone, **fields)


def make_campaign(organization, image, *, sites=(), stations=(), **fields):
    """A draft campaign of `organization` for `image` (any time of day unless told)."""
    values = {
        "name": "Wallbox 2.0",
        "image": image,
        "canary_percent": 10,
        "wave_size": 10,
        "failure_threshold": 20,
        **fields,
    }
    return services.create_campaign(organization, sites=sites, stations=stations, **values)


class FakeRunner:
    """Stands in for the gateway's execute_command: records the calls, answers as told."""

    def __init__(self):
        self.calls: list[tuple[str, str, dict]] = []
        self.answers: dict[str, str] = {}  # ocpp_id → CommandStatus; default accepted

    def __call__(self, station, name, params=None, *, actor):
        self.calls.append((station.ocpp_id, name, dict(params or {})))
        status = self.answers.get(station.ocpp_id, CommandStatus.ACCEPTED)
        response = {"status": "Rejected"} if status == CommandStatus.REJECTED else {}
        return CommandLog.objects.create(
            station=station,
            command=name,
            action="UpdateFirmware",
            payload=dict(params or {}),
            status=status,
            response=response if status != CommandStatus.OFFLINE else None,
            requested_via=actor.via,
        )

    @property
    def sent_to(self) -> list[str]:
        return [ocpp_id for ocpp_id, _name, _params in self.calls]


def rows(campaign) -> dict[str, CampaignStation]:
    """The campaign's per-station rows by OCPP identity."""
    return {
        row.station.ocpp_id: row
        for row in CampaignStation.objects.filter(campaign=campaign).select_related("station")
    }


def states(campaign) -> dict[str, str]:
    """Each station's state in the campaign, by OCPP identity."""
    return {ocpp_id: row.state for ocpp_id, row in rows(campaign).items()}


def fresh(campaign) -> Campaign:
    """The campaign as stored now."""
    return Campaign.objects.get(pk=campaign.pk)
