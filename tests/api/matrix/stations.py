"""Matrix rows of the stations API: stations, their commands and raw OCPP calls."""

from organizations.choices import Role
from tests.api.matrix import Endpoint
from tests.factories import ChargingStationFactory


def more_stations(world, n):
    for _ in range(n):
        ChargingStationFactory(organization=world.org, site=world.site)


def station_url(suffix=""):
    return lambda w: f"/api/v1/stations/{w.station.pk}/{suffix}"


ENDPOINTS = [
    Endpoint(
        "station-list",
        "get",
        lambda w: "/api/v1/stations/",
        Role.VIEWER,
        ours=lambda w: w.station.pk,
        more=more_stations,
    ),
    Endpoint("station-detail", "get", station_url(), Role.VIEWER),
    Endpoint("station-commands", "get", station_url("commands/"), Role.VIEWER),
    Endpoint(
        "station-commands",
        "post",
        station_url("commands/"),
        Role.OPERATOR,
        body=lambda w: {"command": "restart_station"},
        # The world's station is offline: the role check passed, the station state refused.
        ok=(409,),
    ),
    Endpoint(
        "station-ocpp-calls",
        "post",
        station_url("ocpp-calls/"),
        Role.ADMIN,
        body=lambda w: {"action": "Reset", "payload": {"type": "Soft"}},
        ok=(409,),
        transactional=True,
    ),
]
