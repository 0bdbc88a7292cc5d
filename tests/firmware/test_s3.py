"""Firmware on an S3-compatible store: moto's server mode stands in for the bucket."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests
from django.core.files.storage import storages

from cms.env import firmware_storage
from firmware.services import delete_image, download_url
from tests.firmware.factories_catalogue import PAYLOAD, make_image

pytestmark = pytest.mark.django_db

BUCKET = "csms-firmware"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on a free loopback port, for the whole session."""
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS
        ).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    """The firmware alias configured as FIRMWARE_STORAGE=s3 and its variables would set it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "firmware": firmware_storage(
            "s3",
            bucket=BUCKET,
            endpoint_url=s3_endpoint,
            region="us-east-1",
            access_key_id=CREDENTIALS["aws_access_key_id"],
            secret_access_key=CREDENTIALS["aws_secret_access_key"],
            prefix="firmware",
            addressing_style="path",
        ),
    }
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)


def test_an_upload_lands_in_the_bucket_and_its_signed_url_streams_the_same_bytes(
    client, org, s3_storage, django_capture_on_commit_callbacks
):
    image = make_image(org)
    assert type(storages["firmware"]).__name__ == "S3Storage"
    key = f"firmware/{image.file.name}"
    stored = s3_storage.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert stored == PAYLOAD

    path = download_url(image).split("://", 1)[1].split("/", 1)[1]
    response = client.get(f"/{path}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PAYLOAD
    partial = client.get(f"/{path}", HTTP_RANGE="bytes=10-19")
    assert b"".join(partial.streaming_content) == PAYLOAD[10:20]

    with django_capture_on_commit_callbacks(execute=True):
        delete_image(image)
    listed = s3_storage.list_objects_v2(Bucket=BUCKET, Prefix=key)
    assert listed.get("KeyCount", 0) == 0


def test_a_download_from_the_bucket_reads_only_the_range_asked_for(
    client, org, s3_storage, monkeypatch
):
    image = make_image(org)

    def whole_object_copy(self, name, mode="rb"):
        raise AssertionError("S3File copies the whole object to a temporary file first")

    # storage.open would go through S3File; the download must ask the bucket for the range.
    monkeypatch.setattr(type(storages["firmware"]), "_open", whole_object_copy)
    path = download_url(image).split("://", 1)[1].split("/", 1)[1]
    partial = client.get(f"/{path}", HTTP_RANGE="bytes=100-")
    assert partial.status_code == 206
    assert b"".join(partial.streaming_content) == PAYLOAD[100:]
