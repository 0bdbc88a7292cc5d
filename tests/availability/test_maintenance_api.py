"""API: maintenance records with attachments, what is due, windows' per-station outcomes."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from availability.models import (
    MaintenanceAttachment,
    MaintenanceRecord,
    MaintenanceWindow,
    MaintenanceWindowStation,
)
from organizations.choices import Role
from tests.apiclients import client_as, client_for, key_client, member
from tests.availability.helpers import utc
from tests.factories import ChargingStationFactory, SiteFactory, make_api_key

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
RECORDS = "/api/v1/maintenance-records/"


def create_url(org) -> str:
    return f"/api/v1/organizations/{org.pk}/maintenance-records/"


def record(station, **fields):
    values = {"kind": "inspection", "performed_at": utc(2026, 6, 1, 8)} | fields
    return MaintenanceRecord.objects.create(
        organization=station.organization, station=station, **values
    )


def upload(client, rec, *files):
    return client.post(f"{RECORDS}{rec.pk}/attachments/", {"file": list(files)}, format="multipart")


def png(name="photo.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def test_an_operator_records_maintenance_for_the_organization_in_the_url(org, station):
    user = member((org, Role.OPERATOR))

    response = client_for(user).post(
        create_url(org),
        {
            "station": station.pk,
            "kind": "part_replaced",
            "performed_at": "2026-06-01T08:00:00Z",
            "performed_by": user.pk,
            "part_replaced": "RFID reader SN 123",
            "next_due": "2027-06-01",
            "organization": 999,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    rec = MaintenanceRecord.objects.get()
    assert (rec.organization, rec.performed_by, rec.created_by) == (org, user, user)
    assert response.json()["attachments"] == []


def test_bad_input_answers_400_with_field_errors_and_writes_nothing(org, other_org, station):
    theirs = ChargingStationFactory(organization=other_org)
    stranger = member((other_org, Role.OWNER))

    response = client_as(org, Role.OPERATOR).post(
        create_url(org),
        {
            "station": theirs.pk,
            "kind": "polishing",
            "performed_by": stranger.pk,
        },
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) >= {"station", "kind", "performed_by"}
    assert not MaintenanceRecord.objects.exists()


def test_a_next_due_before_the_maintenance_itself_is_refused(org, station):
    response = client_as(org, Role.OPERATOR).post(
        create_url(org),
        {
            "station": station.pk,
            "kind": "cleaning",
            "performed_at": "2026-06-01T08:00:00Z",
            "next_due": "2026-05-01",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "next_due" in response.json()


def test_viewers_read_operators_change_and_only_admins_delete(org, station):
    rec = record(station)
    url = f"{RECORDS}{rec.pk}/"

    viewer = client_as(org, Role.VIEWER)
    assert viewer.get(url).status_code == 200
    assert viewer.patch(url, {"notes": "x"}, format="json").status_code == 403
    operator = client_as(org, Role.OPERATOR)
    assert operator.patch(url, {"notes": "Cleaned"}, format="json").status_code == 200
    assert operator.delete(url).status_code == 403
    assert client_as(org, Role.ADMIN).delete(url).status_code == 204
    assert not MaintenanceRecord.objects.exists()


def test_an_outsider_finds_no_record_and_changes_nothing(org, other_org, station):
    rec = record(station, notes="ours")
    stored = MaintenanceAttachment.objects.none()
    outsider = client_as(other_org, Role.OWNER)
    url = f"{RECORDS}{rec.pk}/"

    assert outsider.get(url).status_code == 404
    assert outsider.patch(url, {"notes": "theirs"}, format="json").status_code == 404
    assert outsider.delete(url).status_code == 404
    assert upload(outsider, rec, png()).status_code == 404
    assert outsider.get(RECORDS).json()["results"] == []
    rec.refresh_from_db()
    assert rec.notes == "ours"
    assert not stored.exists()


def test_files_are_uploaded_to_a_record_and_downloaded_by_members_only(org, other_org, station):
    rec = record(station)

    response = upload(client_as(org, Role.OPERATOR), rec, png("a.png"), png("b.png"))

    assert response.status_code == 201, response.json()
    first = response.json()[0]
    assert (first["original_name"], first["content_type"]) == ("a.png", "image/png")
    download = client_as(org, Role.VIEWER).get(first["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert client_as(other_org, Role.OWNER).get(first["download_url"]).status_code == 404
    anonymous = client_for(None)
    assert anonymous.get(first["download_url"]).status_code == 401


def test_a_refused_file_is_a_400_on_file_and_stores_nothing(org, station, settings):
    settings.MAINTENANCE_MAX_ATTACHMENT_BYTES = 1024
    rec = record(station)
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * 4096, content_type="image/png")
    text = SimpleUploadedFile("notes.pdf", b"not a pdf", content_type="application/pdf")

    response = upload(client_as(org, Role.OPERATOR), rec, png(), big, text)

    assert response.status_code == 400
    assert len(response.json()["file"]) == 2
    assert not MaintenanceAttachment.objects.exists()


def test_a_viewer_cannot_upload_or_remove_a_file(org, station):
    rec = record(station)
    stored = MaintenanceAttachment.objects.create(
        record=rec, file="maintenance/x.png", original_name="x.png", content_type="image/png"
    )
    viewer = client_as(org, Role.VIEWER)

    assert upload(viewer, rec, png()).status_code == 403
    assert viewer.delete(f"{RECORDS}{rec.pk}/attachments/{stored.pk}/").status_code == 403
    response = client_as(org, Role.OPERATOR).delete(f"{RECORDS}{rec.pk}/attachments/{stored.pk}/")
    assert response.status_code == 204
    assert not MaintenanceAttachment.objects.exists()


def test_records_filter_by_site_kind_and_date(org, station):
    site = SiteFactory(organization=org)
    elsewhere = ChargingStationFactory(organization=org, site=site)
    wanted = record(elsewhere, kind="repair", performed_at=utc(2026, 6, 2))
    record(elsewhere, kind="cleaning", performed_at=utc(2026, 6, 2))
    record(station, kind="repair", performed_at=utc(2026, 6, 2))
    record(elsewhere, kind="repair", performed_at=utc(2026, 5, 1))

    response = client_as(org).get(
        RECORDS, {"site": site.pk, "kind": "repair", "performed_after": "2026-06-01T00:00:00Z"}
    )

    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


def test_the_records_list_keeps_a_query_budget(org, django_assert_max_num_queries):
    for _ in range(10):
        rec = record(ChargingStationFactory(organization=org))
        MaintenanceAttachment.objects.create(
            record=rec, file="maintenance/x.png", original_name="x.png", content_type="image/png"
        )
    client = client_as(org)

    with django_assert_max_num_queries(8):
        response = client.get(RECORDS)
    assert len(response.json()["results"]) == 10


def test_an_api_key_records_maintenance_without_naming_a_person(org, station):
    _key, secret = make_api_key(org, Role.OPERATOR)

    response = key_client(secret).post(
        create_url(org), {"station": station.pk, "kind": "inspection"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert MaintenanceRecord.objects.get().created_by is None


def test_the_due_endpoint_lists_overdue_stations_first(org, other_org):
    later = ChargingStationFactory(organization=org, ocpp_id="A-LATER")
    overdue = ChargingStationFactory(organization=org, ocpp_id="B-OVERDUE")
    ChargingStationFactory(organization=other_org, ocpp_id="THEIRS")
    today = timezone.localdate()
    record(later, performed_at=timezone.now(), next_due=today + timedelta(days=30))
    record(overdue, performed_at=timezone.now() - timedelta(days=400), next_due=date(2020, 1, 1))

    response = client_as(org).get("/api/v1/maintenance-due/")

    rows = response.json()["results"]
    assert [row["ocpp_id"] for row in rows] == ["B-OVERDUE", "A-LATER"]
    assert [row["overdue"] for row in rows] == [True, False]
    assert rows[0]["next_due_record"]["kind"] == "inspection"


def test_the_due_endpoint_keeps_a_query_budget(org, django_assert_max_num_queries):
    for _ in range(10):
        station = ChargingStationFactory(organization=org)
        record(station, next_due=date(2026, 9, 1))
    client = client_as(org)

    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/maintenance-due/")
    assert len(response.json()["results"]) == 10


def test_a_window_answers_set_inoperative_and_its_stations_outcomes(org, station):
    window = MaintenanceWindow.objects.create(
        organization=org, station=station, starts_at=utc(2026, 6, 1), ends_at=utc(2026, 6, 2)
    )
    MaintenanceWindowStation.objects.create(
        window=window, station=station, state="inoperative", last_outcome="accepted"
    )

    body = client_as(org).get(f"/api/v1/maintenance-windows/{window.pk}/").json()

    assert body["set_inoperative"] is True
    assert [(row["ocpp_id"], row["state"]) for row in body["stations"]] == [
        (station.ocpp_id, "inoperative")
    ]


def test_a_window_created_without_set_inoperative_sets_its_stations_inoperative(org):
    response = client_as(org, Role.OPERATOR).post(
        f"/api/v1/organizations/{org.pk}/maintenance-windows/",
        {"starts_at": "2026-06-01T08:00:00Z", "ends_at": "2026-06-01T10:00:00Z"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["set_inoperative"] is True
    assert response.json()["stations"] == []


def test_the_windows_list_with_outcomes_keeps_a_query_budget(org, django_assert_max_num_queries):
    for _ in range(10):
        station = ChargingStationFactory(organization=org)
        window = MaintenanceWindow.objects.create(
            organization=org, station=station, starts_at=utc(2026, 6, 1), ends_at=utc(2026, 6, 2)
        )
        MaintenanceWindowStation.objects.create(window=window, station=station)
    client = client_as(org)

    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/maintenance-windows/")
    assert len(response.json()["results"]) == 10
