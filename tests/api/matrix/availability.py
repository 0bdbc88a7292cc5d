"""Matrix rows of the availability API: the report, maintenance windows and the maintenance
log (records, their attachments, and what is due)."""

from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from availability.models import MaintenanceAttachment, MaintenanceRecord, MaintenanceWindow
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


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def new_record(world):
    return MaintenanceRecord.objects.create(
        organization=world.org,
        station=world.station,
        kind="inspection",
        notes="Matrix",
        performed_at=WHEN,
    )


def record_of(world):
    """The world's maintenance record (made on first use, and again after a DELETE)."""
    found = MaintenanceRecord.objects.filter(organization=world.org, notes="Matrix").first()
    return found or new_record(world)


def records_url(world):
    new_record(world)
    return "/api/v1/maintenance-records/"


def organization_records_url(world):
    new_record(world)
    return f"/api/v1/organizations/{world.org.pk}/maintenance-records/"


def record_url(world):
    return f"/api/v1/maintenance-records/{record_of(world).pk}/"


def more_records(world, n):
    for _ in range(n):
        record = new_record(world)
        MaintenanceAttachment.objects.create(
            record=record, file="maintenance/x.png", original_name="x.png", content_type="image/png"
        )


def attachment_url(world, suffix=""):
    record = record_of(world)
    attachment = record.attachments.first()
    if attachment is None:
        attachment = MaintenanceAttachment(
            record=record, original_name="x.png", size=len(PNG), content_type="image/png"
        )
        attachment.file.save("x.png", ContentFile(PNG), save=True)
    return f"/api/v1/maintenance-records/{record.pk}/attachments/{attachment.pk}/{suffix}"


def record_body(world):
    return {"station": world.station.pk, "kind": "cleaning", "performed_at": "2026-03-10T08:00:00Z"}


def more_due_stations(world, n):
    for _ in range(n):
        station = ChargingStationFactory(organization=world.org, site=world.site)
        MaintenanceRecord.objects.create(
            organization=world.org,
            station=station,
            kind="inspection",
            performed_at=WHEN,
            next_due=WHEN.date(),
        )


MAINTENANCE_LOG_ENDPOINTS = [
    Endpoint(
        "maintenancerecord-list",
        "get",
        records_url,
        Role.VIEWER,
        ours=lambda w: MaintenanceRecord.objects.filter(organization=w.org).earliest("pk").pk,
        more=more_records,
    ),
    Endpoint(
        "organization-maintenancerecord-list",
        "get",
        organization_records_url,
        Role.VIEWER,
        more=more_records,
    ),
    Endpoint(
        "organization-maintenancerecord-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/maintenance-records/",
        Role.OPERATOR,
        body=record_body,
        ok=(201,),
    ),
    Endpoint("maintenancerecord-detail", "get", record_url, Role.VIEWER),
    Endpoint("maintenancerecord-detail", "put", record_url, Role.OPERATOR, body=record_body),
    Endpoint(
        "maintenancerecord-detail",
        "patch",
        record_url,
        Role.OPERATOR,
        body=lambda w: {"technician": "Contractor"},
    ),
    Endpoint("maintenancerecord-detail", "delete", record_url, Role.ADMIN, ok=(204,)),
    Endpoint(
        "maintenancerecord-attachments",
        "post",
        lambda w: f"/api/v1/maintenance-records/{record_of(w).pk}/attachments/",
        Role.OPERATOR,
        body=lambda w: {"file": [SimpleUploadedFile("a.png", PNG, content_type="image/png")]},
        format="multipart",
        ok=(201,),
    ),
    Endpoint(
        "maintenancerecord-attachment-download",
        "get",
        lambda w: attachment_url(w, "download/"),
        Role.VIEWER,
    ),
    Endpoint("maintenancerecord-attachment", "delete", attachment_url, Role.OPERATOR, ok=(204,)),
    Endpoint(
        "maintenancedue-list",
        "get",
        lambda w: "/api/v1/maintenance-due/",
        Role.VIEWER,
        key="station",
        ours=lambda w: w.station.pk,
        more=more_due_stations,
    ),
]
ENDPOINTS += MAINTENANCE_LOG_ENDPOINTS
