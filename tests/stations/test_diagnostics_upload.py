"""Diagnostics files: stations upload by token (PUT or POST), operators download them."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from core.tokens import new_token, token_hash
from ocpp_gateway.remote.forms import CommandForm
from ocpp_gateway.remote.registry import Actor, execute_command, get_command
from ocpp_gateway.remote.views import offer_upload_location
from organizations.choices import Role
from stations.diagnostics import (
    MAX_FILES_PER_REQUEST,
    UploadLocationTaken,
    open_upload_location,
    token_in_location,
    upload_url,
)
from stations.models import DiagnosticsFile, DiagnosticsRequest
from tests.apiclients import client_as
from tests.factories import ChargingStationFactory
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

BYTES = b"\x00diagnostics\r\nline 2\xff" * 100


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DIAGNOSTICS_BASE_URL = "https://csms.example"


def opened(station, **kwargs):
    """A fresh upload location of the station, opened as the command would open it."""
    location = upload_url(station, new_token())
    request = open_upload_location(station, location, command="get_diagnostics", **kwargs)
    return location, request


def path_of(location: str) -> str:
    return location.removeprefix("https://csms.example")


def stored_bytes(upload: DiagnosticsFile) -> bytes:
    with upload.file.open("rb") as handle:
        return handle.read()


def download_url(upload: DiagnosticsFile) -> str:
    return org_url(
        upload.station.organization, f"stations/{upload.station_id}/diagnostics/{upload.pk}/"
    )


def test_a_put_of_the_raw_body_stores_the_same_bytes(station):
    location, request = opened(station)
    response = Client().put(path_of(location), BYTES, content_type="application/octet-stream")
    assert response.status_code == 201
    upload = DiagnosticsFile.objects.get()
    assert (upload.station, upload.request, upload.size) == (station, request, len(BYTES))
    assert stored_bytes(upload) == BYTES
    assert upload.file.name.startswith("diagnostics/")


def test_a_put_names_the_file_after_the_urls_tail(station):
    location, _request = opened(station)
    Client().put(path_of(location) + "CS-1_diag.zip", BYTES, content_type="application/zip")
    assert DiagnosticsFile.objects.get().original_name == "CS-1_diag.zip"


def test_a_multipart_post_stores_the_same_bytes(station):
    location, request = opened(station)
    response = Client().post(path_of(location), {"file": SimpleUploadedFile("diag.tar.gz", BYTES)})
    assert response.status_code == 201
    upload = DiagnosticsFile.objects.get()
    assert (upload.original_name, upload.request, stored_bytes(upload)) == (
        "diag.tar.gz",
        request,
        BYTES,
    )


def test_a_raw_post_stores_the_same_bytes(station):
    location, _request = opened(station)
    response = Client().post(
        path_of(location),
        BYTES,
        content_type="application/octet-stream",
        headers={"Content-Disposition": 'attachment; filename="log.txt"'},
    )
    assert response.status_code == 201
    upload = DiagnosticsFile.objects.get()
    assert (upload.original_name, stored_bytes(upload)) == ("log.txt", BYTES)


def test_an_expired_location_is_refused_and_stores_nothing(station):
    location, request = opened(station)
    DiagnosticsRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = Client().put(path_of(location), BYTES, content_type="application/octet-stream")
    assert response.status_code == 403
    assert not DiagnosticsFile.objects.exists()


def test_a_token_the_portal_offered_but_never_sent_is_unknown(station):
    # A token only opens once the command goes out: the form alone opens nothing.
    location = upload_url(station, new_token())
    response = Client().put(path_of(location), BYTES, content_type="application/octet-stream")
    assert response.status_code == 404
    assert not DiagnosticsFile.objects.exists()


def test_a_token_under_another_station_is_refused(org, station):
    location, _request = opened(station)
    other = ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    foreign = path_of(location).replace(f"/stations/{station.pk}/", f"/stations/{other.pk}/")
    response = Client().put(foreign, BYTES, content_type="application/octet-stream")
    assert response.status_code == 404
    assert not DiagnosticsFile.objects.exists()


def test_a_token_under_another_organization_is_refused(org, other_org, station):
    location, _request = opened(station)
    foreign = path_of(location).replace(f"/o/{org.slug}/", f"/o/{other_org.slug}/")
    response = Client().put(foreign, BYTES, content_type="application/octet-stream")
    assert response.status_code == 404
    assert not DiagnosticsFile.objects.exists()


def test_a_get_of_the_upload_location_is_not_allowed(station):
    location, _request = opened(station)
    assert Client().get(path_of(location)).status_code == 405


def test_an_upload_larger_than_the_limit_is_refused(settings, station):
    settings.DIAGNOSTICS_MAX_UPLOAD_BYTES = 1024
    location, _request = opened(station)
    response = Client().put(path_of(location), BYTES, content_type="application/octet-stream")
    assert response.status_code == 413
    assert not DiagnosticsFile.objects.exists()


def test_one_location_takes_a_bounded_number_of_files(station):
    location, _request = opened(station)
    client = Client()
    answers = [
        client.put(path_of(location), b"x", content_type="text/plain").status_code
        for _ in range(MAX_FILES_PER_REQUEST + 1)
    ]
    assert answers == [201] * MAX_FILES_PER_REQUEST + [403]


def test_one_multipart_post_cannot_carry_more_files_than_the_location_takes(station):
    location, _request = opened(station)
    files = {
        f"file{n}": SimpleUploadedFile(f"part{n}.log", b"x")
        for n in range(MAX_FILES_PER_REQUEST + 1)
    }
    assert Client().post(path_of(location), files).status_code == 403
    assert not DiagnosticsFile.objects.exists()


def test_an_edited_location_with_a_guessable_token_opens_nothing(station):
    location = upload_url(station, "a")
    assert token_in_location(station, location) is None
    assert open_upload_location(station, location) is None
    assert not DiagnosticsRequest.objects.exists()


def test_a_name_with_nothing_usable_in_it_is_stored_all_the_same(station):
    location, _request = opened(station)
    response = Client().put(path_of(location) + "..", BYTES, content_type="text/plain")
    assert response.status_code == 201
    assert stored_bytes(DiagnosticsFile.objects.get()) == BYTES


def test_a_file_whose_row_cannot_be_written_leaves_nothing_in_the_storage(
    station, monkeypatch, settings
):
    location, _request = opened(station)

    def refuse(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("stations.diagnostics.emit", refuse)
    with pytest.raises(RuntimeError):
        Client().put(path_of(location), BYTES, content_type="text/plain")
    assert not DiagnosticsFile.objects.exists()
    assert not any(p.is_file() for p in settings.MEDIA_ROOT.rglob("*"))


@pytest.mark.django_db(transaction=True)
def test_deleting_a_station_deletes_its_stored_files(station, settings):
    location, _request = opened(station)
    Client().put(path_of(location), BYTES, content_type="text/plain")
    stored = DiagnosticsFile.objects.get().file.path
    assert settings.MEDIA_ROOT in Path(stored).parents
    station.delete()
    assert not Path(stored).exists()


def test_the_token_itself_is_not_stored(station):
    location, request = opened(station)
    token = token_in_location(station, location)
    assert request.token_hash == token_hash(token)
    assert token not in request.token_hash


def test_a_location_elsewhere_opens_nothing(station):
    assert open_upload_location(station, "ftp://files.example/diag/") is None
    assert not DiagnosticsRequest.objects.exists()


def test_another_stations_token_cannot_be_opened_for_this_one(org, station):
    location, _request = opened(station)
    token = token_in_location(station, location)
    other = ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    with pytest.raises(UploadLocationTaken):
        open_upload_location(other, upload_url(other, token))


def test_sending_the_same_location_again_keeps_it_open_longer(station):
    location, request = opened(station)
    DiagnosticsRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now())
    again = open_upload_location(station, location)
    assert again.pk == request.pk
    assert again.expires_at > timezone.now() + timedelta(hours=1)


# --- download ----------------------------------------------------------------------------------


def uploaded(station) -> DiagnosticsFile:
    location, _request = opened(station)
    Client().put(path_of(location) + "diag.log", BYTES, content_type="text/plain")
    return DiagnosticsFile.objects.get()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN, Role.OWNER])
def test_an_operator_downloads_the_same_bytes(org, station, role):
    upload = uploaded(station)
    response = portal_client(org, role).get(download_url(upload))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == BYTES
    assert 'attachment; filename="diag.log"' in response["Content-Disposition"]


def test_a_viewer_may_not_download(org, station):
    upload = uploaded(station)
    assert portal_client(org, Role.VIEWER).get(download_url(upload)).status_code == 403


def test_an_outsider_gets_404(org, other_org, station):
    upload = uploaded(station)
    response = portal_client(other_org, Role.OWNER).get(download_url(upload))
    assert response.status_code == 404
    # Nor through the outsider's own organization's address.
    theirs = f"/o/{other_org.slug}/stations/{station.pk}/diagnostics/{upload.pk}/"
    assert portal_client(other_org, Role.OWNER).get(theirs).status_code == 404


def test_a_file_of_another_station_is_404_under_this_one(org, station):
    upload = uploaded(station)
    other = ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    url = org_url(org, f"stations/{other.pk}/diagnostics/{upload.pk}/")
    assert portal_client(org, Role.OWNER).get(url).status_code == 404


def test_a_download_needs_a_login(station):
    upload = uploaded(station)
    response = Client().get(download_url(upload))
    assert response.status_code == 302
    assert "login" in response["Location"]


# --- the command form --------------------------------------------------------------------------


def test_the_get_diagnostics_form_offers_a_fresh_upload_location_of_the_station(org, station):
    spec = get_command("get_diagnostics")
    first = CommandForm(spec, station, connectors=[])
    second = CommandForm(spec, station, connectors=[])
    offer_upload_location(first, station)
    offer_upload_location(second, station)
    locations = first.fields["location"].initial, second.fields["location"].initial
    assert all(token_in_location(station, location) for location in locations)
    assert locations[0] != locations[1]
    # Offered only: nothing may upload there until the command is sent.
    assert not DiagnosticsRequest.objects.exists()


# --- API -----------------------------------------------------------------------------------------


def api_url(station, tail=""):
    return f"/api/v1/stations/{station.pk}/diagnostics/{tail}"


def test_the_api_lists_the_stations_files_for_a_viewer(org, station, django_assert_max_num_queries):
    upload = uploaded(station)
    other = ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    DiagnosticsFile.objects.create(station=other, file="diagnostics/o.log", original_name="o.log")
    client = client_as(org, Role.VIEWER)
    with django_assert_max_num_queries(8):
        response = client.get(api_url(station))
    assert response.status_code == 200
    rows = [
        (row["id"], row["original_name"], row["size"], row["command"])
        for row in response.data["results"]
    ]
    assert rows == [(upload.pk, "diag.log", len(BYTES), "get_diagnostics")]


def test_the_api_download_gives_an_operator_the_same_bytes(org, station):
    upload = uploaded(station)
    response = client_as(org, Role.OPERATOR).get(api_url(station, f"{upload.pk}/"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == BYTES


def test_the_api_download_is_refused_to_a_viewer(org, station):
    upload = uploaded(station)
    assert client_as(org, Role.VIEWER).get(api_url(station, f"{upload.pk}/")).status_code == 403


def test_the_api_answers_an_outsider_404(org, other_org, station):
    upload = uploaded(station)
    outsider = client_as(other_org, Role.OWNER)
    assert outsider.get(api_url(station)).status_code == 404
    assert outsider.get(api_url(station, f"{upload.pk}/")).status_code == 404


def test_the_api_answers_a_file_of_another_station_404(org, station):
    upload = uploaded(station)
    other = ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    response = client_as(org, Role.OWNER).get(api_url(other, f"{upload.pk}/"))
    assert response.status_code == 404


# --- the commands open the location they send ---------------------------------------------------


@pytest.mark.parametrize(
    ("command", "version", "module"),
    [
        ("get_diagnostics", "ocpp1.6", "maintenance"),
        ("get_log", "ocpp2.0.1", "monitoring"),
        ("get_log", "ocpp1.6", "monitoring"),
    ],
)
def test_sending_get_diagnostics_or_get_log_opens_the_upload_location(
    monkeypatch, org, command, version, module
):
    station = ChargingStationFactory(
        organization=org, ocpp_version=version, connection_state="online"
    )
    sent = []
    monkeypatch.setattr(
        f"ocpp_gateway.remote.{module}.send", lambda ctx, name, intent: sent.append(intent)
    )
    location = upload_url(station, new_token())
    execute_command(station, command, {"location": location}, actor=Actor(role=Role.ADMIN))
    request = DiagnosticsRequest.objects.get()
    assert (request.station, request.command) == (station, command)
    assert request.token_hash == token_hash(token_in_location(station, location))
    assert sent[0].location == location


def test_sending_elsewhere_opens_nothing(monkeypatch, org):
    station = ChargingStationFactory(organization=org, connection_state="online")
    monkeypatch.setattr("ocpp_gateway.remote.maintenance.send", lambda ctx, name, intent: None)
    execute_command(
        station,
        "get_diagnostics",
        {"location": "ftp://files.example/diag/"},
        actor=Actor(role=Role.ADMIN),
    )
    assert not DiagnosticsRequest.objects.exists()
