"""Stations download firmware by signed URL: no login, expiring, unforgeable, byte-exact."""

import hashlib
import warnings
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.test import AsyncClient
from django.utils import timezone

from firmware.services import DOWNLOAD_SALT, delete_image, download_url, signed_download
from tests.firmware.factories_catalogue import PAYLOAD, make_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def image(org):
    return make_image(org)


def path_of(url: str) -> str:
    return urlsplit(url).path


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_download_url_is_absolute_on_the_platform_and_names_the_file(image, settings):
    settings.FIRMWARE_BASE_URL = "https://csms.example.com"
    url = download_url(image)
    assert url.startswith("https://csms.example.com/firmware/download/")
    assert url.endswith("/terra-ac.bin")


def test_two_download_urls_of_one_image_differ_from_any_guess(client, image):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = path_of(download_url(image))
        clock.shift(timedelta(seconds=5))
        second = path_of(download_url(image))
    # Signed at different times: two different URLs, and both open the image.
    assert first != second
    assert client.get(first).status_code == 200
    assert client.get(second).status_code == 200
    # Guesses open nothing: the image's id alone, or with a made-up signature.
    prefix, token, name = first.rsplit("/", 2)
    value = token.rsplit("~", 1)[0]
    for guess in (str(image.pk), f"{image.pk}.48", value, f"{value}~AAAAAAAAAAAAAAAAAAAAAAAAAAA"):
        assert client.get(f"{prefix}/{guess}/{name}").status_code == 404


def test_a_station_downloads_the_exact_bytes_without_logging_in(client, image):
    response = client.get(path_of(download_url(image)), HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    content = body(response)
    assert hashlib.sha256(content).hexdigest() == image.sha256
    assert response["Content-Length"] == str(len(PAYLOAD))
    assert response["Content-Type"] == "application/octet-stream"
    # Never compressed on the way: the station checks length and checksum of what it got.
    assert "Content-Encoding" not in response
    assert 'filename="terra-ac.bin"' in response["Content-Disposition"]


def test_head_answers_the_length_without_a_body(client, image):
    response = client.head(path_of(download_url(image)))
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(PAYLOAD))
    assert response.content == b""


def test_a_range_request_gets_only_those_bytes(client, image):
    response = client.get(path_of(download_url(image)), HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert body(response) == PAYLOAD[100:200]
    assert response["Content-Range"] == f"bytes 100-199/{len(PAYLOAD)}"


def test_a_range_beyond_the_file_is_refused(client, image):
    response = client.get(path_of(download_url(image)), HTTP_RANGE=f"bytes={len(PAYLOAD)}-")
    assert response.status_code == 416


def test_a_tampered_token_is_not_found(client, image):
    url = path_of(download_url(image))
    prefix, token, name = url.rsplit("/", 2)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = client.get(f"{prefix}/{tampered}/{name}")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")


def test_a_token_for_another_image_id_cannot_be_made_by_editing_it(client, org, image):
    other = make_image(org, version="2.0.0", content=b"other firmware" * 100)
    token = path_of(download_url(image)).split("/")[3]
    forged = token.replace(f"{image.pk}.", f"{other.pk}.", 1)
    assert client.get(f"/firmware/download/{forged}/x.bin").status_code == 404


def test_a_token_signed_for_something_else_opens_nothing(client, image):
    token = signing.TimestampSigner(salt="another.purpose", sep="~").sign(f"{image.pk}.48")
    assert client.get(f"/firmware/download/{token}/x.bin").status_code == 404
    # The firmware salt with a malformed value is no better.
    token = signing.TimestampSigner(salt=DOWNLOAD_SALT, sep="~").sign("not-an-id")
    assert client.get(f"/firmware/download/{token}/x.bin").status_code == 404


def test_an_expired_url_is_refused_with_403(client, image):
    url = path_of(download_url(image, hours=2))
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1)):
        response = client.get(url)
    assert response.status_code == 403
    assert b"expired" in response.content


def test_a_url_still_works_just_before_it_expires(client, image):
    signed = signed_download(image, hours=2)
    with time_machine.travel(signed.expires_at - timedelta(minutes=1)):
        assert client.get(path_of(signed.url)).status_code == 200


def test_a_deleted_image_is_not_found(client, image, django_capture_on_commit_callbacks):
    url = path_of(download_url(image))
    with django_capture_on_commit_callbacks(execute=True):
        delete_image(image)
    assert client.get(url).status_code == 404


def test_the_download_takes_no_post(client, image):
    assert client.post(path_of(download_url(image))).status_code == 405


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_file_streams_in_chunks_instead_of_being_read_whole_first(image):
    # The production servers are ASGI: Django reads a synchronous iterator into memory whole
    # (with a warning) before sending it, which a large image must not be.
    response = await AsyncClient().get(path_of(download_url(image)), headers={"Range": "bytes=5-"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        content = b"".join([chunk async for chunk in response])
    assert content == PAYLOAD[5:]
    assert not [warning for warning in caught if "must consume" in str(warning.message)]
