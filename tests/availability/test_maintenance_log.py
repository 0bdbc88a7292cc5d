"""The maintenance log: records, attachments, what is due, its portal pages and station panel."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from availability.models import (
    MaintenanceAttachment,
    MaintenanceRecord,
    MaintenanceWindow,
    MaintenanceWindowStation,
)
from availability.selectors import DueLine, maintenance_due
from availability.services import add_attachments, validate_attachment
from organizations.choices import Role
from stations.models import ChargingStation
from tests.availability.helpers import connection, status, utc
from tests.factories import ChargingStationFactory, SiteFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64
NOW = utc(2026, 6, 10, 10)


def png(name="meter.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name="report.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def record(station, **fields):
    values = {"kind": "inspection", "performed_at": utc(2026, 6, 1, 8)} | fields
    return MaintenanceRecord.objects.create(
        organization=station.organization, station=station, **values
    )


def attachment_of(rec, upload=None):
    (stored,) = add_attachments(rec, [upload or png()])
    return stored


# --- attachments ------------------------------------------------------------------------------


def test_an_attachment_keeps_its_name_size_and_the_type_its_bytes_prove(station):
    stored = attachment_of(record(station), pdf("Prüfbericht 2026.pdf"))

    assert (stored.original_name, stored.size, stored.content_type) == (
        "Prüfbericht 2026.pdf",
        len(PDF),
        "application/pdf",
    )
    assert stored.file.name.startswith("maintenance/")
    assert default_storage.exists(stored.file.name)


def test_a_file_that_is_not_an_image_or_pdf_is_refused_whatever_it_claims(station):
    fake = SimpleUploadedFile("photo.png", b"<svg onload=alert(1)>", content_type="image/png")

    with pytest.raises(ValidationError):
        validate_attachment(fake)


def test_a_file_over_the_size_limit_is_refused(station, settings):
    settings.MAINTENANCE_MAX_ATTACHMENT_BYTES = 1024
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * 2048, content_type="image/png")

    with pytest.raises(ValidationError):
        validate_attachment(big)


def test_one_refused_file_stores_none_of_the_others(station):
    rec = record(station)

    with pytest.raises(ValidationError):
        add_attachments(rec, [png(), SimpleUploadedFile("notes.txt", b"hello")])

    assert not MaintenanceAttachment.objects.exists()


def test_deleting_a_record_deletes_its_files_once_committed(
    station, django_capture_on_commit_callbacks
):
    rec = record(station)
    name = attachment_of(rec).file.name

    with django_capture_on_commit_callbacks(execute=True):
        rec.delete()

    assert not MaintenanceAttachment.objects.exists()
    assert not default_storage.exists(name)


# --- what is due ------------------------------------------------------------------------------


def test_the_due_overview_lists_overdue_stations_first_then_by_due_date(org):
    never = ChargingStationFactory(organization=org, ocpp_id="A-NEVER")
    later = ChargingStationFactory(organization=org, ocpp_id="B-LATER")
    overdue = ChargingStationFactory(organization=org, ocpp_id="C-OVERDUE")
    record(later, next_due=date(2026, 7, 1))
    record(overdue, next_due=date(2026, 6, 5))

    lines = maintenance_due(ChargingStation.objects.for_org(org), NOW)

    assert [line.station for line in lines] == [overdue, later, never]
    assert [line.overdue for line in lines] == [True, False, False]
    assert lines[0].days_left == -5


def test_only_the_latest_record_of_a_kind_says_when_it_is_due_again(org, station):
    record(station, performed_at=utc(2026, 1, 1), next_due=date(2026, 2, 1))
    # The inspection done since moved the due date on; a cleaning is due sooner.
    newest = record(station, performed_at=utc(2026, 6, 1), next_due=date(2027, 6, 1))
    cleaning = record(
        station, kind="cleaning", performed_at=utc(2026, 5, 1), next_due=date(2026, 9, 1)
    )

    (line,) = maintenance_due(ChargingStation.objects.for_org(org), NOW)

    assert line.last == newest
    assert (line.next_due, line.due_record) == (date(2026, 9, 1), cleaning)
    assert not line.overdue


def test_the_due_overview_shows_the_windows_to_come_that_cover_the_station(org, station):
    elsewhere = ChargingStationFactory(organization=org)
    window = MaintenanceWindow.objects.create(
        organization=org,
        station=station,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=2),
    )
    MaintenanceWindow.objects.create(
        organization=org,
        station=station,
        starts_at=NOW - timedelta(days=2),
        ends_at=NOW - timedelta(days=1),
    )

    lines = {
        line.station: line for line in maintenance_due(ChargingStation.objects.for_org(org), NOW)
    }

    assert lines[station].windows == [window]
    assert lines[elsewhere].windows == []


# --- uptime -----------------------------------------------------------------------------------


def test_a_window_that_set_the_station_inoperative_is_still_left_out_of_the_uptime(org):
    station = ChargingStationFactory(organization=org, connectors=1)
    connection(station, "online", utc(2026, 5, 1))
    status(station, 1, "Available", utc(2026, 5, 1))
    # ChangeAvailability Inoperative from the window: the connector reports Unavailable.
    MaintenanceWindow.objects.create(
        organization=org, station=station, starts_at=utc(2026, 5, 4, 8), ends_at=utc(2026, 5, 4, 12)
    )
    status(station, 1, "Unavailable", utc(2026, 5, 4, 8))
    status(station, 1, "Available", utc(2026, 5, 4, 12))

    response = portal_client(org).get(
        org_url(org, "availability/"), {"from": "2026-05-04", "to": "2026-05-04"}
    )

    assert response.context["total"]["uptime"] == 1.0
    assert response.context["total"]["unavailable_seconds"] == 0
    assert response.context["total"]["maintenance_seconds"] == 4 * 3600


# --- portal -----------------------------------------------------------------------------------


def record_body(station, **fields):
    return {
        "station": station.pk,
        "kind": "repair",
        "performed_at": "2026-06-01T10:00",
        "performed_by": "",
        "technician": "Elektro Müller GmbH",
        "part_replaced": "Contactor SN 4711",
        "notes": "Replaced after fault",
        "next_due": "2026-12-01",
        **fields,
    }


def test_an_operator_records_maintenance_with_several_files(org, station):
    client = portal_client(org, Role.OPERATOR)

    response = client.post(
        org_url(org, "availability/maintenance/records/add/"),
        record_body(station, attachments=[png(), pdf()]),
    )

    assert response.status_code == 302
    rec = MaintenanceRecord.objects.get()
    assert (rec.organization, rec.station, rec.kind) == (org, station, "repair")
    assert rec.performed_at == utc(2026, 6, 1, 8)  # 10:00 in Berlin
    assert rec.created_by is not None
    assert sorted(a.content_type for a in rec.attachments.all()) == ["application/pdf", "image/png"]
    assert response["Location"] == org_url(org, f"availability/maintenance/records/{rec.pk}/")


def test_a_record_with_a_refused_file_shows_the_error_and_writes_nothing(org, station):
    client = portal_client(org, Role.OPERATOR)

    response = client.post(
        org_url(org, "availability/maintenance/records/add/"),
        record_body(station, attachments=[png(), SimpleUploadedFile("a.exe", b"MZ\x90\x00")]),
    )

    assert response.status_code == 400
    assert "attachments" in response.context["form"].errors
    assert not MaintenanceRecord.objects.exists()
    assert not MaintenanceAttachment.objects.exists()


def test_a_record_for_another_organizations_station_is_refused(org, other_org, station):
    theirs = ChargingStationFactory(organization=other_org)

    response = portal_client(org, Role.OPERATOR).post(
        org_url(org, "availability/maintenance/records/add/"), record_body(theirs)
    )

    assert response.status_code == 400
    assert "station" in response.context["form"].errors


def test_a_viewer_reads_the_log_but_records_nothing(org, station):
    rec = record(station)
    client = portal_client(org, Role.VIEWER)

    assert client.get(org_url(org, "availability/maintenance/records/")).status_code == 200
    assert (
        client.get(org_url(org, f"availability/maintenance/records/{rec.pk}/")).status_code == 200
    )
    response = client.post(
        org_url(org, "availability/maintenance/records/add/"), record_body(station)
    )
    assert response.status_code == 403
    response = client.post(
        org_url(org, f"availability/maintenance/records/{rec.pk}/edit/"), record_body(station)
    )
    assert response.status_code == 403
    assert MaintenanceRecord.objects.count() == 1


def test_an_operator_edits_a_record_but_only_an_admin_deletes_it(org, station):
    rec = record(station)
    operator = portal_client(org, Role.OPERATOR)

    response = operator.post(
        org_url(org, f"availability/maintenance/records/{rec.pk}/edit/"),
        record_body(station, notes="Done"),
    )
    assert response.status_code == 302
    rec.refresh_from_db()
    assert rec.notes == "Done"
    assert (
        operator.post(
            org_url(org, f"availability/maintenance/records/{rec.pk}/delete/")
        ).status_code
        == 403
    )

    admin = portal_client(org, Role.ADMIN)
    assert (
        admin.post(org_url(org, f"availability/maintenance/records/{rec.pk}/delete/")).status_code
        == 302
    )
    assert not MaintenanceRecord.objects.exists()


def test_members_download_an_attachment_outsiders_and_anonymous_never(
    org, other_org, station, client
):
    rec = record(station)
    stored = attachment_of(rec)
    url = org_url(org, f"availability/maintenance/records/{rec.pk}/attachments/{stored.pk}/")

    response = portal_client(org, Role.VIEWER).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]

    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.get(url).status_code == 404
    # The outsider's own organization in the URL does not open it either.
    assert (
        outsider.get(
            org_url(
                other_org, f"availability/maintenance/records/{rec.pk}/attachments/{stored.pk}/"
            )
        ).status_code
        == 404
    )
    assert client.get(url).status_code == 302  # to the login page


def test_a_pdf_is_downloaded_as_a_file_not_shown_inline(org, station):
    rec = record(station)
    stored = attachment_of(rec, pdf())

    response = portal_client(org).get(
        org_url(org, f"availability/maintenance/records/{rec.pk}/attachments/{stored.pk}/")
    )

    assert response["Content-Disposition"].startswith("attachment;")


def test_an_attachment_is_only_found_under_its_own_record(org, station):
    stored = attachment_of(record(station))
    other = record(station)

    response = portal_client(org).get(
        org_url(org, f"availability/maintenance/records/{other.pk}/attachments/{stored.pk}/")
    )

    assert response.status_code == 404


def test_an_operator_removes_an_attachment_a_viewer_cannot(org, station):
    rec = record(station)
    stored = attachment_of(rec)
    url = org_url(org, f"availability/maintenance/records/{rec.pk}/attachments/{stored.pk}/delete/")

    assert portal_client(org, Role.VIEWER).post(url).status_code == 403
    assert portal_client(org, Role.OPERATOR).post(url).status_code == 302
    assert not MaintenanceAttachment.objects.exists()


def test_an_outsider_sees_and_changes_no_record(org, other_org, station):
    rec = record(station, notes="ours")
    outsider = portal_client(other_org, Role.OWNER)

    for path in ("", "edit/", "delete/"):
        url = org_url(other_org, f"availability/maintenance/records/{rec.pk}/{path}")
        assert outsider.get(url).status_code == 404
        if path:
            assert outsider.post(url, record_body(station, notes="theirs")).status_code == 404
    assert outsider.get(org_url(org, "availability/maintenance/records/")).status_code == 404
    assert outsider.get(org_url(org, "availability/maintenance/due/")).status_code == 404
    rec.refresh_from_db()
    assert rec.notes == "ours"


@pytest.mark.parametrize("role", ROLES)
def test_the_due_page_renders_for_every_role_with_overdue_said_in_words(org, station, role):
    record(station, next_due=date(2026, 6, 1))

    with time_machine.travel(NOW, tick=False):
        response = portal_client(org, role).get(org_url(org, "availability/maintenance/due/"))

    assert response.status_code == 200
    assert "Overdue by 9 days" in response.content.decode()


def test_the_due_page_filters_by_site_and_exports_csv(org):
    site = SiteFactory(organization=org)
    ChargingStationFactory(organization=org, site=site, ocpp_id="CS-HERE")
    ChargingStationFactory(organization=org, ocpp_id="CS-ELSEWHERE")
    client = portal_client(org)

    response = client.get(org_url(org, "availability/maintenance/due/"), {"site": site.pk})
    assert [line.station.ocpp_id for line in response.context["lines"]] == ["CS-HERE"]
    export = client.get(org_url(org, "availability/maintenance/due/export.csv"), {"site": site.pk})
    content = b"".join(export.streaming_content).decode()
    assert "CS-HERE" in content
    assert "CS-ELSEWHERE" not in content


def test_the_log_and_due_pages_keep_a_query_budget(org, django_assert_max_num_queries):
    for _ in range(8):
        station = ChargingStationFactory(organization=org)
        attachment_of(record(station, next_due=date(2026, 9, 1)))
        MaintenanceWindow.objects.create(
            organization=org, station=station, starts_at=NOW, ends_at=NOW + timedelta(days=1)
        )
    client = portal_client(org)

    with django_assert_max_num_queries(12):
        response = client.get(org_url(org, "availability/maintenance/records/"))
    assert len(response.context["records"]) == 8
    with django_assert_max_num_queries(12):
        response = client.get(org_url(org, "availability/maintenance/due/"))
    assert len(response.context["lines"]) == 8


def test_the_station_page_shows_its_maintenance_panel(org, station):
    rec = record(station, notes="x")
    attachment_of(rec, pdf("Befund.pdf"))

    content = (
        portal_client(org, Role.OPERATOR)
        .get(org_url(org, f"stations/{station.pk}/"))
        .content.decode()
    )

    assert 'id="station-maintenance"' in content
    assert "Befund.pdf" in content
    assert f"availability/maintenance/records/add/?station={station.pk}" in content


def test_the_window_page_shows_what_it_did_to_each_station(org, station, other_org):
    window = MaintenanceWindow.objects.create(
        organization=org, station=station, starts_at=NOW, ends_at=NOW + timedelta(hours=1)
    )
    MaintenanceWindowStation.objects.create(
        window=window, station=station, state="inoperative", last_outcome="accepted"
    )

    response = portal_client(org).get(org_url(org, f"availability/maintenance/{window.pk}/view/"))

    assert response.status_code == 200
    (row,) = response.context["window"].station_outcomes.all()
    assert row.state == "inoperative"
    assert "Inoperative" in response.content.decode()
    outsider = portal_client(other_org, Role.OWNER)
    assert (
        outsider.get(org_url(other_org, f"availability/maintenance/{window.pk}/view/")).status_code
        == 404
    )


def test_every_maintenance_page_renders_for_an_admin(org, station):
    rec = record(station)
    attachment_of(rec)
    window = MaintenanceWindow.objects.create(
        organization=org, station=station, starts_at=NOW, ends_at=NOW + timedelta(hours=1)
    )
    client = portal_client(org, Role.ADMIN)

    for path in (
        "availability/maintenance/",
        f"availability/maintenance/{window.pk}/",
        f"availability/maintenance/{window.pk}/view/",
        "availability/maintenance/records/add/",
        f"availability/maintenance/records/add/?station={station.pk}",
        f"availability/maintenance/records/{rec.pk}/",
        f"availability/maintenance/records/{rec.pk}/edit/",
        f"availability/maintenance/records/{rec.pk}/delete/",
    ):
        assert client.get(org_url(org, path)).status_code == 200, path


def test_files_are_added_to_an_existing_record_from_its_page(org, station):
    rec = record(station)

    response = portal_client(org, Role.OPERATOR).post(
        org_url(org, f"availability/maintenance/records/{rec.pk}/attachments/"),
        {"attachments": [png(), pdf()]},
    )

    assert response.status_code == 302
    assert rec.attachments.count() == 2


@pytest.mark.parametrize(
    ("due", "words"),
    [
        (date(2026, 6, 9), "Overdue by 1 day"),
        (date(2026, 6, 7), "Overdue by 3 days"),
        (date(2026, 6, 11), "Due in 1 day"),
        (date(2026, 6, 14), "Due in 4 days"),
    ],
)
def test_the_days_left_are_said_in_singular_or_plural(station, due, words):
    line = DueLine(station=station, next_due=due, today=date(2026, 6, 10))

    assert line.due_label == words


def test_uploading_without_a_file_says_so_and_adds_nothing(org, other_org, station):
    rec = record(station)
    url = org_url(org, f"availability/maintenance/records/{rec.pk}/attachments/")

    response = portal_client(org, Role.OPERATOR).post(url, {}, follow=True)

    page = response.content.decode()
    assert "Choose at least one file to upload." in page
    assert "Files added." not in page
    assert not MaintenanceAttachment.objects.exists()
    # An outsider posting a file to our record finds nothing.
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.post(url, {"attachments": png()}).status_code == 404
    assert not MaintenanceAttachment.objects.exists()
