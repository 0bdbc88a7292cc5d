"""Matrix rows of the bulk commands API: one command to many stations, results per station."""

from ocpp_gateway.models import BulkCommand, BulkCommandResult
from organizations.choices import Role
from tests.api.matrix import Endpoint
from tests.factories import ChargingStationFactory


def new_bulk(world, station=None):
    bulk = BulkCommand.objects.create(organization=world.org, command="restart_station")
    BulkCommandResult.objects.create(bulk=bulk, station=station or world.station)
    return bulk


def bulk_of(world):
    """The world's first bulk command (made on first use: build_world knows none)."""
    return BulkCommand.objects.filter(organization=world.org).order_by("pk").first() or new_bulk(
        world
    )


# A list's URL adds a bulk command each time it is asked for: the same INSERTs every call,
# so the query budget compares like with like (and the list has our row before it is called).
def bulks_url(world):
    new_bulk(world)
    return "/api/v1/bulk-commands/"


def organization_bulks_url(world):
    new_bulk(world)
    return f"/api/v1/organizations/{world.org.pk}/bulk-commands/"


def more_bulks(world, n):
    for _ in range(n):
        new_bulk(world, ChargingStationFactory(organization=world.org, site=world.site))


def body(world):
    # The world's station is offline: its result is recorded as skipped, nothing is sent.
    return {"command": "clear_rfid_cache", "stations": [world.station.pk]}


ENDPOINTS = [
    Endpoint(
        "bulkcommand-list",
        "get",
        bulks_url,
        Role.VIEWER,
        ours=lambda w: bulk_of(w).pk,
        more=more_bulks,
    ),
    Endpoint(
        "bulkcommand-list",
        "post",
        lambda w: "/api/v1/bulk-commands/",
        Role.OPERATOR,
        body=body,
        ok=(201,),
        transactional=True,
        # The outsider's only organization is their own, which has no such station: the same
        # field error as an unknown id, and nothing is written.
        outsider_ok=(400,),
    ),
    Endpoint(
        "organization-bulkcommand-list",
        "get",
        organization_bulks_url,
        Role.VIEWER,
        more=more_bulks,
    ),
    Endpoint(
        "organization-bulkcommand-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/bulk-commands/",
        Role.OPERATOR,
        body=body,
        ok=(201,),
        transactional=True,
    ),
    Endpoint(
        "bulkcommand-detail",
        "get",
        lambda w: f"/api/v1/bulk-commands/{bulk_of(w).pk}/",
        Role.VIEWER,
    ),
]
