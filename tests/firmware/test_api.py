"""/api/v1/firmware-images/: uploads, validation, metadata changes, signed URLs, tenancy."""

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from firmware.models import FirmwareImage
from organizations.choices import Role
from tests.apiclients import client_as
from tests.firmware.factories_catalogue import PAYLOAD, make_image, signing_pair, upload

pytestmark = pytest.mark.django_db

IMAGES = "/api/v1/firmware-images/"


def create_url(org):
    return f"/api/v1/organizations/{org.pk}/firmware-images/"


def stored_files() -> set[Path]:
    return set((Path(settings.MEDIA_ROOT) / "firmware").glob("**/*.bin"))


@pytest.fixture
def image(org):
    return make_image(org)


def upload_data(**fields):
    return {"vendor": "ABB", "model": "Terra AC", "version": "2.0.0", "file": upload(), **fields}


def test_an_admin_uploads_an_image_by_multipart_and_gets_its_checksums(org):
    signature, certificate = signing_pair()
    data = upload_data(signature=signature, signing_certificate=certificate, release_notes="Fix")
    response = client_as(org, Role.ADMIN).post(create_url(org), data, format="multipart")
    assert response.status_code == 201, response.data
    body = response.json()
    assert body["size"] == len(PAYLOAD)
    assert body["sha256"] == hashlib.sha256(PAYLOAD).hexdigest()
    assert body["md5"] == hashlib.md5(PAYLOAD).hexdigest()
    assert body["has_signature"] is True
    assert body["organization"] == org.pk
    assert "file" not in body
    assert FirmwareImage.objects.for_org(org).get().release_notes == "Fix"


def test_the_organization_comes_from_the_url_never_from_the_body(org, other_org):
    data = upload_data(organization=other_org.pk)
    response = client_as(org, Role.ADMIN).post(create_url(org), data, format="multipart")
    assert response.status_code == 201
    assert FirmwareImage.objects.get().organization == org


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"signature": signing_pair()[0]}, "signing_certificate"),
        ({"signing_certificate": signing_pair()[1]}, "signature"),
        ({"signature": "@@not base64@@", "signing_certificate": signing_pair()[1]}, "signature"),
        ({"signature": signing_pair()[0], "signing_certificate": "nope"}, "signing_certificate"),
    ],
)
def test_a_bad_signature_or_certificate_is_a_400_naming_the_field_and_nothing_is_written(
    org, fields, field
):
    before = stored_files()
    response = client_as(org, Role.ADMIN).post(
        create_url(org), upload_data(**fields), format="multipart"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not FirmwareImage.objects.exists()
    assert stored_files() == before


def test_an_upload_without_a_file_is_a_400(org):
    data = upload_data()
    del data["file"]
    response = client_as(org, Role.ADMIN).post(create_url(org), data, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_a_version_the_catalogue_has_is_a_400(org, image):
    data = upload_data(vendor="abb", model="terra ac", version=image.version)
    response = client_as(org, Role.ADMIN).post(create_url(org), data, format="multipart")
    assert response.status_code == 400
    assert "version" in response.json()


def test_a_file_over_the_limit_is_a_400(org, settings):
    settings.FIRMWARE_MAX_UPLOAD_BYTES = 1024
    response = client_as(org, Role.ADMIN).post(create_url(org), upload_data(), format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_operators_and_viewers_may_not_upload(org, role):
    response = client_as(org, role).post(create_url(org), upload_data(), format="multipart")
    assert response.status_code == 403
    assert not FirmwareImage.objects.exists()


def test_a_viewer_lists_images_within_a_query_budget(org, django_assert_max_num_queries):
    for number in range(5):
        make_image(org, version=f"1.{number}")
    client = client_as(org, Role.VIEWER)
    with django_assert_max_num_queries(6):
        response = client.get(IMAGES)
    assert response.status_code == 200
    assert response.json()["count"] == 5


def test_the_list_filters_by_vendor_model_and_version_and_sorts(org):
    make_image(org)
    make_image(org, version="1.3.0")
    make_image(org, vendor="Alpitronic", model="HYC300", version="1.3.0")
    client = client_as(org, Role.VIEWER)
    found = client.get(IMAGES, {"vendor": "abb", "model": "TERRA AC", "version": "1.3.0"}).json()
    assert [row["version"] for row in found["results"]] == ["1.3.0"]
    assert found["results"][0]["vendor"] == "ABB"
    ordered = client.get(IMAGES, {"ordering": "-version,vendor"}).json()["results"]
    assert [(row["vendor"], row["version"]) for row in ordered] == [
        ("ABB", "1.3.0"),
        ("Alpitronic", "1.3.0"),
        ("ABB", "1.2.0"),
    ]


def test_an_admin_changes_release_notes_but_never_the_file_or_checksums(org, image):
    response = client_as(org, Role.ADMIN).patch(
        f"{IMAGES}{image.pk}/",
        {"release_notes": "Fixes meter drift.", "sha256": "0" * 64, "version": "6.6.6"},
        format="json",
    )
    assert response.status_code == 200
    image.refresh_from_db()
    assert image.release_notes == "Fixes meter drift."
    assert image.sha256 == hashlib.sha256(PAYLOAD).hexdigest()
    assert image.version == "1.2.0"


def test_an_operator_may_not_change_release_notes(org, image):
    response = client_as(org, Role.OPERATOR).patch(
        f"{IMAGES}{image.pk}/", {"release_notes": "x"}, format="json"
    )
    assert response.status_code == 403


def test_an_operator_gets_a_signed_download_url_that_serves_the_file(client, org, image):
    response = client_as(org, Role.OPERATOR).post(
        f"{IMAGES}{image.pk}/download-url/", {"hours": 3}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["url"].startswith(f"{settings.FIRMWARE_BASE_URL}/firmware/download/")
    lifetime = parse_datetime(body["expires_at"]) - timezone.now()
    assert timedelta(hours=2, minutes=59) < lifetime <= timedelta(hours=3)
    path = body["url"].removeprefix(settings.FIRMWARE_BASE_URL)
    assert b"".join(client.get(path).streaming_content) == PAYLOAD


def test_a_viewer_gets_no_download_url(org, image):
    response = client_as(org, Role.VIEWER).post(f"{IMAGES}{image.pk}/download-url/")
    assert response.status_code == 403


def test_a_download_url_of_zero_hours_is_a_400(org, image):
    response = client_as(org, Role.OPERATOR).post(
        f"{IMAGES}{image.pk}/download-url/", {"hours": 0}, format="json"
    )
    assert response.status_code == 400
    assert "hours" in response.json()


def test_an_admin_deletes_an_image(org, image, django_capture_on_commit_callbacks):
    path = Path(image.file.storage.path(image.file.name))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(org, Role.ADMIN).delete(f"{IMAGES}{image.pk}/")
    assert response.status_code == 204
    assert not FirmwareImage.objects.exists()
    assert not path.exists()


def test_an_outsider_sees_and_changes_nothing(org, other_org, image):
    outsider = client_as(other_org, Role.OWNER)
    assert outsider.get(IMAGES).json()["count"] == 0
    assert outsider.get(f"{IMAGES}{image.pk}/").status_code == 404
    assert outsider.patch(f"{IMAGES}{image.pk}/", {"release_notes": "x"}).status_code == 404
    assert outsider.delete(f"{IMAGES}{image.pk}/").status_code == 404
    assert outsider.post(f"{IMAGES}{image.pk}/download-url/").status_code == 404
    response = outsider.post(create_url(org), upload_data(), format="multipart")
    assert response.status_code == 404
    image.refresh_from_db()
    assert image.release_notes == ""
    assert FirmwareImage.objects.count() == 1
