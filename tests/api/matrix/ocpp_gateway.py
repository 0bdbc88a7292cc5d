"""Matrix rows of the OCPP gateway API: the command log."""

from ocpp_gateway.models import CommandLog
from organizations.choices import Role
from tests.api.matrix import Endpoint


def more_logs(world, n):
    CommandLog.objects.bulk_create(
        CommandLog(station=world.station, command="restart_station", action="Reset")
        for _ in range(n)
    )


ENDPOINTS = [
    Endpoint(
        "commandlog-list",
        "get",
        lambda w: "/api/v1/command-logs/",
        Role.VIEWER,
        ours=lambda w: w.command_log.pk,
        more=more_logs,
    ),
    Endpoint(
        "commandlog-detail",
        "get",
        lambda w: f"/api/v1/command-logs/{w.command_log.pk}/",
        Role.VIEWER,
    ),
]
