"""Matrix rows of the availability API: the report and maintenance windows."""

from datetime import timedelta

from availability.models import MaintenanceWindow
from organizations.choices import Role
from stations.models import StatusEvent
from tests.api.matrix import WHEN, Endpoint
from tests.factories import ChargingStationFactory

# March 2026, which holds the world's session; by station, the world's station is our row.
REPORT = "/api/v1/availability/?from=2026-03-01&to=2026-03-31&group=station"


def new_window(world):
    return MaintenanceWindow.objects.create(
        organization=world.org,
        station=world.station,
        reason="Matrix",
        starts_at=WHEN,
        ends_at=WHEN + timedelta(hours=2),
    )


def window_of(world):
    """The world's maintenance window (made on first use: build_world knows no availability)."""
    found = MaintenanceWindow.objects.filter(organization=world.org, reason="Matrix").first()
    return found or new_window(world)


# A list's URL adds a window each time it is asked for: one INSERT every call, so the query
# budget compares like with like.
def windows_url(world):
    new_window(world)
    return "/api/v1/maintenance-windows/"


def organization_windows_url(world):
    new_window(world)
    return f"/api/v1/organizations/{world.org.pk}/maintenance-windows/"


def window_url(world):
    return f"/api/v1/maintenance-windows/{window_of(world).pk}/"


def more_windows(world, n):
    for number in range(n):
        MaintenanceWindow.objects.create(
            organization=world.org,
            site=world.site,
            starts_at=WHEN + timedelta(days=number + 1),
            ends_at=WHEN + timedelta(days=number + 1, hours=1),
        )


def more_stations(world, n):
    # Each with a status history, so every query of the report has rows to read.
    for _ in range(n):
        station = ChargingStationFactory(organization=world.org, site=world.site)
        StatusEvent.objects.create(
            station=station, connector_number=1, status="Available", timestamp=WHEN
        )


def window_body(world):
    return {
        "starts_at": "2026-03-10T08:00:00Z",
        "ends_at": "2026-03-10T10:00:00Z",
        "station": world.station.pk,
        "reason": "Firmware update",
    }


ENDPOINTS = [
    Endpoint(
        "availability-list",
        "get",
        lambda w: REPORT,
        Role.VIEWER,
        key="station",
        ours=lambda w: w.station.pk,
        more=more_stations,
    ),
    Endpoint(
        "maintenancewindow-list",
        "get",
        windows_url,
        Role.VIEWER,
        ours=lambda w: MaintenanceWindow.objects.filter(organization=w.org).earliest("pk").pk,
        more=more_windows,
    ),
    Endpoint(
        "organization-maintenancewindow-list",
        "get",
        organization_windows_url,
        Role.VIEWER,
        more=more_windows,
    ),
    Endpoint(
        "organization-maintenancewindow-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/maintenance-windows/",
        Role.OPERATOR,
        body=window_body,
        ok=(201,),
    ),
    Endpoint("maintenancewindow-detail", "get", window_url, Role.VIEWER),
    Endpoint("maintenancewindow-detail", "put", window_url, Role.OPERATOR, body=window_body),
    Endpoint(
        "maintenancewindow-detail",
        "patch",
        window_url,
        Role.OPERATOR,
        body=lambda w: {"reason": "Cabling"},
    ),
    Endpoint("maintenancewindow-detail", "delete", window_url, Role.OPERATOR, ok=(204,)),
]
