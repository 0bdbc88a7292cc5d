"""The firmware pages: admins upload and delete, operators make links, viewers read."""

from unittest import mock

import pytest
from django.db.models import ProtectedError
from django.urls import reverse

from firmware.models import FirmwareImage
from organizations.choices import Role
from tests.factories import ChargingStationFactory, MembershipFactory, UserFactory
from tests.firmware.factories_catalogue import make_image, signing_pair, upload

pytestmark = pytest.mark.django_db


def url(name, org, **kwargs):
    return reverse(f"firmware:{name}", kwargs={"org": org.slug, **kwargs})


@pytest.fixture
def member_client(client, org):
    def login(role):
        user = UserFactory()
        MembershipFactory(user=user, organization=org, role=role)
        client.force_login(user)
        return client

    return login


@pytest.fixture
def image(org):
    return make_image(org)


def form_data(**fields):
    return {"vendor": "ABB", "model": "Terra AC", "version": "1.3.0", "file": upload(), **fields}


def test_the_list_shows_the_organizations_images_to_a_viewer(member_client, org, other_org):
    make_image(org)
    make_image(other_org, version="9.9.9")
    response = member_client(Role.VIEWER).get(url("image-list", org))
    assert response.status_code == 200
    assert [image.version for image in response.context["images"]] == ["1.2.0"]
    assert response.context["summary"].count == 1
    assert b"9.9.9" not in response.content


def test_the_list_filters_by_vendor_and_model_in_any_case(member_client, org):
    make_image(org)
    make_image(org, vendor="Alpitronic", model="HYC300", version="2.0")
    response = member_client(Role.VIEWER).get(url("image-list", org), {"vendor": "alpitronic"})
    assert [image.vendor for image in response.context["images"]] == ["Alpitronic"]
    assert response.context["summary"].filtered


def test_the_list_sorts_by_a_column(member_client, org):
    make_image(org, version="1.0", content=b"a" * 2000)
    make_image(org, version="2.0", content=b"b" * 1000)
    response = member_client(Role.VIEWER).get(url("image-list", org), {"ordering": "size"})
    assert [image.version for image in response.context["images"]] == ["2.0", "1.0"]


def test_an_admin_uploads_an_image_and_lands_on_its_page(member_client, org, admin_user):
    signature, certificate = signing_pair()
    data = form_data(signature=signature, signing_certificate=certificate)
    response = member_client(Role.ADMIN).post(url("image-add", org), data)
    image = FirmwareImage.objects.for_org(org).get()
    assert response.status_code == 302
    assert response.url == url("image-detail", org, pk=image.pk)
    assert image.has_signature
    assert image.uploaded_by is not None


def test_an_upload_with_a_signature_but_no_certificate_shows_the_error(member_client, org):
    data = form_data(signature=signing_pair()[0])
    response = member_client(Role.ADMIN).post(url("image-add", org), data)
    assert response.status_code == 400
    assert "signing_certificate" in response.context["form"].errors
    assert not FirmwareImage.objects.exists()


def test_an_upload_of_a_version_the_catalogue_has_shows_the_error(member_client, org, image):
    data = form_data(vendor="abb", version=image.version)
    response = member_client(Role.ADMIN).post(url("image-add", org), data)
    assert response.status_code == 400
    assert "version" in response.context["form"].errors
    assert FirmwareImage.objects.count() == 1


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_operators_and_viewers_may_not_upload(member_client, org, role):
    client = member_client(role)
    assert client.get(url("image-add", org)).status_code == 403
    assert client.post(url("image-add", org), form_data()).status_code == 403
    assert not FirmwareImage.objects.exists()


def test_the_detail_page_counts_matching_stations_and_those_on_this_version(
    member_client, org, other_org, image
):
    ChargingStationFactory(
        organization=org, vendor="abb", model="TERRA AC", firmware_version="1.2.0"
    )
    ChargingStationFactory(
        organization=org, vendor="ABB", model="Terra AC", firmware_version="1.1.0"
    )
    ChargingStationFactory(organization=org, vendor="ABB", model="Terra DC")
    ChargingStationFactory(organization=other_org, vendor="ABB", model="Terra AC")
    response = member_client(Role.VIEWER).get(url("image-detail", org, pk=image.pk))
    assert response.status_code == 200
    assert response.context["station_count"] == 2
    assert response.context["running_count"] == 1
    assert image.sha256.encode() in response.content
    assert image.md5.encode() in response.content


def test_an_operator_gets_a_fresh_download_link_on_the_detail_page(member_client, org, image):
    response = member_client(Role.OPERATOR).post(url("image-link", org, pk=image.pk))
    assert response.status_code == 200
    link = response.context["signed"].url
    assert "/firmware/download/" in link
    assert link.encode() in response.content


def test_a_viewer_gets_no_download_link(member_client, org, image):
    assert member_client(Role.VIEWER).post(url("image-link", org, pk=image.pk)).status_code == 403


def test_an_admin_deletes_an_image_after_confirming(member_client, org, image):
    client = member_client(Role.ADMIN)
    assert client.get(url("image-delete", org, pk=image.pk)).status_code == 200
    response = client.post(url("image-delete", org, pk=image.pk))
    assert response.status_code == 302
    assert response.url == url("image-list", org)
    assert not FirmwareImage.objects.exists()


def test_an_image_a_campaign_uses_is_not_deleted_and_the_admin_is_told(member_client, org, image):
    client = member_client(Role.ADMIN)
    refused = ProtectedError("used by a campaign", set())
    with mock.patch.object(FirmwareImage, "delete", side_effect=refused):
        response = client.post(url("image-delete", org, pk=image.pk), follow=True)
    assert FirmwareImage.objects.filter(pk=image.pk).exists()
    assert "firmware campaign" in " ".join(str(m) for m in response.context["messages"])


def test_an_operator_may_not_delete(member_client, org, image):
    assert (
        member_client(Role.OPERATOR).post(url("image-delete", org, pk=image.pk)).status_code == 403
    )
    assert FirmwareImage.objects.filter(pk=image.pk).exists()


def test_an_outsider_sees_and_changes_nothing(client, org, outsider_user, image):
    client.force_login(outsider_user)
    for name in ("image-detail", "image-delete", "image-link"):
        assert client.get(url(name, org, pk=image.pk)).status_code == 404
    assert client.post(url("image-delete", org, pk=image.pk)).status_code == 404
    assert client.get(url("image-list", org)).status_code == 404
    assert client.post(url("image-add", org), form_data()).status_code == 404
    # Not through the outsider's own organization either.
    other = outsider_user.memberships.get().organization
    assert client.get(url("image-detail", other, pk=image.pk)).status_code == 404
    assert client.post(url("image-delete", other, pk=image.pk)).status_code == 404
    assert FirmwareImage.objects.count() == 1
