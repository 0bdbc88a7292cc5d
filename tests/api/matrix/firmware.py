"""Matrix rows of the firmware API: the catalogue, uploads and signed download URLs."""

from firmware.models import FirmwareImage
from organizations.choices import Role
from tests.api.matrix import Endpoint
from tests.firmware.factories_catalogue import make_image, upload


def new_image(world):
    # A version not taken yet in the world's organization (the catalogue is unique by it).
    return make_image(world.org, version=f"9.{FirmwareImage.objects.count()}")


def image_of(world):
    """The world's firmware image (made on first use: build_world knows no firmware)."""
    found = FirmwareImage.objects.filter(organization=world.org, version="1.0-matrix").first()
    return found or make_image(world.org, version="1.0-matrix")


def image_url(world, suffix=""):
    return f"/api/v1/firmware-images/{image_of(world).pk}/{suffix}"


# A list's URL adds an image each time it is asked for: the same INSERT every call, so the
# query budget compares like with like (and the list has our image before it is called).
def images_url(world):
    new_image(world)
    return "/api/v1/firmware-images/"


def organization_images_url(world):
    new_image(world)
    return f"/api/v1/organizations/{world.org.pk}/firmware-images/"


def more_images(world, n):
    for _ in range(n):
        new_image(world)


def upload_body(world):
    # A new version each call: the matrix may post more than once.
    return {
        "vendor": "ABB",
        "model": "Terra AC",
        "version": f"2.{FirmwareImage.objects.count()}",
        "file": upload(),
    }


ENDPOINTS = [
    Endpoint(
        "firmwareimage-list",
        "get",
        images_url,
        Role.VIEWER,
        ours=lambda w: FirmwareImage.objects.filter(organization=w.org).earliest("pk").pk,
        more=more_images,
    ),
    Endpoint(
        "organization-firmwareimage-list",
        "get",
        organization_images_url,
        Role.VIEWER,
        more=more_images,
    ),
    Endpoint(
        "organization-firmwareimage-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/firmware-images/",
        Role.ADMIN,
        body=upload_body,
        format="multipart",
        ok=(201,),
    ),
    Endpoint("firmwareimage-detail", "get", image_url, Role.VIEWER),
    Endpoint(
        "firmwareimage-detail",
        "put",
        image_url,
        Role.ADMIN,
        body=lambda w: {"release_notes": "Fixes"},
    ),
    Endpoint(
        "firmwareimage-detail",
        "patch",
        image_url,
        Role.ADMIN,
        body=lambda w: {"release_notes": "Fixes"},
    ),
    Endpoint("firmwareimage-detail", "delete", image_url, Role.ADMIN, ok=(204,)),
    Endpoint(
        "firmwareimage-download-url",
        "post",
        lambda w: image_url(w, "download-url/"),
        Role.OPERATOR,
        body=lambda w: {},
        ok=(201,),
    ),
]
