"""The firmware catalogue in the Django admin: listed, notes editable, deletion takes the file."""

from pathlib import Path

import pytest

from firmware.models import FirmwareImage
from tests.admin.helpers import admin_url, changeform_data
from tests.firmware.factories_catalogue import make_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def image(org):
    return make_image(org)


def test_the_changelist_and_change_page_load(superuser_client, image):
    assert superuser_client.get(admin_url(FirmwareImage, "changelist")).status_code == 200
    response = superuser_client.get(admin_url(image, "change"))
    assert response.status_code == 200
    assert image.sha256.encode() in response.content


def test_support_staff_add_no_image_in_the_admin(superuser_client, db):
    assert superuser_client.get(admin_url(FirmwareImage, "add")).status_code == 403


def test_support_staff_change_release_notes_only(superuser_client, image):
    data = changeform_data(superuser_client.get(admin_url(image, "change")))
    data.update(release_notes="Hotfix", version="9.9.9")
    response = superuser_client.post(admin_url(image, "change"), data)
    assert response.status_code == 302
    image.refresh_from_db()
    assert (image.release_notes, image.version) == ("Hotfix", "1.2.0")


def test_deleting_in_the_admin_removes_the_file(
    superuser_client, image, django_capture_on_commit_callbacks
):
    path = Path(image.file.storage.path(image.file.name))
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(admin_url(image, "delete"), {"post": "yes"})
    assert response.status_code == 302
    assert not FirmwareImage.objects.exists()
    assert not path.exists()
