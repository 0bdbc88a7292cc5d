"""The worked examples of docs/api.md, step by step, as a client would run them."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from organizations.choices import Role
from tests.apiclients import member
from tests.factories import USER_PASSWORD

pytestmark = pytest.mark.django_db


def test_the_worked_examples_of_the_api_guide_run_as_written(org, other_org):
    user = member((org, Role.OWNER))
    client = APIClient()

    # Authentication: a token from username and password.
    token = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": USER_PASSWORD}
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    organization = client.get("/api/v1/organizations/").json()["results"][0]["id"]
    assert organization == org.pk

    # Create a site and a station.
    site = client.post(
        f"/api/v1/organizations/{organization}/sites/",
        {
            "name": "Depot Nord",
            "street": "Hafenstraße 1",
            "postal_code": "20457",
            "city": "Hamburg",
            "country": "DE",
        },
        format="json",
    )
    assert site.status_code == 201, site.json()
    site = site.json()["id"]
    station = client.post(
        f"/api/v1/organizations/{organization}/stations/",
        {
            "ocpp_id": "HH-NORD-01",
            "site": site,
            "serial_number": "SN-4711",
            "password": "a-long-station-secret-2026",
        },
        format="json",
    )
    assert station.status_code == 201, station.json()

    # Add cards to an access group, one by hand and more from a spreadsheet.
    group = client.post(
        f"/api/v1/organizations/{organization}/access-groups/",
        {"name": "Fleet", "sites": [site]},
        format="json",
    )
    assert group.status_code == 201, group.json()
    group = group.json()["id"]
    card = client.post(
        f"/api/v1/organizations/{organization}/id-tokens/",
        {"uid": "04A1B2C3D4", "label": "Van 7", "holder_name": "Erika Muster"},
        format="json",
    )
    assert card.status_code == 201, card.json()
    added = client.post(
        f"/api/v1/access-groups/{group}/add-cards/", {"uids": ["04A1B2C3D4"]}, format="json"
    )
    assert added.status_code == 200, added.json()
    upload = SimpleUploadedFile(
        "cards.csv", b"uid,label,access_groups\n04FFEE01,Van 8,Fleet\n", content_type="text/csv"
    )
    imported = client.post(
        f"/api/v1/organizations/{organization}/id-tokens/import/",
        {"file": upload},
        format="multipart",
    )
    assert imported.status_code == 200, imported.json()
    assert client.get(f"/api/v1/access-groups/{group}/").json()["card_count"] == 2

    # Find yesterday's sessions, narrow them, export them.
    window = {"start_after": "2026-03-01T00:00:00Z", "start_before": "2026-03-02T00:00:00Z"}
    found = client.get("/api/v1/sessions/", {**window, "ordering": "start"})
    assert found.status_code == 200
    narrowed = client.get(
        "/api/v1/sessions/", {**window, "site": site, "id_tag": "04A1B2C3D4", "state": "completed"}
    )
    assert narrowed.status_code == 200
    export = client.get("/api/v1/sessions/", {**window, "format": "csv"})
    assert export.status_code == 200
    header = next(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert {"transaction_id", "ocpp_id", "id_tag", "start", "stop", "energy_wh"} <= set(header)

    # Start a session remotely. Connectors appear when the station reports them; here by hand.
    station_id = client.get("/api/v1/stations/", {"ocpp_id": "HH-NORD-01"}).json()["results"][0]
    connector = client.post(
        f"/api/v1/stations/{station_id['id']}/connectors/", {"connector_id": 1}, format="json"
    )
    assert connector.status_code == 201, connector.json()
    commands = client.get(f"/api/v1/stations/{station_id['id']}/commands/").json()
    assert "start_charging" in {command["command"] for command in commands}
    started = client.post(
        f"/api/v1/stations/{station_id['id']}/commands/",
        {"command": "start_charging", "id_tag": "04A1B2C3D4", "connector_id": 1},
        format="json",
    )
    # The station has never connected: refused as offline, with the reason.
    assert started.status_code == 409, started.json()
    assert "offline" in started.json()["detail"]
