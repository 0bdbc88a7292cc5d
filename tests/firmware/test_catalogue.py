"""The firmware catalogue's model and services: checksums, validation, storage, matching."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.storage import storages

from cms.env import firmware_storage
from firmware.models import FirmwareImage
from firmware.services import delete_image
from tests.factories import ChargingStationFactory
from tests.firmware.factories_catalogue import PAYLOAD, make_image, signing_pair

pytestmark = pytest.mark.django_db


def stored_path(image) -> Path:
    return Path(image.file.storage.path(image.file.name))


def test_an_upload_records_size_sha256_and_md5_of_the_file(org):
    image = make_image(org)
    assert image.size == len(PAYLOAD)
    assert image.sha256 == hashlib.sha256(PAYLOAD).hexdigest()
    assert image.md5 == hashlib.md5(PAYLOAD).hexdigest()
    assert image.original_name == "terra-ac.bin"


def test_an_upload_is_stored_under_media_root_firmware_by_default(org):
    image = make_image(org)
    path = stored_path(image)
    assert path.is_relative_to(Path(settings.MEDIA_ROOT) / "firmware" / str(org.pk))
    assert path.read_bytes() == PAYLOAD


def stored_files() -> set[Path]:
    return set((Path(settings.MEDIA_ROOT) / "firmware").glob("**/*.bin"))


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_stored(org, settings):
    settings.FIRMWARE_MAX_UPLOAD_BYTES = 1024
    before = stored_files()
    with pytest.raises(ValidationError) as raised:
        make_image(org)
    assert "file" in raised.value.message_dict
    assert not FirmwareImage.objects.exists()
    assert stored_files() == before


def test_a_signed_image_keeps_its_signature_and_certificate(org):
    signature, certificate = signing_pair()
    image = make_image(org, signature=signature, signing_certificate=certificate)
    assert image.has_signature
    assert image.signing_certificate.startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"signature": "only-a-signature"}, "signature"),
        ({"signature": signing_pair()[0]}, "signing_certificate"),
        ({"signing_certificate": signing_pair()[1]}, "signature"),
        ({"signature": "%%%not base64%%%", "signing_certificate": signing_pair()[1]}, "signature"),
        (
            {"signature": signing_pair()[0], "signing_certificate": "not a PEM"},
            "signing_certificate",
        ),
    ],
)
def test_a_bad_signature_or_certificate_is_refused_with_its_field_and_nothing_is_written(
    org, fields, field
):
    before = stored_files()
    with pytest.raises(ValidationError) as raised:
        make_image(org, **fields)
    assert field in raised.value.message_dict
    assert not FirmwareImage.objects.exists()
    assert stored_files() == before


def test_a_version_is_unique_per_vendor_and_model_in_any_case(org, other_org):
    make_image(org)
    with pytest.raises(ValidationError) as raised:
        make_image(org, vendor="abb", model="TERRA AC")
    assert "version" in raised.value.message_dict
    # Another organization, or another version, is free to have it.
    make_image(other_org)
    make_image(org, version="1.3.0")
    assert FirmwareImage.objects.for_org(org).count() == 2


def test_matching_finds_images_of_the_station_vendor_and_model_in_any_case(org, other_org):
    station = ChargingStationFactory(organization=org, vendor="abb", model="terra ac")
    fitting = make_image(org)
    make_image(org, model="Terra DC")
    make_image(other_org)
    assert list(FirmwareImage.objects.for_org(org).matching(station)) == [fitting]


def test_a_station_that_reported_no_model_matches_nothing(org):
    make_image(org)
    station = ChargingStationFactory(organization=org, vendor="ABB", model="")
    assert not FirmwareImage.objects.matching(station).exists()


def test_deleting_an_image_removes_its_file_once_the_deletion_commits(
    org, django_capture_on_commit_callbacks
):
    image = make_image(org)
    path = stored_path(image)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delete_image(image)
    assert path.exists(), "the file must outlive a deletion that could still roll back"
    for callback in callbacks:
        callback()
    assert not path.exists()
    assert not FirmwareImage.objects.exists()


def test_the_firmware_storage_alias_follows_the_settings(org, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "firmware": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    image = make_image(org)
    assert (tmp_path / image.file.name).read_bytes() == PAYLOAD
    assert storages["firmware"].exists(image.file.name)


def test_the_s3_storage_is_configured_from_its_variables():
    config = firmware_storage(
        "s3",
        bucket="fw",
        endpoint_url="http://minio:9000",
        region="eu-central-1",
        access_key_id="key",
        secret_access_key="secret",
        prefix="/firmware/",
        addressing_style="path",
    )
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    assert config["OPTIONS"] == {
        "bucket_name": "fw",
        "location": "firmware",
        "querystring_auth": False,
        "default_acl": None,
        "file_overwrite": False,
        "max_memory_size": 8 * 1024 * 1024,
        "addressing_style": "path",
        "endpoint_url": "http://minio:9000",
        "region_name": "eu-central-1",
        "access_key": "key",
        "secret_key": "secret",
    }


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("ftp", {}, "FIRMWARE_STORAGE"),
        ("s3", {}, "FIRMWARE_S3_BUCKET"),
        ("s3", {"bucket": "fw", "endpoint_url": "minio:9000"}, "FIRMWARE_S3_ENDPOINT_URL"),
        ("s3", {"bucket": "fw", "access_key_id": "key"}, "FIRMWARE_S3_SECRET_ACCESS_KEY"),
    ],
)
def test_a_bad_storage_configuration_stops_start_up_with_a_clear_error(kind, options, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        firmware_storage(kind, **options)
